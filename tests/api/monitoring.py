"""Shared pieces of the monitor tests: a gated prompt whose scripted model can "change"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.llm.completion import Completion
from evals.monitors.scheduler import Scheduler, TickReport
from evals.runs.runner import Runner

PROMPT = "support/triage"
SUITE = """\
name: triage-quality
dataset: tickets
scorers:
  - {name: correct, type: exact_match}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
"""
ANSWERS = {"t0": "billing", "t1": "technical", "t2": "account", "t3": "billing"}
ITEMS = [{"input": {"company": "Acme", "ticket": t}, "expected": a} for t, a in ANSWERS.items()]
# What the "provider" answers after it changed the model behind the same name.
CHANGED = dict.fromkeys(ANSWERS, "refund")


def scripted(**config: Any) -> dict[str, Any]:
    """A chat version answered by the offline scripted model from its script."""
    return {
        "messages": [
            {"role": "system", "content": "You triage tickets for {{company}}."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": {
            "model": "offline/scripted",
            "temperature": 0,
            "offline": {"script": ANSWERS},
            **config,
        },
        "message": "scripted",
    }


class ProviderModel(ModelClient):
    """The offline scripted model, whose script the "provider" may change under a version."""

    def __init__(self) -> None:
        super().__init__(retry=RetryPolicy(attempts=1))
        self.script: dict[str, str] | None = None  # None: the version's own script

    async def complete(self, *, config: dict[str, Any], **kwargs: Any) -> Completion:
        if self.script is not None:
            config = {**config, "offline": {**config.get("offline", {}), "script": self.script}}
        return await super().complete(config=config, **kwargs)


async def gated_prompt(client: httpx.AsyncClient, *, auto_rollback: bool) -> None:
    """Dataset, suite, two scripted versions and a production policy pinning the suite."""
    dataset = await client.post("/v1/datasets/tickets/versions", json={"items": ITEMS})
    assert dataset.status_code == 201, dataset.text
    suite = await client.post(
        "/v1/suites", content=SUITE, headers={"Content-Type": "application/yaml"}
    )
    assert suite.status_code in (200, 201), suite.text
    for temperature in (0, 0.1):
        published = await client.post(
            f"/v1/prompts/{PROMPT}/versions", json=scripted(temperature=temperature)
        )
        assert published.status_code == 201, published.text
    body = {"required_suites": ["triage-quality"], "auto_rollback": auto_rollback}
    policy = await client.put("/v1/policies/production", json=body)
    assert policy.status_code == 200, policy.text


async def execute_runs(db: Database, model: ModelClient, run_ids: list[int]) -> None:
    runner = Runner(db.writer, model=model, owner="tests")
    for run_id in run_ids:
        await runner.execute(run_id)


async def promote(client: httpx.AsyncClient, db: Database, version: int) -> None:
    """Run the pinned suite on `version` and move production to it (a gated move)."""
    started = await client.post(
        "/v1/runs", json={"suite": "triage-quality", "prompt": PROMPT, "version": version}
    )
    assert started.status_code == 202, started.text
    await execute_runs(db, ProviderModel(), [started.json()["id"]])
    moved = await client.put(
        f"/v1/prompts/{PROMPT}/labels/production", json={"version": version, "reason": "ship"}
    )
    assert moved.status_code == 200, moved.text


async def monitor(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    created = await client.post("/v1/monitors", json=body)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def period(
    scheduler: Scheduler, db: Database, model: ModelClient, now: datetime
) -> TickReport:
    """Tick at `now`, execute the runs it started, tick again to settle them."""
    started = await scheduler.tick(now)
    await execute_runs(db, model, started.run_ids)
    settled = await scheduler.tick(now)
    settled.run_ids = started.run_ids
    return settled
