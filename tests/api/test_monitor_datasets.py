"""The dataset trigger: a new version of a pinned suite's dataset is tried on the label once,
reported, never changes the pin, and its runs are never gate evidence."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import col, select

from api.db import Database
from evals.monitors.scheduler import Scheduler
from prompts import events
from prompts.base import utc_now
from prompts.models import Event
from tests.api.monitoring import (
    ANSWERS,
    ITEMS,
    PROMPT,
    ProviderModel,
    execute_runs,
    gated_prompt,
    monitor,
    promote,
    scripted,
)


async def _fired(db: Database) -> list[Event]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(Event).where(Event.type == events.MONITOR_FIRED).order_by(col(Event.id))
        )
        return list(rows)


async def test_a_new_dataset_version_is_tried_once_and_reported_without_touching_the_pin(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=True)
    await promote(client, db, 1)
    await promote(client, db, 2)
    await monitor(client, name="new-data", prompt=PROMPT, label="production", trigger="dataset")
    scheduler = Scheduler(db.writer)
    now = utc_now()
    assert (await scheduler.tick(now)).started == {}  # the pinned version is the newest
    harder = [{**item, "expected": "escalate"} for item in ITEMS]
    pushed = await client.post("/v1/datasets/tickets/versions", json={"items": harder})
    assert pushed.status_code == 201, pushed.text

    started = await scheduler.tick(now)
    assert started.started == {"running": 1}
    assert (await scheduler.tick(now + timedelta(minutes=1))).started == {}  # once
    await execute_runs(db, ProviderModel(), started.run_ids)
    assert (await scheduler.tick(now)).settled == {"fired": 1}

    [event] = (await client.get("/v1/monitors/new-data/events")).json()["items"]
    assert event["status"] == "fired"
    assert event["period_key"].startswith("dataset:")
    evidence = event["evidence"]
    assert (evidence["dataset"], evidence["dataset_version"]) == ("tickets", 2)
    assert evidence["pinned_dataset_versions"] == {"triage-quality": 1}
    run = (await client.get(f"/v1/runs/{started.run_ids[0]}")).json()
    assert (run["dataset_version"], run["version"], run["verdict"]) == (2, 2, "failed")
    [fired] = await _fired(db)
    assert fired.data["trigger"] == "dataset"
    assert fired.data["evidence"]["dataset_version"] == 2
    assert (fired.data["incident_id"], fired.data["rollback"]) == (None, None)
    # Reported only: the pin, the label and the incidents are as they were.
    [policy] = (await client.get("/v1/policies")).json()
    assert policy["pins"][0]["dataset_version"] == 1
    labels = (await client.get(f"/v1/prompts/{PROMPT}/labels")).json()
    assert [(label["version"], label["incident_id"]) for label in labels] == [(2, None)]
    assert (await client.get("/v1/incidents")).json()["total"] == 0


async def test_a_candidate_dataset_run_is_never_gate_evidence(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=False)
    body = {"required_suites": ["triage-quality"]}
    assert (await client.put("/v1/policies/staging", json=body)).status_code == 200
    published = await client.post(f"/v1/prompts/{PROMPT}/versions", json=scripted(temperature=0.2))
    assert published.json()["version"] == 3
    forced = await client.put(
        f"/v1/prompts/{PROMPT}/labels/staging",
        json={"version": 3, "force": True, "reason": "try it on staging"},
    )
    assert forced.status_code == 200, forced.text
    more = [*ITEMS, {"input": {"company": "Acme", "ticket": "t0"}, "expected": ANSWERS["t0"]}]
    assert (await client.post("/v1/datasets/tickets/versions", json={"items": more})).is_success
    await monitor(client, name="staging-data", prompt=PROMPT, label="staging", trigger="dataset")

    scheduler = Scheduler(db.writer)
    started = await scheduler.tick()
    await execute_runs(db, ProviderModel(), started.run_ids)
    assert (await scheduler.tick()).settled == {"ok": 1}
    run = (await client.get(f"/v1/runs/{started.run_ids[0]}")).json()
    assert (run["version"], run["dataset_version"], run["verdict"]) == (3, 2, "passed")

    refused = await client.put(
        f"/v1/prompts/{PROMPT}/labels/production", json={"version": 3, "reason": "it passed"}
    )
    assert refused.status_code == 409, refused.text
    [suite] = refused.json()["gate"]["suites"]
    assert suite["passed"] is False
    assert suite["detail"] == "it ran dataset version 2"
