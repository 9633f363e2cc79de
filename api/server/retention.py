"""The retention job: a background task purging spans and the webhook outbox past their windows.

Every replica runs it (deletes are idempotent); each batch is its own short transaction.
`purge_expired` is also what `promptlane db purge-spans` runs once; `purge_outbox` deletes
finished webhook deliveries (with their attempts) and the events nothing waits for any more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Database
from api.server.jobs import PeriodicJob
from evals.webhooks import purge as outbox
from tracing.traces import purge

Batch = Callable[[AsyncSession, datetime, int], Awaitable[int]]


async def _in_batches(db: Database, delete: Batch, *, before: datetime, batch: int) -> int:
    """Run `delete` in its own transaction until a batch comes back short; return the total."""
    total = 0
    while True:
        async with db.transaction() as session:
            deleted = await delete(session, before, batch)
        total += deleted
        if deleted < batch:
            return total


async def purge_expired(db: Database, *, retention_days: int, batch: int = purge.BATCH) -> int:
    """Delete every span older than `retention_days`, batch by batch; return how many."""

    async def spans(session: AsyncSession, before: datetime, limit: int) -> int:
        return await purge.purge_spans(session, before=before, limit=limit)

    return await _in_batches(db, spans, before=purge.cutoff(retention_days), batch=batch)


async def purge_outbox(
    db: Database, *, retention_days: int, batch: int = outbox.BATCH
) -> tuple[int, int]:
    """Delete finished deliveries, then events, older than `retention_days`; return the counts.

    A pending delivery is never deleted, and keeps its event.
    """

    async def deliveries(session: AsyncSession, before: datetime, limit: int) -> int:
        return await outbox.purge_deliveries(session, before=before, limit=limit)

    async def events(session: AsyncSession, before: datetime, limit: int) -> int:
        return await outbox.purge_events(session, before=before, limit=limit)

    before = purge.cutoff(retention_days)
    gone = await _in_batches(db, deliveries, before=before, batch=batch)
    return gone, await _in_batches(db, events, before=before, batch=batch)


class RetentionJob(PeriodicJob):
    """Purge expired spans and outbox rows every `interval` seconds (0 days: kept forever)."""

    def __init__(
        self, db: Database, *, retention_days: int, interval: float, outbox_retention_days: int = 0
    ) -> None:
        async def work() -> str | None:
            done = []
            if retention_days > 0:
                spans = await purge_expired(db, retention_days=retention_days)
                done += [f"deleted {spans} spans"] if spans else []
            if outbox_retention_days > 0:
                deliveries, events = await purge_outbox(db, retention_days=outbox_retention_days)
                if deliveries or events:
                    done.append(f"deleted {deliveries} webhook deliveries and {events} events")
            return "; ".join(done) or None

        super().__init__("retention", work, interval=interval)
        self.retention_days = retention_days
        self.outbox_retention_days = outbox_retention_days

    def start(self) -> None:
        """Start the background task, unless everything is kept forever."""
        if self.retention_days > 0 or self.outbox_retention_days > 0:
            super().start()
