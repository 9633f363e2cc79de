"""The issue's round trip: production calls scored low → added to the pinned suite's dataset
→ the dataset monitor's candidate run covers the new items, and the pin stays."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.monitors.scheduler import Scheduler
from prompts.base import utc_now
from tests.api.monitoring import execute_runs, monitor
from tests.api.test_curation_api import DATASET, LOW, PROMPT, SUITE, app, production_calls, url

__all__ = ["app"]  # the fixture: content recorded, calls scored online


async def test_curated_calls_are_tried_by_the_dataset_monitor_without_moving_the_pin(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    model = ModelClient(retry=RetryPolicy(attempts=1))
    first = [{"input": {"company": "Acme", "ticket": "hello"}, "expected": "hello"}]
    assert (await client.post(f"/v1/datasets/{DATASET}/versions", json=first)).status_code == 201
    suite = await client.post("/v1/suites", content=SUITE, headers={"Content-Type": "text/yaml"})
    assert suite.json()["dataset_version"] == 1, suite.text
    await production_calls(client, app)  # publishes v1 (echo), scores four calls online
    policy = await client.put("/v1/policies/production", json={"required_suites": ["regressions"]})
    assert policy.status_code == 200, policy.text
    started = await client.post(
        "/v1/runs", json={"suite": "regressions", "prompt": PROMPT, "version": 1}
    )
    assert started.status_code == 202, started.text
    await execute_runs(db, model, [started.json()["id"]])
    moved = await client.put(
        f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1, "reason": "ship"}
    )
    assert moved.status_code == 200, moved.text
    await monitor(client, name="new-data", prompt=PROMPT, label="production", trigger="dataset")
    scheduler = Scheduler(db.writer)
    assert (await scheduler.tick(utc_now())).started == {}  # nothing new yet

    selection = {"prompt": PROMPT, "score": {"name": "json_valid", "below": 0.5}}
    curated = await client.post(url(), json=selection)
    assert (curated.status_code, curated.json()["version"]) == (201, 2), curated.text

    tick = await scheduler.tick(utc_now())
    assert tick.started == {"running": 1}
    await execute_runs(db, model, tick.run_ids)
    assert (await scheduler.tick(utc_now())).settled == {"ok": 1}
    [run_id] = tick.run_ids
    run = (await client.get(f"/v1/runs/{run_id}")).json()
    assert (run["dataset_version"], run["total"], run["verdict"]) == (2, 3, "passed")
    items = (await client.get(f"/v1/runs/{run_id}/items")).json()["items"]
    assert [item["input"]["ticket"] for item in items] == ["hello", *LOW]
    [event] = (await client.get("/v1/monitors/new-data/events")).json()["items"]
    assert (event["status"], event["evidence"]["dataset_version"]) == ("ok", 2)
    [policy_now] = (await client.get("/v1/policies")).json()
    assert policy_now["pins"][0]["dataset_version"] == 1  # reported only: the pin stays
