"""Where runs execute: a small interface, and the in-process asyncio implementation.

A distributed executor (Celery on Redis) can implement the same interface; the runner's
leases already make a run safe to pick up from any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from evals.runs.runner import Runner

log = logging.getLogger("promptlane.executor")


class Executor(Protocol):
    """Starts runs and resumes the ones whose worker went away."""

    def submit(self, run_id: int) -> None:
        """Start executing a run (it must be committed first)."""
        ...

    async def start(self) -> None:
        """Begin resuming abandoned runs."""
        ...

    async def stop(self) -> None:
        """Stop every run in this process, handing their leases back."""
        ...


class InProcessExecutor:
    """Runs each run as an asyncio task in this process and polls for abandoned runs."""

    def __init__(self, runner: Runner, *, recover_every: float = 5.0) -> None:
        self.runner = runner
        self.recover_every = recover_every
        self.tasks: dict[int, asyncio.Task[None]] = {}
        # Called (no arguments, must not block) when a run's task ends: its end committed
        # `run.finished`, so the webhook dispatcher is woken rather than waiting for its poll.
        self.on_task_done: list[Callable[[], None]] = []
        self._recovery: asyncio.Task[None] | None = None

    def submit(self, run_id: int) -> None:
        """Start a task for the run unless one is already going."""
        if run_id in self.tasks:
            return
        task = asyncio.create_task(self.runner.execute(run_id), name=f"promptlane-run-{run_id}")
        self.tasks[run_id] = task
        task.add_done_callback(lambda _: self._done(run_id))

    def _done(self, run_id: int) -> None:
        self.tasks.pop(run_id, None)
        for listener in self.on_task_done:
            try:
                listener()
            except Exception:  # a listener only wakes a job: it must not break the executor
                log.exception("run %s: a task-done listener failed", run_id)

    async def start(self) -> None:
        """Resume claimable runs now and every `recover_every` seconds."""
        await self.recover()
        self._recovery = asyncio.create_task(self._recover_forever(), name="promptlane-recovery")

    async def recover(self) -> None:
        """Submit every run that is queued or whose lease expired."""
        for run_id in await self.runner.claimable():
            if run_id not in self.tasks:
                log.info("resuming run %s", run_id)
                self.submit(run_id)

    async def _recover_forever(self) -> None:
        while True:
            await asyncio.sleep(self.recover_every)
            try:
                await self.recover()
            except Exception:  # a busy database must not end recovery for good
                log.exception("run recovery failed; retrying")

    async def wait(self, run_id: int) -> None:
        """Wait for this process's task of a run, if any (tests, the CLI demo)."""
        task = self.tasks.get(run_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Cancel recovery and every run task (each releases its lease); close the model's pool."""
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.runner.model.aclose()
