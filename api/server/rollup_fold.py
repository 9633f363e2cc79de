"""The rollup fold job: minute rollups folded into hours and days (tracing/rollups/fold.py).

`promptlane db rebuild-rollups` also runs `fold_due` once, after rebuilding. Replicas fold one
at a time (the fold locks the state table); a replica finding the work done folds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from api.db import Database
from api.server.jobs import PeriodicJob
from tracing.base import utc_now
from tracing.rollups import fold

INTERVAL: Final = 30.0  # seconds between folds (PROMPTLANE_ROLLUP_FOLD_INTERVAL)


async def fold_due(db: Database, *, now: datetime | None = None) -> int:
    """Fold every minute that ended `fold.LAG` ago, an hour per transaction; return rows."""
    until = (now or utc_now()) - fold.LAG
    total = 0
    while True:
        async with db.transaction() as session:
            folded, more = await fold.fold(session, until=until)
        total += folded
        if not more:
            return total


class FoldJob(PeriodicJob):
    """Fold minutes every `interval` seconds (0: no task)."""

    def __init__(self, db: Database, *, interval: float = INTERVAL) -> None:
        async def work() -> str | None:
            folded = await fold_due(db)
            return f"folded {folded} minute rollups" if folded else None

        super().__init__("rollup-fold", work, interval=interval)

    def start(self) -> None:
        """Start the background task, unless folding is off."""
        if self.interval > 0:
            super().start()


def fold_job(db: Database, *, interval: float = INTERVAL) -> FoldJob:
    """Return the job folding minutes every `interval` seconds (0: never)."""
    return FoldJob(db, interval=interval)
