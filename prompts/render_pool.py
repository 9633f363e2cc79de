"""The server's render entry point: renders that can loop run off the event loop, on a deadline.

Jinja2 templates and mustache templates with sections render on a small dedicated thread pool.
When a render passes its budget's `max_seconds`, a watchdog thread interrupts it: it raises a
private exception in the rendering thread (`PyThreadState_SetAsyncExc`, delivered at the
thread's next bytecode) and the caller gets RenderBudgetError. Linear content (mustache without
sections: no loops, output counted as it is built) renders inline, where it costs nothing.

The handshake that keeps a late interrupt from hitting the next task on the same thread: a
job's interrupt is sent at most once, only while the job is running, under the job's lock;
the thread marks the job done under that lock and drops an interrupt not yet delivered, so
after that nothing is pending and nothing can be sent. Everything the thread runs between
starting the job and that moment is inside the try that catches the interrupt.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Generic, TypeVar

from promptlane_client.render import PromptContent, Rendered, is_linear, render_prompt
from promptlane_client.render.budget import DEFAULT_BUDGET, RenderBudget, time_error

T = TypeVar("T")

_THREADS: Final = 4
_PENDING, _RUNNING, _DONE = range(3)


class _Interrupted(BaseException):
    """Raised in a rendering thread whose render ran out of time (never leaves this module).

    A BaseException, so no `except Exception` in a template library swallows it.
    """


def _send_interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_Interrupted)
    )


def _drop_interrupt(thread_id: int) -> None:
    # NULL (None) clears the thread's pending asynchronous exception, if it has one.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


class _Job:
    """One render's state, shared by its pool thread and the watchdog."""

    __slots__ = ("deadline", "interrupted", "lock", "seconds", "state", "thread_id")

    def __init__(self, seconds: float) -> None:
        self.lock = threading.Lock()
        self.state = _PENDING
        self.seconds = seconds
        self.deadline = 0.0
        self.thread_id = 0
        self.interrupted = False

    def begin(self) -> None:
        """Mark the job running on this thread; its deadline starts now (queueing is free)."""
        with self.lock:
            self.thread_id = threading.get_ident()
            self.deadline = time.monotonic() + self.seconds
            self.state = _RUNNING

    def interrupt(self) -> None:
        """Interrupt the job's thread if the job still runs there (the watchdog's side)."""
        with self.lock:
            if self.state == _RUNNING and not self.interrupted:
                self.interrupted = True
                _send_interrupt(self.thread_id)

    def end(self) -> bool:
        """Mark the job done and drop an interrupt not yet delivered; say if one was sent."""
        with self.lock:
            self.state = _DONE
            if self.interrupted:
                _drop_interrupt(self.thread_id)
            return self.interrupted


class _Watchdog:
    """One thread that interrupts jobs still running at their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        thread = threading.Thread(target=self._watch, name="promptlane-render-watchdog")
        thread.daemon = True
        thread.start()

    def watch(self, job: _Job) -> None:
        """Interrupt `job` at its deadline unless it has ended by then."""
        with self._cond:
            heapq.heappush(self._heap, (job.deadline, next(self._order), job))
            if self._heap[0][2] is job:
                self._cond.notify()

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    heapq.heappop(self._heap)[2].interrupt()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


@dataclass
class _Outcome(Generic[T]):
    value: T | None = None
    failure: BaseException | None = None
    timed_out: bool = False


def _run(job: _Job, watchdog: _Watchdog, fn: Callable[[], T]) -> _Outcome[T]:
    """Run `fn` as `job` on this pool thread (see the module docstring for the handshake)."""
    outcome: _Outcome[T] = _Outcome()
    try:
        try:
            job.begin()
            watchdog.watch(job)
            # A fresh context: whatever an interrupted render leaves set dies with it.
            outcome.value = contextvars.Context().run(fn)
        except _Interrupted:
            pass
        except BaseException as exc:  # the render's own error, for the caller
            outcome.failure = exc
        outcome.timed_out = job.end()
    except _Interrupted:  # delivered in a handler above or inside end(): it was the only one
        outcome.timed_out = job.end()
    return outcome


class RenderPool:
    """A few threads that run renders, each interrupted at its budget's time limit."""

    def __init__(self, threads: int = _THREADS) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="promptlane-render")
        self._watchdog = _Watchdog()

    async def run(self, fn: Callable[[], T], budget: RenderBudget) -> T:
        """Run `fn` on the pool; raise RenderBudgetError if it passes `budget.max_seconds`."""
        job = _Job(budget.max_seconds)
        future = self._executor.submit(_run, job, self._watchdog, fn)
        outcome = await asyncio.wrap_future(future)
        if outcome.timed_out:
            raise time_error(budget)
        if outcome.failure is not None:
            raise outcome.failure
        return outcome.value  # type: ignore[return-value]

    def shutdown(self) -> None:
        """Stop the threads once the renders in progress end (at most their time limit)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


_pool: RenderPool | None = None
_pool_lock = threading.Lock()


def default_pool() -> RenderPool:
    """Return the process's render pool (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = RenderPool()
        return _pool


async def render_prompt_async(
    content: PromptContent,
    variables: Mapping[str, Any],
    budget: RenderBudget = DEFAULT_BUDGET,
    *,
    pool: RenderPool | None = None,
) -> Rendered:
    """Render a prompt within `budget`: output size always, time off the event loop."""
    if is_linear(content):
        return render_prompt(content, variables, budget)
    render = partial(render_prompt, content, variables, budget)
    return await (pool or default_pool()).run(render, budget)
