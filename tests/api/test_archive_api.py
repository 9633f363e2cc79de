"""Archiving prompts, datasets and suites: who may, what stops serving, what is kept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.db import Database
from promptlane_client import APIError, AsyncClient
from prompts.policy import Role
from tests.api.gates import ITEMS, PROMPT, push_suite, run_suite, version
from tests.conftest import READER_KEY, auth

SUITE = "triage-quality"
DATASET = "tickets"
ECHO_MODEL = "offline/echo"
VARIABLES = {"company": "Acme", "ticket": "t"}


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A prompt with v1 on staging and production, a dataset and a suite on it."""
    dataset = await client.post(f"/v1/datasets/{DATASET}/versions", json={"items": ITEMS})
    assert dataset.status_code == 201, dataset.text
    await push_suite(client)
    assert (
        await client.post(f"/v1/prompts/{PROMPT}/versions", json=version(ECHO_MODEL))
    ).is_success
    for label in ("staging", "production"):
        moved = await client.put(f"/v1/prompts/{PROMPT}/labels/{label}", json={"version": 1})
        assert moved.status_code == 200, moved.text
    return client


async def archive(
    client: httpx.AsyncClient, kind: str, name: str, role: Role = Role.WRITER, **body: Any
) -> httpx.Response:
    return await client.post(f"/v1/{kind}/{name}/archive", json=body, headers=auth(role))


def assert_archived_problem(response: httpx.Response, kind: str, name: str) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == f"{kind.capitalize()} archived"
    assert f"{kind} {name!r} is archived" in problem["detail"]
    assert f"promptlane {kind}s restore {name}" in problem["detail"]


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prompts", "datasets", "suites"])
async def test_a_reader_can_neither_archive_nor_restore(
    seeded: httpx.AsyncClient, kind: str
) -> None:
    name = {"prompts": PROMPT, "datasets": DATASET, "suites": SUITE}[kind]
    assert (await archive(seeded, kind, name, Role.READER)).status_code == 403
    assert (await archive(seeded, kind, name, Role.WRITER)).status_code == 200
    restore = await seeded.post(f"/v1/{kind}/{name}/restore", headers=auth(Role.READER))
    assert restore.status_code == 403
    listed = (await seeded.get(f"/v1/{kind}", params={"archived": True})).json()
    assert [item["name"] for item in listed["items"]] == [name]  # still archived


async def test_archiving_twice_restoring_twice_and_unknown_names_are_refused(
    seeded: httpx.AsyncClient,
) -> None:
    assert (await archive(seeded, "prompts", PROMPT)).status_code == 200
    again = await archive(seeded, "prompts", PROMPT)
    assert again.status_code == 409
    assert again.json()["detail"] == f"prompt {PROMPT!r} is already archived"
    assert (await seeded.post(f"/v1/prompts/{PROMPT}/restore")).status_code == 200
    twice = await seeded.post(f"/v1/prompts/{PROMPT}/restore")
    assert twice.status_code == 409
    assert twice.json()["detail"] == f"prompt {PROMPT!r} is not archived"
    for kind in ("prompts", "datasets", "suites"):
        assert (await archive(seeded, kind, "no/such")).status_code == 404


# --- what stops serving --------------------------------------------------------------------


async def test_an_archived_prompt_is_not_resolved_even_from_the_fast_path(
    app: Any, seeded: httpx.AsyncClient
) -> None:
    reader = auth(Role.READER)
    for _ in range(2):  # the second answer comes from the resolve cache, via the fast path
        assert (await seeded.get(f"/v1/prompts/{PROMPT}", headers=reader)).status_code == 200
    assert app.state.services.metrics.fetches.hits[(PROMPT, "production", None)] >= 1
    archived = await archive(seeded, "prompts", PROMPT, reason="superseded")
    assert archived.status_code == 200, archived.text
    event = archived.json()
    assert (event["kind"], event["name"], event["action"]) == ("prompt", PROMPT, "archive")
    assert (event["actor"], event["actor_role"], event["reason"]) == (
        "test-writer",
        "writer",
        "superseded",
    )
    for params in ({}, {"label": "staging"}, {"version": 1}, {"label": "latest"}):
        response = await seeded.get(f"/v1/prompts/{PROMPT}", params=params, headers=reader)
        assert_archived_problem(response, "prompt", PROMPT)
    render = await seeded.post(
        f"/v1/prompts/{PROMPT}/render", json={"variables": VARIABLES}, headers=reader
    )
    assert_archived_problem(render, "prompt", PROMPT)


