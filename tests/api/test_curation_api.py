"""POST /v1/datasets/{name}/versions/from-generations: production calls back into datasets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.db import Database
from api.identity import keys
from api.server.app import create_app
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs.runner import Runner
from prompts.policy import Role
from tests.conftest import KEYS, auth, make_settings
from tests.factories import chat_body
from tests.tracing.conftest import Traced

PROMPT = "support/triage"
DATASET = "support/regressions"
ECHO = {"model": "offline/echo", "temperature": 0}
PROBLEM = "application/problem+json"
# offline/echo answers with the ticket: the JSON ones pass `json_valid`, the others score 0.
TICKETS = ["my card was charged twice", '{"order": 42}', "cannot log in", '["ok"]']
LOW = [TICKETS[0], TICKETS[2]]
SUITE = f"""\
name: regressions
dataset: {DATASET}
scorers:
  - {{name: correct, type: exact_match}}
"""


@pytest.fixture
async def app(
    database_url: str, tmp_path: Path, db: Database, request: pytest.FixtureRequest
) -> AsyncIterator[FastAPI]:
    """The app with calls scored online by one worker and content recording on (by default),
    or (parametrized) `keep`: scored calls' content kept, or `none`: no content kept."""
    content = getattr(request, "param", "record")
    traced = Traced(record_content=content == "record")
    settings = make_settings(
        database_url,
        tmp_path,
        online_eval_concurrency=1,
        gateway_flush_interval=60,
        online_eval_keep_content=content == "keep",
    )
    application = create_app(settings, database=db, tracing=traced.handle)
    try:
        async with application.router.lifespan_context(application):
            async with db.transaction() as s:
                for role in (Role.WRITER, Role.READER):
                    data = keys.ApiKeyCreate(name=f"test-{role.value}", role=role)
                    await keys.create_key(s, data=data, created_by="tests", key=KEYS[role])
            yield application
    finally:
        traced.handle.shutdown()


