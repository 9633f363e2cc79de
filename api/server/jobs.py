"""Background jobs of a server: work repeated every interval until the server stops.

Every replica runs them; each job's work is idempotent and takes its own short transactions
(or locks), so replicas never need to agree on who runs what. The first run comes an interval
after the start: a start is busy enough, and a replica restarting in a loop must not run the
work in a loop. A failure (a busy or unreachable database) is logged and tried again next
time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("promptlane")


class PeriodicJob:
    """Run `work` every `interval` seconds until stopped; `work` returns what to log, if any."""

    def __init__(
        self, name: str, work: Callable[[], Awaitable[str | None]], *, interval: float
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Run the work now instead of at the end of the interval (only sets a flag)."""
        self._woken.set()

    def start(self) -> None:
        """Start the background task (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.interval)
            self._woken.clear()
            try:
                done = await self.work()
                if done:
                    log.info("%s: %s", self.name, done)
            except Exception:
                log.warning("%s: failed", self.name, exc_info=True)
