"""Runs over HTTP: start (manifest, totals, refusals), results, events, compare, cancel, list."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs.runner import Runner
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body
from tracing import semconv
from tracing.models import Generation

PROBLEM = "application/problem+json"
PROMPT = "support/triage"
SUITE = """\
name: triage-quality
dataset: tickets
scorers:
  - {name: correct, type: exact_match}
  - {name: short, type: length, params: {max_chars: 40}}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
repeats: 2
"""
CATEGORIES = ["billing", "technical", "account", "billing"]
ITEMS = [
    {"input": {"company": "Acme", "ticket": f"t{i}"}, "expected": c, "metadata": {"answer": c}}
    for i, c in enumerate(CATEGORIES)
]


def version(model: str, **knobs: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if knobs:
        config["offline"] = knobs
    return chat_body(config=config)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def push_suite(client: httpx.AsyncClient, text: str = SUITE) -> dict[str, Any]:
    response = await client.post(
        "/v1/suites", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def push_dataset(
    client: httpx.AsyncClient, name: str = "tickets", items: list[dict[str, Any]] = ITEMS
) -> dict[str, Any]:
    response = await client.post(f"/v1/datasets/{name}/versions", json={"items": items})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def publish(client: httpx.AsyncClient, name: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/v1/prompts/{name}/versions", json=body)
    assert response.status_code == 201, response.text
    published: dict[str, Any] = response.json()
    return published


async def label(client: httpx.AsyncClient, name: str, to: int, at: str = "production") -> None:
    moved = await client.put(f"/v1/prompts/{name}/labels/{at}", json={"version": to})
    assert moved.status_code == 200, moved.text


async def run_count(db: Database) -> int:
    async with db.reader() as session:
        return int((await session.execute(sa.text("SELECT count(*) FROM runs"))).scalar_one())


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A dataset of 4 tickets, the suite, and a prompt whose v1 echoes and v2 answers right."""
    await push_dataset(client)
    await push_suite(client)
    await publish(client, PROMPT, version("offline/echo"))
    await publish(client, PROMPT, version("offline/scripted"))
    return client


async def start(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"suite": "triage-quality", "prompt": PROMPT, **fields}
    response = await client.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    return started


async def execute(client: httpx.AsyncClient, db: Database, run_id: int) -> dict[str, Any]:
    model = ModelClient(retry=RetryPolicy(attempts=1))
    await Runner(db.writer, model=model, owner="tests").execute(run_id)
    finished = await client.get(f"/v1/runs/{run_id}")
    assert finished.status_code == 200
    body: dict[str, Any] = finished.json()
    return body


# --- starting a run -----------------------------------------------------------------------


async def test_start_is_202_queued_with_the_manifest(seeded: httpx.AsyncClient) -> None:
    run = await start(seeded, version=2)
    assert (run["status"], run["verdict"], run["completed"], run["errors"]) == (
        "queued",
        None,
        0,
        0,
    )
    assert run["total"] == len(ITEMS) * 2  # items x repeats
    assert (run["suite"], run["suite_version"], run["prompt"], run["version"]) == (
        "triage-quality",
        1,
        PROMPT,
        2,
    )
    assert (run["dataset"], run["dataset_version"], run["label"]) == ("tickets", 1, None)
    assert (run["created_by"], run["started_at"], run["finished_at"]) == (
        "bootstrap-admin",
        None,
        None,
    )

    prompt_version = (await seeded.get(f"/v1/prompts/{PROMPT}/versions/2")).json()
    dataset = (await seeded.get("/v1/datasets/tickets")).json()
    suite = (await seeded.get("/v1/suites/triage-quality")).json()
    manifest = run["manifest"]
    assert manifest["prompt"] == {
        "name": PROMPT,
        "version": 2,
        "content_hash": prompt_version["content_hash"],
    }
    assert run["content_hash"] == prompt_version["content_hash"]
    assert manifest["dataset"] == {
        "name": "tickets",
        "version": 1,
        "content_hash": dataset["content_hash"],
    }
    assert manifest["suite"] == {
        "name": "triage-quality",
        "version": 1,
        "content_hash": suite["content_hash"],
    }
    assert [(s["name"], s["type"]) for s in manifest["scorers"]] == [
        ("correct", "exact_match"),
        ("short", "length"),
    ]
    assert all(len(s["params_hash"]) == 64 for s in manifest["scorers"])
    assert manifest["scorers"][0]["params_hash"] != manifest["scorers"][1]["params_hash"]
    assert (manifest["judges"], manifest["baseline"]) == ({}, None)
    assert len(run["manifest_hash"]) == 64
    shown = (await seeded.get(f"/v1/runs/{run['id']}")).json()
    assert shown == run