async def test_the_gateway_refuses_an_archived_prompt(seeded: httpx.AsyncClient) -> None:
    body = {"model": f"promptlane/{PROMPT}", "promptlane": {"variables": VARIABLES}}
    reader = auth(Role.READER)
    # The first call verifies the key; the second takes the gateway fast path.
    for _ in range(2):
        served = await seeded.post("/v1/chat/completions", json=body, headers=reader)
        assert served.status_code == 200, served.text
    models = (await seeded.get("/v1/models", headers=reader)).json()["data"]
    assert f"promptlane/{PROMPT}" in {m["id"] for m in models}
    assert (await archive(seeded, "prompts", PROMPT)).status_code == 200
    refused = await seeded.post("/v1/chat/completions", json=body, headers=reader)
    assert refused.status_code == 404, refused.text
    error = refused.json()["error"]
    assert error["code"] == "model_not_found"
    assert "is archived" in error["message"]
    models = (await seeded.get("/v1/models", headers=reader)).json()["data"]
    assert not any(m["id"].startswith(f"promptlane/{PROMPT}") for m in models)


async def test_the_client_gets_a_404_for_an_archived_prompt(
    app: Any, seeded: httpx.AsyncClient
) -> None:
    assert (await archive(seeded, "prompts", PROMPT)).status_code == 200
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("http://promptlane.test", READER_KEY, transport=transport) as client:
        with pytest.raises(APIError) as caught:
            await client.get_prompt(PROMPT)
    assert caught.value.status == 404
    assert "is archived" in caught.value.detail


async def test_archived_things_leave_lists_and_come_back_listed_apart(
    seeded: httpx.AsyncClient,
) -> None:
    names = {"prompts": PROMPT, "datasets": DATASET, "suites": SUITE}
    for kind, name in names.items():
        assert (await archive(seeded, kind, name)).status_code == 200
        assert (await seeded.get(f"/v1/{kind}")).json()["items"] == []
        listed = (await seeded.get(f"/v1/{kind}", params={"archived": "true"})).json()
        assert [(i["name"], i["archived_at"] is not None) for i in listed["items"]] == [
            (name, True)
        ]
    assert_archived_problem(await seeded.get(f"/v1/datasets/{DATASET}"), "dataset", DATASET)
    assert_archived_problem(await seeded.get(f"/v1/suites/{SUITE}"), "suite", SUITE)


# --- what is kept --------------------------------------------------------------------------


async def test_history_and_runs_stay_readable_and_a_restore_brings_it_all_back(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    run = await run_suite(seeded, db, version=1)
    for kind, name in (("prompts", PROMPT), ("datasets", DATASET), ("suites", SUITE)):
        assert (await archive(seeded, kind, name)).status_code == 200
    reader = auth(Role.READER)
    readable = [
        f"/v1/runs/{run['id']}",
        f"/v1/runs/{run['id']}/items",
        f"/v1/prompts/{PROMPT}/versions",
        f"/v1/prompts/{PROMPT}/versions/1",
        f"/v1/prompts/{PROMPT}/labels",
        f"/v1/prompts/{PROMPT}/labels/production/history",
        f"/v1/datasets/{DATASET}/versions",
        f"/v1/datasets/{DATASET}/versions/1",
        f"/v1/suites/{SUITE}/versions",
        f"/v1/suites/{SUITE}/versions/1",
    ]
    for path in readable:
        assert (await seeded.get(path, headers=reader)).status_code == 200, path
    runs = (await seeded.get("/v1/runs", params={"prompt": PROMPT}, headers=reader)).json()
    assert [r["id"] for r in runs["items"]] == [run["id"]]
    for kind, name in (("prompts", PROMPT), ("datasets", DATASET), ("suites", SUITE)):
        assert (await seeded.post(f"/v1/{kind}/{name}/restore")).status_code == 200
    resolved = await seeded.get(f"/v1/prompts/{PROMPT}", headers=reader)
    assert resolved.status_code == 200
    assert resolved.json()["labels"] == ["production", "staging"]
    prompt = (await seeded.get("/v1/prompts")).json()["items"][0]
    assert (prompt["labels"], prompt["archived_at"]) == ({"production": 1, "staging": 1}, None)
    again = await seeded.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1})
    assert again.status_code == 202, again.text


