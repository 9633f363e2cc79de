"""The sync client's background refreshes: a few daemon threads, started on first use."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class RefreshWorkers:
    """Daemon threads that run background refreshes, started on first use.

    Handing a job to a running thread costs the caller a queue put; starting a thread per
    refresh would cost it far more (`Thread.start` waits until the new thread runs, and that
    thread may then hold the GIL for a whole switch interval).
    """

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._reset()

    def _reset(self) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Condition()
        self._pid = os.getpid()
        self.pending = 0

    def submit(self, job: Job) -> None:
        """Run `job` on a worker thread."""
        if self._pid != os.getpid():  # forked (gunicorn --preload, prefork): no threads here
            self._reset()
        with self._idle:
            self.pending += 1
            while len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name="promptlane-refresh", daemon=True)
                thread.start()
                self._threads.append(thread)
        self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            finally:
                with self._idle:
                    self.pending -= 1
                    if not self.pending:
                        self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no refresh is queued or running; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self.pending == 0, timeout)

    def shutdown(self) -> None:
        """Let the threads end once the queued jobs are done."""
        with self._idle:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads.clear()
