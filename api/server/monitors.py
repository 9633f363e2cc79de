"""The server's monitor scheduler: a background job beside the run executor and webhooks.

It runs where the in-process run executor runs (PROMPTLANE_RUN_EXECUTOR=inprocess). Every
replica may run one: a period is claimed by compare-and-set and keyed uniquely, so it runs
once however many tick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from api.db import Database
from api.server.jobs import PeriodicJob
from api.settings import Settings
from evals.monitors.scheduler import Scheduler


class MonitorJob:
    """A `Scheduler` ticking every interval; started runs go to the executor at once."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        interval: float,
        submit: Callable[[int], None],
        after: Callable[[bool, bool], None],
    ) -> None:
        self.scheduler = scheduler
        self.submit = submit
        self.after = after  # (labels moved, events emitted): invalidate caches, wake webhooks
        self.job = PeriodicJob("monitors", self._tick, interval=interval)

    async def _tick(self) -> str | None:
        report = await self.scheduler.tick()
        for run_id in report.run_ids:
            self.submit(run_id)
        self.after(report.changed, report.emitted)
        return report.summary()

    def start(self) -> None:
        """Start ticking."""
        self.job.start()

    def wake(self) -> None:
        """Tick now (a run ended: its check may settle; sets a flag only)."""
        self.job.wake()

    async def stop(self) -> None:
        """Stop ticking (a check in flight is settled by the next tick of any replica)."""
        await self.job.stop()


def make_scheduler(db: Database, settings: Settings) -> Scheduler:
    """Build the scheduler a server's job and its trigger route share."""
    return Scheduler(
        db.writer,
        protected=frozenset(settings.protected_labels),
        timeout=timedelta(seconds=settings.monitor_run_timeout),
    )
