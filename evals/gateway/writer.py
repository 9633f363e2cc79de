"""Gateway generations written in the background, in batches (group commit).

A gateway response never waits for its generation's INSERT: `add` queues the row and wakes one
writer task, which lets rows gather for up to `flush_interval` seconds (or until a batch is
full), inserts them in one transaction and hands the stored rows to `on_stored` (online
evaluation); `prepare` sees each batch first (online evaluation's sampling: a row's message
content is kept only when it is sampled or content recording is on). One INSERT costs about as
much on the event loop as a gateway call itself, so at any request rate the calls of one
interval share it. Rows are normalised on the way in and a row the database refuses is dropped
on its own, never its batch (`tracing.inserts`); a batch that fails otherwise (the database is
down) is retried; `stop` (the app's shutdown) writes whatever is still queued, so an answered
call is not lost when the server stops cleanly (a crash loses at most the last interval's rows).
Every row not stored is counted in `promptlane_generations_dropped_total{source="gateway"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evals.gateway.calls import SOURCE, record_generations
from tracing.inserts import Dropped, count_dropped
from tracing.metrics import Metrics
from tracing.models import Generation

log = logging.getLogger("promptlane.gateway")

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
OnStored = Callable[[list[Generation]], Awaitable[None]]
Prepare = Callable[[list[dict[str, Any]]], Awaitable[None]]

MAX_BATCH: Final = 64
FLUSH_INTERVAL: Final = 0.2
# Past this many rows waiting (the database is down), the oldest are dropped and logged.
MAX_PENDING: Final = 50_000
RETRY_DELAYS: Final = (0.1, 0.5, 2.0)


class GenerationWriter:
    """Queues generation rows and inserts them in batches from one background task."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        on_stored: OnStored | None = None,
        prepare: Prepare | None = None,
        flush_interval: float = FLUSH_INTERVAL,
        metrics: Metrics | None = None,
    ) -> None:
        """Open write transactions with `transaction`; `on_stored` gets each stored batch.

        `prepare` sees each batch before its INSERT (online evaluation's sampling, which
        decides whose content is kept) and must not raise.
        """
        self._transaction = transaction
        self._prepare = prepare
        self._on_stored = on_stored
        self._metrics = metrics
        self.flush_interval = flush_interval
        self._rows: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()  # write now: a batch is full, or someone waits
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0  # rows not stored, for any reason

    def add(self, row: dict[str, Any]) -> None:
        """Queue a row; the writer task inserts it soon (never blocks, never raises)."""
        if len(self._rows) >= MAX_PENDING:
            self._rows.pop(0)
            self._count([Dropped(SOURCE, "backlog")])
            log.error("gateway generations pile up (database down?): dropped one")
        self._rows.append(row)
        self._idle.clear()
        self._wake.set()
        if len(self._rows) >= MAX_BATCH:
            self._flush.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def join(self) -> None:
        """Write what is queued now and wait until it is written (or given up on)."""
        if not self._idle.is_set():
            self._flush.set()
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then stop the writer task."""
        await self.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.flush_interval > 0 and not self._flush.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._flush.wait(), self.flush_interval)
            self._wake.clear()
            self._flush.clear()
            batch, self._rows = self._rows[:MAX_BATCH], self._rows[MAX_BATCH:]
            if batch:
                await self._write(batch)
            if not self._rows:
                self._idle.set()
                continue
            self._wake.set()  # rows came in while this batch was written: the next round
            if len(self._rows) >= MAX_BATCH:
                self._flush.set()

    def _count(self, dropped: list[Dropped]) -> None:
        self.dropped += len(dropped)
        if self._metrics is not None:
            count_dropped(self._metrics, dropped)

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        if self._prepare is not None:
            await self._prepare(batch)
        for delay in (*RETRY_DELAYS, None):
            try:
                async with self._transaction() as session:
                    stored, dropped = await record_generations(session, batch)
                break
            except Exception as exc:
                # The class only: a driver's message may quote the rows' content.
                if delay is None:
                    n = len(batch)
                    log.error("could not store %d gateway generation(s): %s", n, _name(exc))
                    self._count([Dropped(SOURCE, "unavailable")] * n)
                    return
                log.warning("storing gateway generations failed (%s); retrying", _name(exc))
                await asyncio.sleep(delay)
        self._count(dropped)
        if self._on_stored is not None and stored:
            try:
                await self._on_stored(stored)
            except Exception:
                log.exception("online evaluation could not take gateway generations")


def _name(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # the driver's error behind SQLAlchemy's
    return type(orig if isinstance(orig, BaseException) else exc).__name__
