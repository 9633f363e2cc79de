"""The span retention job: a background task that purges spans past the retention window.

Every replica runs it (deletes are idempotent); each batch is its own short transaction.
`purge_expired` is also what `promptlane db purge-spans` runs once.
"""

from __future__ import annotations

from api.db import Database
from api.server.jobs import PeriodicJob
from tracing.traces import purge


async def purge_expired(db: Database, *, retention_days: int, batch: int = purge.BATCH) -> int:
    """Delete every span older than `retention_days`, batch by batch; return how many."""
    before = purge.cutoff(retention_days)
    total = 0
    while True:
        async with db.transaction() as session:
            deleted = await purge.purge_spans(session, before=before, limit=batch)
        total += deleted
        if deleted < batch:
            return total


class RetentionJob(PeriodicJob):
    """Purge expired spans every `interval` seconds (a retention of 0 days: no task)."""

    def __init__(self, db: Database, *, retention_days: int, interval: float) -> None:
        async def purge() -> str | None:
            deleted = await purge_expired(db, retention_days=retention_days)
            return f"deleted {deleted} spans" if deleted else None

        super().__init__("span-retention", purge, interval=interval)
        self.retention_days = retention_days

    def start(self) -> None:
        """Start the background task, unless spans are kept forever."""
        if self.retention_days > 0:
            super().start()
