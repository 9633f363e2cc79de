"""The span retention job: a background task that purges spans past the retention window.

Every replica runs it (deletes are idempotent); each batch is its own short transaction.
`purge_expired` is also what `promptlane db purge-spans` runs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from api.db import Database
from tracing.traces import purge

log = logging.getLogger("promptlane")


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


class RetentionJob:
    """Purge expired spans every `interval` seconds until stopped.

    The first purge runs an interval after the start: a start is busy enough, and a replica
    restarting in a loop must not purge in a loop.
    """

    def __init__(self, db: Database, *, retention_days: int, interval: float) -> None:
        self.db = db
        self.retention_days = retention_days
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background task (a retention of 0 days keeps spans forever: no task)."""
        if self.retention_days > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="span-retention")

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                deleted = await purge_expired(self.db, retention_days=self.retention_days)
                if deleted:
                    log.info("span retention: deleted %d spans", deleted)
            except Exception:  # a busy or unreachable database: try again next time
                log.warning("span retention: purge failed", exc_info=True)
