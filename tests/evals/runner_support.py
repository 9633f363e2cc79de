"""The runner tests' database fixture, seeding and helpers (used across tests/evals)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from api.db import Database
from evals.datasets.service import publish_dataset_version
from evals.llm.client import ModelClient, RetryPolicy
from evals.models import Run, RunItem
from evals.runs import service as runs
from evals.runs.runner import Runner
from evals.schemas import DatasetVersionCreate, RunCreate
from evals.suites import parse_suite, publish_suite
from prompts import service as prompts
from prompts.policy import Actor, Role
from tests.conftest import DatabaseFactory
from tests.factories import chat_version

ADMIN = Actor(id="key:admin", name="admin", role=Role.ADMIN)
CATEGORIES = ["billing", "technical", "account"]


def suite_yaml(**extra: str) -> str:
    lines = [
        "name: triage",
        "dataset: tickets",
        "scorers:",
        "  - {name: correct, type: exact_match}",
        "gates:",
        '  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}',
        "concurrency: 4",
    ]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def model_version(model: str = "offline/scripted", **knobs: Any) -> Any:
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if "seed" in knobs:
        config["seed"] = knobs.pop("seed")
    if knobs:
        config["offline"] = knobs
    return chat_version(config=config)


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


class CrashingRunner(Runner):
    """Dies like a killed process: cancelled mid-run, it never hands its lease back."""

    async def release(self, run_id: int) -> None:
        return None


def make_runner(db: Database, *, cls: type[Runner] = Runner, **options: Any) -> Runner:
    model = ModelClient(retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002))
    return cls(db.writer, model=model, owner=options.pop("owner", "test"), **options)


async def seed(db: Database, *, items: int = 12, suite: str | None = None, **version: Any) -> None:
    rows = [
        {
            "input": {"company": "Acme", "ticket": f"ticket {i}"},
            "expected": CATEGORIES[i % 3],
            "metadata": {"answer": CATEGORIES[i % 3]},
        }
        for i in range(items)
    ]
    async with db.transaction() as session:
        await publish_dataset_version(
            session,
            name="tickets",
            data=DatasetVersionCreate.model_validate({"items": rows}),
            author="tests",
        )
        await publish_suite(session, spec=parse_suite(suite or suite_yaml()), author="tests")
        await prompts.publish_version(
            session, name="triage", data=model_version(**version), author="tests"
        )


async def start(db: Database, **fields: Any) -> int:
    body = {"suite": "triage", "prompt": "triage", "version": 1, **fields}
    async with db.transaction() as session:
        run = await runs.start_run(session, data=RunCreate.model_validate(body), actor="tests")
    return run.id


async def read(db: Database, run_id: int) -> tuple[Run, list[RunItem]]:
    async with db.reader() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        items = list(await session.scalars(select(RunItem).where(RunItem.run_id == run_id)))
    return run, items


async def completed_at_least(db: Database, run_id: int, count: int) -> None:
    """Poll the database (the runner's progress lives there) until `count` items are in."""
    while (await read(db, run_id))[0].completed < count:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


def _allow_all() -> Any:
    from prompts.policy import PolicyDecision

    class Allow:
        async def check(self, session: Any, request: Any) -> PolicyDecision:
            return PolicyDecision(allowed=True)

    return Allow()
