"""Fenced leases: a worker that lost its run's lease writes nothing more and stops at once."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.db import Database
from evals.errors import LeaseLostError
from evals.llm.client import Completion, ModelClient, RetryPolicy
from evals.models import Run
from evals.runs import service as runs
from evals.runs.plan import Plan
from evals.runs.runner import Runner
from prompts.base import utc_now
from prompts.models import Event
from tests.conftest import DatabaseFactory
from tests.evals.runner_support import read, seed, start
from tracing.models import Generation


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (runners commit as they go)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


class GatedModel(ModelClient):
    """The offline model behind a gate: counts calls and answers only once the gate opens."""

    def __init__(self, *, wrong: bool = False, delay: float = 0.0) -> None:
        super().__init__(retry=RetryPolicy(attempts=1))
        self.calls = 0
        self.gate = asyncio.Event()
        self.wrong, self.delay = wrong, delay

    async def complete(self, **kwargs: Any) -> Completion:
        """Count the call, wait for the gate, answer (wrongly, if told to)."""
        self.calls += 1
        await self.gate.wait()
        await asyncio.sleep(self.delay)
        answer = await super().complete(**kwargs)
        return dataclasses.replace(answer, text="wrong") if self.wrong else answer


class WatchedRunner(Runner):
    """Notes how many model calls it had made when a write of its run was refused."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.calls_when_refused: int | None = None

    async def _flush(self, run_id: int, batch: Any, *, force: bool = False) -> bool:
        try:
            return await super()._flush(run_id, batch, force=force)
        except LeaseLostError:
            assert isinstance(self.model, GatedModel)
            self.calls_when_refused = self.model.calls
            raise


class StalledRunner(Runner):
    """Stalls before recording the end of its run (a paused process), then goes on or breaks."""

    def __init__(self, *args: Any, breaks: bool, **options: Any) -> None:
        super().__init__(*args, **options)
        self.stalled, self.resumed = asyncio.Event(), asyncio.Event()
        self.breaks = breaks

    async def _finish(self, plan: Plan, *, cancelled: bool) -> None:
        self.stalled.set()
        await self.resumed.wait()
        if self.breaks:  # execute() then records the run as failed, or tries to
            raise RuntimeError("broke while paused")
        await super()._finish(plan, cancelled=cancelled)


def runner(
    db: Database, model: ModelClient, owner: str, *, cls: type[Runner] = Runner, **options: Any
) -> Any:
    options = {"lease_seconds": 60.0, "flush_interval": 0.01, **options}
    return cls(db.writer, model=model, owner=owner, **options)


async def called(model: GatedModel, count: int) -> None:
    """Wait until `model` has been called `count` times."""
    async with asyncio.timeout(10):
        while model.calls < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def take_over(db: Database, run_id: int, thief: Runner) -> None:
    """Expire the run's lease as if its worker went silent, and let `thief` claim it."""
    expired = utc_now() - timedelta(seconds=1)
    for _ in range(100):  # the owner may renew between the two steps: expire it again
        async with db.transaction() as session:
            await session.execute(
                sa.update(Run).where(Run.id == run_id).values(lease_expires_at=expired)
            )
        if await thief.claim(run_id):
            return
    raise AssertionError("the lease was never taken over")


async def generation_count(db: Database, run_id: int) -> int:
    async with db.reader() as session:
        rows = await session.scalars(select(Generation.id).where(Generation.run_id == run_id))
        return len(list(rows))


async def test_a_worker_that_lost_its_lease_writes_nothing_and_stops(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(database, items=12)
    run_id = await start(database)
    stale, fresh = GatedModel(wrong=True, delay=0.05), GatedModel()
    a = runner(database, stale, "a", cls=WatchedRunner)
    b = runner(database, fresh, "b")
    task_a = asyncio.create_task(a.execute(run_id))
    await called(stale, 4)  # A holds the lease, its first four calls in flight
    await take_over(database, run_id, b)
    task_b = asyncio.create_task(b.execute(run_id))
    await called(fresh, 4)
    with caplog.at_level(logging.WARNING, logger="promptlane.runner"):
        stale.gate.set()  # A's (wrong) answers come back after B took over
        await asyncio.wait_for(task_a, timeout=10)
    await asyncio.sleep(0.1)
    assert a.calls_when_refused is not None
    assert stale.calls == a.calls_when_refused  # A stopped: no call after the refusal
    assert "lost its lease" in caplog.text
    run, items = await read(database, run_id)
    assert (run.status, run.lease_owner, run.completed) == ("running", "b", 0)
    assert items == []  # A's batch was rolled back with the refused update
    fresh.gate.set()
    await asyncio.wait_for(task_b, timeout=10)
    run, items = await read(database, run_id)
    assert (run.status, run.verdict, run.completed, run.errors) == ("completed", "passed", 12, 0)
    assert len(items) == 12
    assert all(item.status == "ok" and item.output != "wrong" for item in items)
    assert run.summary["metrics"]["correct"]["mean"] == 1.0
    assert fresh.calls == 12
    assert await generation_count(database, run_id) == 12  # B's calls only


@pytest.mark.parametrize("breaks", [False, True], ids=["finish", "fail"])
async def test_a_paused_worker_cannot_finish_or_fail_a_run_taken_over(
    database: Database, breaks: bool
) -> None:
    await seed(database, items=6)
    run_id = await start(database)
    stale = GatedModel(wrong=True)
    stale.gate.set()
    a = runner(database, stale, "a", cls=StalledRunner, breaks=breaks)
    task_a = asyncio.create_task(a.execute(run_id))
    await asyncio.wait_for(a.stalled.wait(), timeout=10)  # every item done, end not recorded
    b = runner(database, GatedModel(), "b")
    await take_over(database, run_id, b)
    async with database.transaction() as session:
        await runs.request_cancel(session, run_id=run_id)
    await b.execute(run_id)
    ended, _ = await read(database, run_id)
    assert ended.status == "cancelled"
    a.resumed.set()
    await asyncio.wait_for(task_a, timeout=10)
    run, items = await read(database, run_id)
    assert (run.status, run.verdict, run.error) == ("cancelled", None, None)
    assert run.finished_at == ended.finished_at
    assert (run.lease_owner, run.lease_expires_at) == (None, None)
    assert len(items) == 6  # written while A still held the lease: they stay
    async with database.reader() as session:
        ends = list(await session.scalars(select(Event).where(Event.type == "run.finished")))
    assert [e.data["status"] for e in ends] == ["cancelled"]  # B's end only: A's was refused


async def test_a_worker_whose_renewal_fails_stops_calling_the_model(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(database, items=12)
    run_id = await start(database)
    stuck = GatedModel()  # its calls never answer: only renewals write
    a = runner(database, stuck, "a", lease_seconds=0.2)
    with caplog.at_level(logging.WARNING, logger="promptlane.runner"):
        task_a = asyncio.create_task(a.execute(run_id))
        await called(stuck, 4)
        await take_over(database, run_id, runner(database, GatedModel(), "b"))
        await asyncio.wait_for(task_a, timeout=5)  # the next renewal is refused: A stops
    await asyncio.sleep(0.1)
    assert stuck.calls == 4
    assert "lost its lease" in caplog.text
    run, items = await read(database, run_id)
    assert (run.status, run.lease_owner, items) == ("running", "b", [])