# --- what is refused until a restore -------------------------------------------------------


async def test_an_archived_prompt_cannot_be_changed_moved_or_run(
    seeded: httpx.AsyncClient,
) -> None:
    assert (await archive(seeded, "prompts", PROMPT)).status_code == 200
    refused = {
        "publish": await seeded.post(
            f"/v1/prompts/{PROMPT}/versions", json=version("offline/scripted")
        ),
        "plan": await seeded.post(
            f"/v1/prompts/{PROMPT}/versions/plan", json=version("offline/scripted")
        ),
        "patch": await seeded.patch(f"/v1/prompts/{PROMPT}", json={"description": "x"}),
        "move": await seeded.put(f"/v1/prompts/{PROMPT}/labels/canary", json={"version": 1}),
        "check": await seeded.get(f"/v1/prompts/{PROMPT}/labels/canary/check?version=1"),
        "unset": await seeded.delete(f"/v1/prompts/{PROMPT}/labels/staging"),
        "run": await seeded.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1}),
        "online": await seeded.put(
            "/v1/online-evaluations",
            json={"prompt": PROMPT, "sample_rate": 1.0, "scorers": [{"type": "pii"}]},
        ),
    }
    for what, response in refused.items():
        assert response.status_code == 409, (what, response.text)
        assert response.json()["title"] == "Archive state conflict"
        assert f"promptlane prompts restore {PROMPT}" in response.json()["detail"], what
    taken = await seeded.post("/v1/prompts", json={"name": PROMPT})
    assert taken.status_code == 409
    assert "archived: restore it" in taken.json()["detail"]


async def test_an_archived_dataset_or_suite_is_neither_pushed_to_nor_run(
    seeded: httpx.AsyncClient,
) -> None:
    start = {"suite": SUITE, "prompt": PROMPT, "version": 1}
    assert (await archive(seeded, "datasets", DATASET)).status_code == 200
    for response in (
        await seeded.post(f"/v1/datasets/{DATASET}/versions", json={"items": ITEMS[:1]}),
        await seeded.post(
            "/v1/suites",
            json={"name": "other", "dataset": DATASET, "scorers": [{"type": "exact_match"}]},
        ),
        await seeded.post("/v1/runs", json=start),
    ):
        assert response.status_code == 409, response.text
        assert f"dataset {DATASET!r} is archived" in response.json()["detail"]
    assert (await seeded.post(f"/v1/datasets/{DATASET}/restore")).status_code == 200
    assert (await archive(seeded, "suites", SUITE)).status_code == 200
    run = await seeded.post("/v1/runs", json=start)
    assert run.status_code == 409
    assert f"suite {SUITE!r} is archived" in run.json()["detail"]
    pushed = await seeded.post(
        "/v1/suites", json={"name": SUITE, "dataset": DATASET, "scorers": [{"type": "contains"}]}
    )
    assert pushed.status_code == 409


async def test_an_archived_judge_prompt_is_not_pinned_by_a_new_suite(
    seeded: httpx.AsyncClient,
) -> None:
    judge = {"template": "Rate {{output}}", "config": {"model": ECHO_MODEL}}
    assert (await seeded.post("/v1/prompts/judges/strict/versions", json=judge)).is_success
    assert (
        await seeded.put("/v1/prompts/judges/strict/labels/production", json={"version": 1})
    ).is_success
    assert (await archive(seeded, "prompts", "judges/strict")).status_code == 200
    suite = {
        "name": "judged",
        "dataset": DATASET,
        "scorers": [{"type": "llm_judge", "params": {"prompt": "judges/strict"}}],
    }
    response = await seeded.post("/v1/suites", json=suite)
    assert response.status_code == 422, response.text
    assert "is archived" in response.json()["detail"]
