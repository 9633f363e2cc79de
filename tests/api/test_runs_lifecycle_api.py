"""Runs over HTTP: cancel, resume, list, and judge-scored runs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.db import Database
from tests.api.runs_support import (
    ITEMS,
    PROMPT,
    SUITE,
    assert_problem,
    execute,
    label,
    publish,
    push_suite,
    seeded,
    start,
    version,
)
from tests.factories import chat_body
from tracing import semconv
from tracing.models import Generation

__all__ = ["seeded"]  # the fixture


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
