"""The server's webhook dispatcher: a background job, woken when a commit emitted events.

It runs where the in-process run executor runs (PROMPTLANE_RUN_EXECUTOR=inprocess); with
separate workers, those deliver. Every replica may run one: deliveries are leased. A step never
waits for a receiver: sends run as tasks, and each one that ends wakes the job to refill its slot.
"""

from __future__ import annotations

from datetime import timedelta

from api.db import Database
from api.server.jobs import PeriodicJob
from api.settings import Settings
from evals.connections.crypto import SecretBox
from evals.webhooks.dispatcher import Dispatcher
from tracing.metrics import Metrics


class WebhookJob:
    """A `Dispatcher` stepping every poll interval, and at once when woken."""

    def __init__(self, dispatcher: Dispatcher, *, interval: float) -> None:
        self.dispatcher = dispatcher
        self.job = PeriodicJob("webhooks", self._step, interval=interval)
        dispatcher.on_slot_free = self.job.wake

    async def _step(self) -> str | None:
        done = await self.dispatcher.step()
        if self.dispatcher.backlog:
            self.job.wake()
        return done

    def start(self) -> None:
        """Start delivering."""
        self.job.start()

    def wake(self) -> None:
        """Fan out now (called after a commit that emitted events; sets flags only)."""
        self.dispatcher.events_emitted()
        self.job.wake()

    async def stop(self) -> None:
        """Stop delivering (leases in flight expire; another tick resends them)."""
        await self.job.stop()
        await self.dispatcher.aclose()


def make_webhook_job(
    db: Database, settings: Settings, box: SecretBox, metrics: Metrics
) -> WebhookJob | None:
    """Build the dispatcher job where runs execute in process, else None."""
    if settings.run_executor != "inprocess":
        return None
    dispatcher = Dispatcher(
        db.writer,
        box=box,
        timeout=settings.webhook_timeout,
        concurrency=settings.webhook_concurrency,
        pause_after=timedelta(seconds=settings.webhook_pause_after),
        poll_interval=settings.webhook_poll_interval,
        metrics=metrics,
    )
    return WebhookJob(dispatcher, interval=settings.webhook_poll_interval)
