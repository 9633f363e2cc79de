"""Gateway generations written in the background: batched, retried, flushed on stop."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from api.db import Database
from evals.errors import ModelCallError
from evals.gateway import writer as gateway_writer
from evals.gateway.calls import PreparedCall, generation_row
from evals.gateway.writer import GenerationWriter
from evals.llm.client import Completion
from prompts.base import utc_now
from tests.tracing.test_metrics import sample
from tracing.metrics import Metrics
from tracing.models import Generation
from tracing.telemetry import PromptRef, new_span_ids

DROPPED_TOTAL = "promptlane_generations_dropped_total"


def row(model: str = "offline/echo", **overrides: Any) -> dict[str, Any]:
    call = PreparedCall(
        model=model,
        messages=[{"role": "user", "content": "hello"}],
        config={"model": "offline/echo"},
        prompt=PromptRef("gw/writer", 3, "production", "abc"),
        started_at=utc_now(),
    )
    trace_id, span_id = new_span_ids()
    answer = Completion(
        text="hello",
        model="offline/echo",
        input_tokens=2,
        output_tokens=1,
        cost_usd=0.5,
        latency_ms=1.0,
        finish_reason="stop",
        trace_id=trace_id,
        span_id=span_id,
    )
    out = generation_row(call, answer, duration_ms=1.5, record_content=False)
    out.update(overrides)
    return out


async def stored(db: Database) -> list[Generation]:
    async with db.reader() as session:
        return list(await session.scalars(select(Generation).order_by(col(Generation.id))))


class Transactions:
    """Counts the transactions the writer opens; fails the first `failures` of them."""

    def __init__(self, db: Database, *, failures: int = 0) -> None:
        self.db = db
        self.opened = 0
        self.failures = failures

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        if self.opened <= self.failures:
            raise OSError("database unavailable")
        async with self.db.transaction() as session:
            yield session


async def test_rows_queued_together_share_one_transaction(db: Database) -> None:
    handed: list[list[Generation]] = []

    async def on_stored(generations: list[Generation]) -> None:
        handed.append(generations)

    transactions = Transactions(db)
    writer = GenerationWriter(transactions, on_stored=on_stored)
    for _ in range(5):
        writer.add(row())
    await writer.join()
    rows = await stored(db)
    assert len(rows) == 5
    assert transactions.opened == 1
    assert [len(batch) for batch in handed] == [5]
    assert all(g.id is not None and g.source == "gateway" for g in handed[0])
    assert rows[0].prompt_name == "gw/writer"
    assert rows[0].cost_usd == 0.5
    await writer.stop()


async def test_a_failed_batch_is_retried(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_writer, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    transactions = Transactions(db, failures=2)
    writer = GenerationWriter(transactions)
    writer.add(row())
    await writer.join()
    assert len(await stored(db)) == 1
    assert transactions.opened == 3
    await writer.stop()


async def test_a_batch_that_keeps_failing_is_given_up(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_writer, "RETRY_DELAYS", (0.0,))
    writer = GenerationWriter(Transactions(db, failures=2))
    lost, kept = row(), row()
    writer.add(lost)
    await writer.join()
    assert await stored(db) == []
    writer.add(kept)  # the writer still works after giving up on a batch
    await writer.join()
    assert [g.span_id for g in await stored(db)] == [kept["span_id"]]
    await writer.stop()


async def test_stop_writes_what_is_queued(db: Database) -> None:
    writer = GenerationWriter(db.transaction)
    writer.add(row())
    writer.add(row(is_error=True, error_type="RateLimitError"))
    await writer.stop()
    rows = await stored(db)
    assert [r.is_error for r in rows] == [False, True]


async def test_a_duplicate_span_is_stored_once(db: Database) -> None:
    writer = GenerationWriter(db.transaction)
    first = row()
    writer.add(first)
    writer.add(dict(first))
    await writer.stop()
    assert len(await stored(db)) == 1


def test_a_failed_call_has_an_error_row_without_usage() -> None:
    call = PreparedCall("offline/echo", [], {"model": "offline/echo"}, None, utc_now())
    failed = generation_row(call, ModelCallError("boom"), duration_ms=2.0, record_content=True)
    assert failed["is_error"] is True
    assert failed["error_type"] == "ModelCallError"
    assert failed["input_tokens"] is None
    assert failed["prompt_name"] is None
    assert len(failed["trace_id"]) == 32
    assert failed["parent_span_id"] is None


def test_a_call_that_failed_before_its_span_stays_in_its_callers_trace() -> None:
    caller = new_span_ids()
    call = PreparedCall("offline/echo", [], {"model": "offline/echo"}, None, utc_now(), caller)
    failed = generation_row(call, ModelCallError("boom"), duration_ms=2.0, record_content=False)
    assert (failed["trace_id"], failed["parent_span_id"]) == caller
    assert failed["span_id"] != caller[1]


async def test_a_full_queue_drops_the_oldest(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_writer, "MAX_PENDING", 2)
    writer = GenerationWriter(db.transaction)
    rows = [row() for _ in range(3)]
    for r in rows:
        writer.add(r)  # no await in between: the writer task has not run yet
    assert writer.dropped == 1
    await writer.stop()
    assert [g.span_id for g in await stored(db)] == [r["span_id"] for r in rows[1:]]


class Handed:
    """Collects the stored batches the writer hands on (the test never reads the database
    while the writer may write: the test database is one connection)."""

    def __init__(self) -> None:
        self.batches: list[list[Generation]] = []

    async def __call__(self, generations: list[Generation]) -> None:
        self.batches.append(generations)

    async def rows(self, count: int) -> int:
        for _ in range(1000):
            if sum(map(len, self.batches)) >= count:
                return sum(map(len, self.batches))
            await asyncio.sleep(0.01)
        raise AssertionError(f"{count} rows were never written")


async def test_rows_of_one_interval_share_one_insert(db: Database) -> None:
    transactions, handed = Transactions(db), Handed()
    writer = GenerationWriter(transactions, on_stored=handed, flush_interval=1.0)
    writer.add(row())
    await asyncio.sleep(0.05)  # the writer waits for the interval to end
    assert transactions.opened == 0
    writer.add(row())
    assert await handed.rows(2) == 2  # no join: the interval ended by itself
    assert transactions.opened == 1
    await writer.stop()


async def test_join_writes_without_waiting_for_the_interval(db: Database) -> None:
    writer = GenerationWriter(db.transaction, flush_interval=60)
    writer.add(row())
    await asyncio.wait_for(writer.join(), timeout=30)
    assert len(await stored(db)) == 1
    await writer.stop()


async def test_a_full_batch_is_written_without_waiting(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_writer, "MAX_BATCH", 2)
    transactions, handed = Transactions(db), Handed()
    writer = GenerationWriter(transactions, on_stored=handed, flush_interval=60)
    for _ in range(5):
        writer.add(row())
    assert await handed.rows(4) == 4  # two full batches; the fifth row waits for the interval
    await asyncio.sleep(0.05)
    assert [len(batch) for batch in handed.batches] == [2, 2]
    await writer.stop()
    assert [len(batch) for batch in handed.batches] == [2, 2, 1]
    assert len(await stored(db)) == 5


# --- one caller's bad row never costs another caller theirs ---------------------------------


async def test_hostile_models_in_one_flush_window_cost_no_one_their_record(db: Database) -> None:
    transactions, handed = Transactions(db), Handed()
    writer = GenerationWriter(transactions, on_stored=handed, flush_interval=60)
    calls = [
        row(),
        row("offline/\x00echo"),
        row("m" * 5000),
        row(input_messages=[{"role": "user\x00", "content": "a\x00b", "x": [math.nan]}]),
        row(),
    ]
    for call in calls:
        writer.add(call)
    await writer.join()
    assert transactions.opened == 1, "the five calls shared one flush window"
    rows = await stored(db)
    assert [g.span_id for g in rows] == [c["span_id"] for c in calls]
    assert rows[1].request_model == "offline/echo"
    assert rows[2].request_model == "m" * 200  # the column's declared length
    assert rows[3].input_messages == [{"role": "user", "content": "ab", "x": [None]}]
    assert rows[0].request_model == rows[4].request_model == "offline/echo"
    # What online evaluation is handed is what was stored.
    assert [g.request_model for g in handed.batches[0]] == [g.request_model for g in rows]
    assert writer.dropped == 0
    await writer.stop()


async def test_a_row_that_cannot_be_stored_is_dropped_alone_and_counted(db: Database) -> None:
    metrics, transactions, handed = Metrics(), Transactions(db), Handed()
    writer = GenerationWriter(transactions, on_stored=handed, flush_interval=60, metrics=metrics)
    good = [row() for _ in range(5)]
    bad = row(started_at=datetime(2026, 1, 1))  # naive: no column can take it
    for r in [*good[:2], bad, *good[2:]]:
        writer.add(r)
    await writer.join()
    assert [g.span_id for g in await stored(db)] == [r["span_id"] for r in good]
    assert transactions.opened == 1, "a data error is not retried"
    assert sum(map(len, handed.batches)) == 5
    assert writer.dropped == 1
    text = metrics.exposition().decode()
    assert sample(text, DROPPED_TOTAL, source="gateway", reason="ValueError") == 1
    await writer.stop()


async def test_batches_given_up_and_a_full_queue_are_counted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_writer, "RETRY_DELAYS", (0.0,))
    monkeypatch.setattr(gateway_writer, "MAX_PENDING", 2)
    metrics = Metrics()
    writer = GenerationWriter(Transactions(db, failures=2), metrics=metrics)
    for _ in range(3):
        writer.add(row())
    await writer.join()
    assert writer.dropped == 3
    text = metrics.exposition().decode()
    assert sample(text, DROPPED_TOTAL, source="gateway", reason="backlog") == 1
    assert sample(text, DROPPED_TOTAL, source="gateway", reason="unavailable") == 2
    await writer.stop()