async def test_start_by_label_resolves_the_version_it_holds(seeded: httpx.AsyncClient) -> None:
    await label(seeded, PROMPT, 2, "staging")
    run = await start(seeded, label="staging")
    assert (run["version"], run["label"]) == (2, "staging")
    older = await start(seeded, version=1, suite_version=1)
    assert older["manifest"]["prompt"]["version"] == 1
    assert older["manifest_hash"] != run["manifest_hash"]


async def test_a_pinned_dataset_version_is_used_even_after_new_versions(
    seeded: httpx.AsyncClient,
) -> None:
    await push_dataset(seeded, items=ITEMS[:2])  # tickets v2, 2 items
    unchanged = await start(seeded, version=2)  # suite v1 pinned tickets v1 when pushed
    assert (unchanged["suite_version"], unchanged["dataset_version"]) == (1, 1)
    repushed = await push_suite(seeded)  # the same YAML pins the current dataset: a new version
    assert (repushed["version"], repushed["dataset_version"]) == (2, 2)
    follows = await start(seeded, version=2)
    assert (follows["suite_version"], follows["dataset_version"], follows["total"]) == (2, 2, 4)
    await push_suite(seeded, SUITE.replace("dataset: tickets", "dataset: tickets@1"))
    pinned = await start(seeded, version=2)
    assert (pinned["suite_version"], pinned["dataset_version"], pinned["total"]) == (3, 1, 8)


NOT_FOUND: list[tuple[str, dict[str, Any], str]] = [
    ("unknown suite", {"suite": "nope", "version": 1}, "suite-not-found"),
    ("unknown suite version", {"suite_version": 9, "version": 1}, "suite-not-found"),
    ("unknown prompt", {"prompt": "nope/nope", "version": 1}, "prompt-not-found"),
    ("unknown version", {"version": 9}, "version-not-found"),
    ("unknown label", {"label": "canary"}, "label-not-found"),
]


@pytest.mark.parametrize(("case", "fields", "kind"), NOT_FOUND, ids=[c for c, *_ in NOT_FOUND])
async def test_unknown_targets_are_404_and_start_nothing(
    seeded: httpx.AsyncClient, db: Database, case: str, fields: dict[str, Any], kind: str
) -> None:
    before = await run_count(db)
    body = {"suite": "triage-quality", "prompt": PROMPT, **fields}
    problem = assert_problem(await seeded.post("/v1/runs", json=body), 404)
    assert problem["type"] == f"urn:promptlane:problem:{kind}"
    assert await run_count(db) == before


async def test_a_suite_whose_dataset_is_missing_says_how_to_fix_it(
    seeded: httpx.AsyncClient,
) -> None:
    orphan = SUITE.replace("name: triage-quality", "name: orphan").replace(
        "dataset: tickets", "dataset: support/missing"
    )
    headers = {"Content-Type": "application/yaml"}
    missing = assert_problem(await seeded.post("/v1/suites", content=orphan, headers=headers), 422)
    assert "'support/missing' does not exist" in missing["detail"]
    assert "promptlane datasets push" in missing["detail"]
    unpinned = SUITE.replace("dataset: tickets", "dataset: tickets@7")
    refused = assert_problem(
        await seeded.post("/v1/suites", content=unpinned, headers=headers), 422
    )
    assert "has no version 7" in refused["detail"]
    assert (await seeded.get("/v1/suites/orphan")).status_code == 404


