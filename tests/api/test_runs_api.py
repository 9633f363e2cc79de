"""Runs over HTTP: start (manifest, totals, refusals), results, events, compare."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.db import Database
from prompts.policy import Role
from tests.api.runs_support import (
    ITEMS,
    PROMPT,
    SUITE,
    assert_problem,
    execute,
    label,
    push_dataset,
    push_suite,
    run_count,
    seeded,
    start,
)
from tests.conftest import auth

__all__ = ["seeded"]  # the fixture


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