def url(name: str = DATASET) -> str:
    return f"/v1/datasets/{name}/versions/from-generations"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def production_calls(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Publish the prompt, score its calls online with json_valid, call it through the gateway."""
    published = await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body(config=ECHO))
    assert published.status_code == 201, published.text
    spec = {"prompt": PROMPT, "sample_rate": 1.0, "scorers": [{"type": "json_valid"}]}
    assert (await client.put("/v1/online-evaluations", json=spec)).status_code == 200
    for ticket in TICKETS:
        variables = {"company": "Acme", "ticket": ticket}
        body = {"model": f"promptlane/{PROMPT}:1", "promptlane": {"variables": variables}}
        answered = await client.post("/v1/chat/completions", json=body)
        assert answered.status_code == 200, answered.text
    await app.state.services.gateway.join()
    await app.state.services.online_evaluator.join()


async def test_low_scored_calls_become_items_a_suite_then_runs_on(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    first = [{"input": {"company": "Acme", "ticket": "hello"}, "expected": "hello"}]
    assert (await client.post(f"/v1/datasets/{DATASET}/versions", json=first)).status_code == 201
    suite_v1 = await client.post("/v1/suites", content=SUITE, headers={"Content-Type": "text/yaml"})
    assert suite_v1.status_code == 201, suite_v1.text
    await production_calls(client, app)

    selection = {"prompt": PROMPT, "score": {"name": "json_valid", "below": 0.5}, "message": "low"}
    curated = await client.post(url(), json=selection, headers=auth(Role.WRITER))
    assert curated.status_code == 201, curated.text
    result = curated.json()
    assert (result["version"], result["created"], result["added"], result["skipped"]) == (
        2,
        True,
        2,
        [],
    )
    assert curated.headers["location"] == f"/v1/datasets/{DATASET}/versions/2"
    version = (await client.get(f"/v1/datasets/{DATASET}/versions/2")).json()
    assert (version["message"], version["author"]) == ("low", "test-writer")
    new = version["items"][1:]
    assert [item["input"]["ticket"] for item in new] == LOW
    assert [item["expected"] for item in new] == LOW  # what the call answered (echo)
    calls = (await client.get("/v1/generations", params={"prompt": PROMPT})).json()["items"]
    by_id = {c["id"]: c for c in calls}
    for item, generation_id in zip(new, result["generation_ids"], strict=True):
        source = item["metadata"]["source"]
        assert source["generation_id"] == generation_id
        assert source["trace_id"] == by_id[generation_id]["trace_id"]
        assert by_id[generation_id]["scores"]["json_valid"]["value"] == 0.0
        assert item["metadata"]["expected_status"] == "candidate"

    # The suite pins the dataset's current version when pushed again: its runs see the items.
    suite_v2 = await client.post("/v1/suites", content=SUITE, headers={"Content-Type": "text/yaml"})
    assert (suite_v2.json()["version"], suite_v2.json()["dataset_version"]) == (2, 2)
    run = (
        await client.post("/v1/runs", json={"suite": "regressions", "prompt": PROMPT, "version": 1})
    ).json()
    assert (run["dataset_version"], run["total"]) == (2, 3)
    await Runner(db.writer, model=ModelClient(retry=RetryPolicy(attempts=1)), owner="t").execute(
        run["id"]
    )
    ran = (await client.get(f"/v1/runs/{run['id']}/items")).json()["items"]
    assert [i["input"]["ticket"] for i in ran] == ["hello", *LOW]
    assert all(i["scores"]["correct"]["value"] == 1.0 for i in ran)

    again = await client.post(url(), json=selection, headers=auth(Role.WRITER))
    assert again.status_code == 200, again.text
    assert (again.json()["version"], again.json()["created"], again.json()["added"]) == (
        2,
        False,
        0,
    )
    assert {s["reason"] for s in again.json()["skipped"]} == {"already in the dataset"}


@pytest.mark.parametrize("app", ["keep"], indirect=True)
async def test_without_recording_the_content_online_evaluation_keeps_is_curated(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await production_calls(client, app)
    selection = {"prompt": PROMPT, "score": {"name": "json_valid", "below": 0.5}}
    curated = await client.post(url(), json=selection)
    assert curated.status_code == 201, curated.text
    assert (curated.json()["added"], curated.json()["skipped"]) == (2, [])
    items = (await client.get(f"/v1/datasets/{DATASET}/versions/1")).json()["items"]
    assert [item["input"]["ticket"] for item in items] == LOW


@pytest.mark.parametrize("app", ["none"], indirect=True)
async def test_calls_whose_content_went_are_skipped_with_the_reason(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await production_calls(client, app)
    dry = await client.post(url(), json={"prompt": PROMPT, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["added"] == 0
    reasons = {s["reason"] for s in dry.json()["skipped"]}
    assert len(dry.json()["skipped"]) == len(TICKETS)
    assert len(reasons) == 1
    assert "PROMPTLANE_ONLINE_EVAL_KEEP_CONTENT" in reasons.pop()


async def test_a_dry_run_says_what_would_be_added_and_stores_nothing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await production_calls(client, app)
    response = await client.post(url("new/set"), json={"prompt": PROMPT, "dry_run": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["created"], body["dry_run"], body["added"]) == (
        None,
        False,
        True,
        4,
    )
    assert_problem(await client.get("/v1/datasets/new/set"), 404)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "give 'ids' or 'prompt'"),
        ({"ids": [2**31]}, "#/ids/0"),
        ({"ids": [1], "surprise": True}, "#/surprise"),
        ({"prompt": PROMPT, "limit": 0}, "#/limit"),
        ({"prompt": PROMPT, "start": "yesterday"}, "#/start"),
        ({"prompt": PROMPT, "score": {"name": "x", "below": "0.5"}}, "#/score/below"),
        ({"prompt": PROMPT, "safety_flag": "pii\x01"}, "#/safety_flag"),
    ],
)
async def test_bad_selections_are_422_and_change_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    problem = assert_problem(await client.post(url(), json=body), 422)
    errors = problem.get("errors", [])
    assert where in [e.get("pointer") for e in errors] or where in str(errors), problem
    assert (await client.get("/v1/datasets")).json()["total"] == 0


async def test_non_finite_scores_and_bad_names_are_refused(client: httpx.AsyncClient) -> None:
    nan = '{"prompt": "support/triage", "score": {"name": "x", "below": NaN}}'
    response = await client.post(url(), content=nan, headers={"Content-Type": "application/json"})
    assert_problem(response, 422)
    assert_problem(await client.post(url("Bad Name"), json={"prompt": PROMPT}), 422)
    window = {"prompt": PROMPT, "start": "2025-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}
    assert "must be before" in assert_problem(await client.post(url(), json=window), 422)["detail"]
    early = {"prompt": PROMPT, "end": "0001-01-02T00:00:00Z"}  # a week before it: no date
    assert "outside" in assert_problem(await client.post(url(), json=early), 422)["detail"]
    assert (await client.get("/v1/datasets")).json()["total"] == 0


async def test_an_archived_dataset_is_409_and_keeps_its_versions(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await production_calls(client, app)
    first = await client.post(url(), json={"prompt": PROMPT, "limit": 1})
    assert first.status_code == 201, first.text
    assert (await client.post(f"/v1/datasets/{DATASET}/archive")).status_code == 200
    refused = assert_problem(await client.post(url(), json={"prompt": PROMPT}), 409)
    assert "archived" in refused["detail"]
    versions = (await client.get(f"/v1/datasets/{DATASET}/versions")).json()
    assert versions["total"] == 1