BAD_STARTS: list[tuple[str, dict[str, Any], str]] = [
    ("version and label", {"version": 1, "label": "production"}, "exactly one"),
    ("neither", {}, "exactly one"),
    ("bad label", {"label": "Not A Label"}, "invalid label"),
    ("bad baseline label", {"version": 1, "baseline_label": "x y"}, "invalid label"),
    ("version zero", {"version": 0}, "greater than or equal to 1"),
    ("unknown field", {"version": 1, "repeat": 3}, "Extra inputs"),
    ("too many repeats", {"version": 1, "repeats": 101}, "less than or equal to 100"),
]


@pytest.mark.parametrize(("case", "fields", "detail"), BAD_STARTS, ids=[c for c, *_ in BAD_STARTS])
async def test_contradictory_or_bad_starts_are_422(
    seeded: httpx.AsyncClient, db: Database, case: str, fields: dict[str, Any], detail: str
) -> None:
    before = await run_count(db)
    body = {"suite": "triage-quality", "prompt": PROMPT, **fields}
    problem = assert_problem(await seeded.post("/v1/runs", json=body), 422)
    assert detail in problem["detail"]
    assert await run_count(db) == before


async def test_readers_read_runs_but_cannot_start_or_cancel(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    body = {"suite": "triage-quality", "prompt": PROMPT, "version": 1}
    assert_problem(await seeded.post("/v1/runs", json=body, headers=auth(Role.READER)), 403)
    run = await start(seeded, version=1)
    reader = auth(Role.READER)
    assert (await seeded.get(f"/v1/runs/{run['id']}", headers=reader)).status_code == 200
    refused = await seeded.post(f"/v1/runs/{run['id']}/cancel", headers=reader)
    assert_problem(refused, 403)
    writer = await seeded.post("/v1/runs", json=body, headers=auth(Role.WRITER))
    assert writer.status_code == 202
    assert writer.json()["created_by"] == "test-writer"


# --- results --------------------------------------------------------------------------------


async def test_executed_run_is_completed_with_summary_and_gate(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    run = await execute(seeded, db, (await start(seeded, version=2))["id"])
    assert (run["status"], run["verdict"], run["completed"], run["errors"]) == (
        "completed",
        "passed",
        8,
        0,
    )
    assert run["started_at"] is not None
    assert run["finished_at"] is not None
    correct = run["summary"]["metrics"]["correct"]
    assert correct["mean"] == 1.0
    assert run["summary"]["input_tokens"] > 0
    assert run["summary"]["cost_usd"] > 0
    condition = run["gate"]["conditions"][0]
    assert (condition["metric"], condition["value"], condition["passed"]) == ("correct", 1.0, True)
    failing = await execute(seeded, db, (await start(seeded, version=1))["id"])
    assert (failing["status"], failing["verdict"]) == ("completed", "failed")
    assert failing["gate"]["conditions"][0]["passed"] is False


async def test_items_paginate_and_filter_failures(seeded: httpx.AsyncClient, db: Database) -> None:
    mixed = [
        ITEMS[0],
        {**ITEMS[1], "metadata": {"answer": "account"}},  # answered wrong: a failed score
        {"input": {"company": "Acme"}, "expected": "billing"},  # no {{ticket}}: render error
        ITEMS[3],
    ]
    await push_dataset(seeded, items=mixed)
    await push_suite(seeded)  # pin the new dataset version
    run = await execute(seeded, db, (await start(seeded, version=2))["id"])
    assert (run["completed"], run["errors"]) == (8, 2)
    base = f"/v1/runs/{run['id']}/items"

    everything = (await seeded.get(base)).json()
    assert everything["total"] == 8
    assert [(i["position"], i["repeat"]) for i in everything["items"]] == [
        (p, r) for p in range(4) for r in range(2)
    ]
    first = everything["items"][0]
    assert (first["variant"], first["status"], first["output"]) == ("candidate", "ok", "billing")
    assert first["scores"]["correct"] == {
        "value": 1.0,
        "reason": None,
        "unit": None,
        "passed": True,
        "cost_usd": None,  # what scoring cost: judges and ragas metrics have one
    }
    assert first["input_tokens"] > 0
    assert first["latency_ms"] is not None
    assert first["input"] == mixed[0]["input"]  # the dataset item rides along, for review
    assert first["expected"] == mixed[0]["expected"]

    page = (await seeded.get(base, params={"limit": 3, "offset": 3})).json()
    assert (page["total"], page["limit"], page["offset"]) == (8, 3, 3)
    assert [(i["position"], i["repeat"]) for i in page["items"]] == [(1, 1), (2, 0), (2, 1)]
    past_the_end = (await seeded.get(base, params={"offset": 8})).json()
    assert (past_the_end["total"], past_the_end["items"]) == (8, [])

    failed = (await seeded.get(base, params={"failed": "true"})).json()
    assert failed["total"] == 4
    by_position = {(i["position"], i["repeat"]): i for i in failed["items"]}
    assert set(by_position) == {(1, 0), (1, 1), (2, 0), (2, 1)}
    wrong, broken = by_position[(1, 0)], by_position[(2, 0)]
    assert (wrong["status"], wrong["output"]) == ("ok", "account")
    assert wrong["scores"]["correct"]["passed"] is False
    assert (broken["status"], broken["output"], broken["scores"]) == ("error", None, {})
    assert broken["error"].startswith("render:")
    assert "ticket" in broken["error"]
    one = (await seeded.get(base, params={"failed": "true", "limit": 1, "offset": 3})).json()
    assert [(i["position"], i["repeat"]) for i in one["items"]] == [(2, 1)]
    item = (await seeded.get(base, params={"position": 1})).json()  # a link to one item
    assert [(i["position"], i["repeat"]) for i in item["items"]] == [(1, 0), (1, 1)]
    assert (await seeded.get(base, params={"position": 99})).json()["total"] == 0
    assert_problem(await seeded.get(base, params={"position": -1}), 422)

    assert_problem(await seeded.get(base, params={"limit": 0}), 422)
    assert_problem(await seeded.get(base, params={"variant": "both"}), 422)
    assert_problem(await seeded.get("/v1/runs/424242/items"), 404)


async def test_baseline_items_are_listed_by_variant(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    await label(seeded, PROMPT, 1)
    await push_suite(seeded, SUITE + "baseline: {metric: correct, max_regression: 0.0}\n")
    started = await start(seeded, version=2)
    assert (started["baseline_version"], started["total"]) == (1, 16)
    assert started["manifest"]["baseline"]["version"] == 1
    run = await execute(seeded, db, started["id"])
    assert run["status"] == "completed"
    assert run["gate"]["baseline"]["outcome"] == "passed"
    base = f"/v1/runs/{run['id']}/items"
    baseline = (await seeded.get(base, params={"variant": "baseline"})).json()
    assert baseline["total"] == 8
    assert {i["variant"] for i in baseline["items"]} == {"baseline"}
    assert all(i["scores"]["correct"]["value"] == 0.0 for i in baseline["items"])  # echo
    candidate = (await seeded.get(base)).json()
    assert {i["variant"] for i in candidate["items"]} == {"candidate"}
    assert all(i["scores"]["correct"]["value"] == 1.0 for i in candidate["items"])


def parse_events(text: str) -> list[tuple[str, Any]]:
    """Split a server-sent event stream into (event, decoded data) pairs."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_events_stream_progress_then_done_with_the_run(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    run = await execute(seeded, db, (await start(seeded, version=2))["id"])
    async with seeded.stream("GET", f"/v1/runs/{run['id']}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        text = "".join([chunk async for chunk in response.aiter_text()])
    events = parse_events(text)
    assert [name for name, _ in events] == ["progress", "done"]
    assert events[0][1] == {
        "id": run["id"],
        "status": "completed",
        "completed": 8,
        "total": 8,
        "errors": 0,
    }
    assert events[1][1] == run


async def test_events_of_a_cancelled_run_end_at_once(seeded: httpx.AsyncClient) -> None:
    run = await start(seeded, version=1)
    await seeded.post(f"/v1/runs/{run['id']}/cancel")
    async with seeded.stream("GET", f"/v1/runs/{run['id']}/events") as response:
        text = "".join([chunk async for chunk in response.aiter_text()])
    events = parse_events(text)
    assert [name for name, _ in events] == ["progress", "done"]
    assert events[1][1]["status"] == "cancelled"
    assert_problem(await seeded.get("/v1/runs/424242/events"), 404)


async def test_compare_two_runs(seeded: httpx.AsyncClient, db: Database) -> None:
    echo = await execute(seeded, db, (await start(seeded, version=1))["id"])
    scripted = await execute(seeded, db, (await start(seeded, version=2))["id"])
    response = await seeded.get("/v1/runs/compare", params={"a": echo["id"], "b": scripted["id"]})
    assert response.status_code == 200, response.text
    diff = response.json()
    assert (diff["a"]["id"], diff["b"]["id"], diff["same_dataset"]) == (
        echo["id"],
        scripted["id"],
        True,
    )
    assert diff["metrics"]["correct"] == {"a": 0.0, "b": 1.0, "delta": 1.0}
    assert diff["changed_items"] == len(ITEMS)
    assert [item["position"] for item in diff["items"]] == [0, 1, 2, 3]
    assert diff["items"][0]["metrics"]["correct"]["delta"] == 1.0
    same = (await seeded.get("/v1/runs/compare", params={"a": echo["id"], "b": echo["id"]})).json()
    assert same["changed_items"] == 0
    assert same["metrics"]["correct"]["delta"] == 0.0
    missing = await seeded.get("/v1/runs/compare", params={"a": echo["id"], "b": 424242})
    assert_problem(missing, 404)
    assert_problem(await seeded.get("/v1/runs/compare", params={"a": echo["id"]}), 422)


# --- lifecycle ------------------------------------------------------------------------------


async def test_cancel_a_queued_run_then_cancel_and_resume_conflict(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    run = await start(seeded, version=2)
    cancelled = await seeded.post(f"/v1/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    again = assert_problem(await seeded.post(f"/v1/runs/{run['id']}/cancel"), 409)
    assert again["type"] == "urn:promptlane:problem:run-state"
    assert "cancelled" in again["detail"]
    assert_problem(await seeded.post(f"/v1/runs/{run['id']}/resume"), 409)
    # A worker finds nothing to claim: the cancelled run stays as it is, with no items.
    after = await execute(seeded, db, run["id"])
    assert (after["status"], after["completed"]) == ("cancelled", 0)
    assert (await seeded.get(f"/v1/runs/{run['id']}/items")).json()["total"] == 0


async def test_resume_of_a_completed_run_conflicts(seeded: httpx.AsyncClient, db: Database) -> None:
    run = await execute(seeded, db, (await start(seeded, version=2))["id"])
    resumed = assert_problem(await seeded.post(f"/v1/runs/{run['id']}/resume"), 409)
    assert "completed" in resumed["detail"]
    assert_problem(await seeded.post(f"/v1/runs/{run['id']}/cancel"), 409)
    assert_problem(await seeded.post("/v1/runs/424242/cancel"), 404)
    assert_problem(await seeded.post("/v1/runs/424242/resume"), 404)
    assert_problem(await seeded.get("/v1/runs/424242"), 404)
    assert_problem(await seeded.get("/v1/runs/0"), 422)


async def test_resume_of_a_failed_run_queues_it_again(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    run = await start(seeded, version=2)
    async with db.transaction() as session:
        await session.execute(
            sa.text("UPDATE runs SET status = 'failed', error = 'boom' WHERE id = :id"),
            {"id": run["id"]},
        )
    resumed = await seeded.post(f"/v1/runs/{run['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    assert (resumed.json()["status"], resumed.json()["error"]) == ("queued", None)
    finished = await execute(seeded, db, run["id"])
    assert (finished["status"], finished["verdict"]) == ("completed", "passed")


async def test_list_runs_filters_by_prompt_suite_and_status(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    await push_suite(seeded, SUITE.replace("name: triage-quality", "name: other"))
    await publish(seeded, "support/other", version("offline/scripted"))
    done = await execute(seeded, db, (await start(seeded, version=2))["id"])
    queued = await start(seeded, version=1)
    other_suite = await start(seeded, suite="other", version=2)
    other_prompt = await start(seeded, prompt="support/other", version=1)
    cancelled = await start(seeded, version=1)
    await seeded.post(f"/v1/runs/{cancelled['id']}/cancel")

    async def ids(**params: Any) -> list[int]:
        response = await seeded.get("/v1/runs", params=params)
        assert response.status_code == 200, response.text
        return [run["id"] for run in response.json()["items"]]

    everything = [cancelled, other_prompt, other_suite, queued, done]
    assert await ids() == [r["id"] for r in everything]  # newest first
    assert await ids(prompt=PROMPT) == [r["id"] for r in (cancelled, other_suite, queued, done)]
    assert await ids(prompt="support/other") == [other_prompt["id"]]
    assert await ids(suite="other") == [other_suite["id"]]
    assert await ids(suite="triage-quality", status="queued") == [
        other_prompt["id"],
        queued["id"],
    ]
    assert await ids(status="completed") == [done["id"]]
    assert await ids(status="cancelled", prompt=PROMPT) == [cancelled["id"]]
    assert await ids(prompt="nope") == []
    page = (await seeded.get("/v1/runs", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 5
    assert [r["id"] for r in page["items"]] == [other_prompt["id"], other_suite["id"]]
    assert_problem(await seeded.get("/v1/runs", params={"status": "sleeping"}), 422)


# --- judges -------------------------------------------------------------------------------

JUDGE = "judges/correctness"
JUDGED_SUITE = """\
name: judged
dataset: tickets
scorers:
  - {name: judged, type: llm_judge, params: {prompt: "judges/correctness@production"}}
  - {name: strict, type: llm_judge, params: {prompt: "judges/correctness:2"}}
gates:
  - {metric: judged, op: ">=", value: 0.8}
"""


def judge_version(score: int, reason: str) -> dict[str, Any]:
    """Return a judge prompt whose offline model always answers `score` with `reason`."""
    return chat_body(
        messages=[
            {"role": "system", "content": "Rate the answer from 1 to 5. Answer JSON only."},
            {"role": "user", "content": "EXPECTED: {{expected}}\nANSWER: {{output}}"},
        ],
        config={
            "model": "offline/scripted",
            "offline": {"default": json.dumps({"score": score, "reason": reason})},
        },
    )


async def test_judge_scored_run_pins_the_judge_it_started_with(
    seeded: httpx.AsyncClient, db: Database
) -> None:
    lenient = await publish(seeded, JUDGE, judge_version(5, "matches"))
    harsh = await publish(seeded, JUDGE, judge_version(1, "wrong"))
    await label(seeded, JUDGE, 1)
    pushed = await push_suite(seeded, JUDGED_SUITE)
    started = await start(seeded, suite="judged", version=2)
    assert (
        started["manifest"]["judges"]
        == pushed["judges"]
        == {
            "judges/correctness:2": {
                "name": JUDGE,
                "version": 2,
                "content_hash": harsh["content_hash"],
            },
            "judges/correctness@production": {
                "name": JUDGE,
                "version": 1,
                "content_hash": lenient["content_hash"],
            },
        }
    )
    # Moving the label before the run executes changes neither what runs nor what is recorded.
    await label(seeded, JUDGE, 2)
    run = await execute(seeded, db, started["id"])
    assert (run["status"], run["verdict"], run["errors"]) == ("completed", "passed", 0)
    assert run["manifest"] == started["manifest"]
    assert run["manifest_hash"] == started["manifest_hash"]
    items = (await seeded.get(f"/v1/runs/{run['id']}/items")).json()["items"]
    assert len(items) == len(ITEMS)
    judging_cost = 0.0
    for item in items:
        judged, strict = item["scores"]["judged"], item["scores"]["strict"]
        assert judged["cost_usd"] > 0  # the offline judge's (fictional) price
        assert judged == {
            "value": 1.0,
            "reason": "matches",
            "unit": None,
            "passed": True,
            "cost_usd": judged["cost_usd"],
        }
        assert (strict["value"], strict["reason"]) == (0.0, "wrong")
        judging_cost += judged["cost_usd"] + strict["cost_usd"]
    assert run["summary"]["metrics"]["judged"]["mean"] == 1.0
    assert run["summary"]["scoring_cost_usd"] == pytest.approx(judging_cost)
    assert run["summary"]["cost_usd"] > 0  # the model calls', counted apart
    # Each judge call is a generation of the judge's prompt version, in the run.
    async with db.reader() as session:
        judged = list(
            await session.scalars(
                select(Generation).where(Generation.prompt_name == JUDGE).order_by(Generation.id)
            )
        )
    assert len(judged) == 2 * len(ITEMS)
    assert {(g.prompt_version, g.run_id, g.source) for g in judged} == {
        (1, run["id"], "run"),
        (2, run["id"], "run"),
    }
    assert {g.attributes[semconv.SCORER_NAME] for g in judged} == {"judged", "strict"}
    assert sum(g.cost_usd or 0.0 for g in judged) == pytest.approx(judging_cost)
    assert {g.content_hash for g in judged} == {lenient["content_hash"], harsh["content_hash"]}

    # The suite version pinned the judge when it was pushed; pushing it again pins the new one.
    same = await execute(seeded, db, (await start(seeded, suite="judged", version=2))["id"])
    assert same["manifest"]["judges"] == started["manifest"]["judges"]
    assert (await push_suite(seeded, JUDGED_SUITE))["version"] == 2
    later = await execute(seeded, db, (await start(seeded, suite="judged", version=2))["id"])
    assert later["manifest"]["judges"]["judges/correctness@production"]["version"] == 2
    assert (later["verdict"], later["summary"]["metrics"]["judged"]["mean"]) == ("failed", 0.0)
    again = (await seeded.get(f"/v1/runs/{run['id']}")).json()
    assert again["manifest"] == started["manifest"]
    assert again["summary"] == run["summary"]


async def test_a_judge_label_that_is_not_set_is_refused_when_the_suite_is_pushed(
    seeded: httpx.AsyncClient,
) -> None:
    await publish(seeded, JUDGE, judge_version(5, "matches"))
    await publish(seeded, JUDGE, judge_version(1, "wrong"))
    headers = {"Content-Type": "application/yaml"}
    pushed = await seeded.post("/v1/suites", content=JUDGED_SUITE, headers=headers)
    problem = assert_problem(pushed, 422)
    assert problem["type"] == "urn:promptlane:problem:invalid-suite"
    assert "judges/correctness@production" in problem["detail"]
    assert "production" in problem["detail"]
    assert (await seeded.get("/v1/suites/judged")).status_code == 404
