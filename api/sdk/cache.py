"""The client's prompt cache: stale-while-revalidate, single-flight, errors keep the last good.

A hit is a dict lookup and a monotonic-clock check, with no lock. Past its TTL an entry is
still served at once while one background refresh (per key) revalidates it with
If-None-Match; a failed refresh keeps the last good value and backs off. A cold miss asks the
server (one request per key however many callers wait), then the caller's fallback.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from api.sdk.errors import PromptlaneError, PromptUnavailableError
from api.sdk.http import is_outage, prompt_path
from api.sdk.prompt import DEFAULT_LABEL, FallbackSource, Prompt, as_prompt

logger = logging.getLogger("promptlane.client")

Selector = str | int
Clock = Callable[[], float]
DEFAULT_CACHE_TTL: Final = 60.0
BACKOFF_START: Final = 1.0
BACKOFF_MAX: Final = 60.0


@dataclass(slots=True)
class Entry:
    """A cached prompt: fresh until `expires` (monotonic seconds), then stale."""

    prompt: Prompt
    etag: str | None
    expires: float
    ttl: float
    failures: int = 0
    refreshing: bool = False


def selector(label: str | None, version: int | None) -> Selector:
    """Return the cache selector of a label (default production) or a version number."""
    if label is not None and version is not None:
        raise ValueError("give label or version, not both")
    return version if version is not None else (label or DEFAULT_LABEL)


def describe(sel: Selector) -> str:
    """Return a selector as words, for messages."""
    return f"version {sel}" if isinstance(sel, int) else f"label {sel!r}"


def resolve_kwargs(sel: Selector, etag: str | None) -> dict[str, Any]:
    """Return the resolve request's params and headers (a conditional GET given an ETag)."""
    params = {"version": sel} if isinstance(sel, int) else {"label": sel}
    headers = {"If-None-Match": etag} if etag else {}
    return {"params": params, "headers": headers}


def backoff(failures: int) -> float:
    """Return how long to wait before retrying after `failures` failures in a row."""
    return min(BACKOFF_MAX, BACKOFF_START * 2.0 ** min(failures - 1, 16))


def check_ttl(ttl: float) -> float:
    """Return `ttl` if it is a usable cache TTL in seconds."""
    if not ttl >= 0:  # also refuses NaN
        raise ValueError(f"cache_ttl must be >= 0 seconds, not {ttl!r}")
    return float(ttl)


class PromptStore:
    """Entries by name then selector, shared by the sync and async caches.

    Entries are replaced, never edited (except the `refreshing` claim), so a reader that
    looked one up without a lock always sees a whole entry.
    """

    def __init__(self, *, ttl: float, clock: Clock = time.monotonic) -> None:
        self.entries: dict[str, dict[Selector, Entry]] = {}
        self.ttl = check_ttl(ttl)
        self.clock = clock
        self.lock = threading.Lock()

    def lookup(self, name: str, sel: Selector) -> Entry | None:
        """Return the entry for (name, selector), fresh or stale."""
        by_selector = self.entries.get(name)
        return None if by_selector is None else by_selector.get(sel)

    def put(self, name: str, sel: Selector, entry: Entry) -> None:
        """Store an entry (dict assignments are atomic: no lock needed)."""
        self.entries.setdefault(name, {})[sel] = entry

    def claim(self, entry: Entry) -> bool:
        """Mark a stale entry as being refreshed; False if another refresh already is."""
        with self.lock:
            if entry.refreshing:
                return False
            entry.refreshing = True
            return True

    def accept(
        self, name: str, sel: Selector, response: httpx.Response, *, ttl: float, old: Entry | None
    ) -> Prompt:
        """Store the server's answer (200, or 304 for `old`) and return the prompt."""
        etag = response.headers.get("etag")
        if response.status_code == 304 and old is not None:
            prompt = old.prompt
            etag = etag or old.etag
        else:
            response.raise_for_status()
            label = None if isinstance(sel, int) else sel
            prompt = Prompt.from_resolved(response.json(), label=label)
        self.put(name, sel, Entry(prompt, etag, self.clock() + ttl, ttl))
        return prompt

    def failed(self, name: str, sel: Selector, old: Entry, exc: BaseException) -> None:
        """Keep serving `old` after a failed refresh, and retry only after a backoff."""
        failures = old.failures + 1
        delay = backoff(failures)
        logger.warning(
            "promptlane: refreshing prompt %r (%s) failed %d time(s); serving version %d, "
            "next try in %.0fs: %s",
            name,
            describe(sel),
            failures,
            old.prompt.version,
            delay,
            exc,
        )
        self.put(name, sel, Entry(old.prompt, old.etag, self.clock() + delay, old.ttl, failures))

    def cold_failure(
        self,
        name: str,
        sel: Selector,
        exc: PromptlaneError,
        fallback: FallbackSource | None,
        ttl: float,
    ) -> Prompt:
        """Return the caller's fallback after a failed first fetch (cached, retried later)."""
        if fallback is None:
            if is_outage(exc):
                raise PromptUnavailableError(
                    f"prompt {name!r} ({describe(sel)}) is not cached and promptlane could not "
                    f"serve it ({exc}); pass fallback= to get_prompt or snapshot= to the client"
                ) from exc
            raise exc
        prompt = as_prompt(fallback, name=name, label=None if isinstance(sel, int) else sel)
        logger.warning(
            "promptlane: fetching prompt %r (%s) failed, using the fallback: %s",
            name,
            describe(sel),
            exc,
        )
        self.put(name, sel, Entry(prompt, None, self.clock() + backoff(1), ttl, failures=1))
        return prompt

    def seed(self, items: Iterable[tuple[str, Selector, Prompt, str | None]]) -> None:
        """Add entries (from a snapshot) that are stale from the start, so they revalidate."""
        for name, sel, prompt, etag in items:
            if self.lookup(name, sel) is None:
                self.put(name, sel, Entry(prompt, etag, -math.inf, self.ttl))


Request = Callable[..., httpx.Response]
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


class PromptCache:
    """The sync client's prompt cache; thread-safe, refreshes in daemon threads."""

    def __init__(self, request: Request, *, ttl: float, clock: Clock = time.monotonic) -> None:
        self.store = PromptStore(ttl=ttl, clock=clock)
        self._entries = self.store.entries
        self._clock = clock
        self._request = request
        self._loading: dict[tuple[str, Selector], threading.Lock] = {}
        self.workers = RefreshWorkers()
        self.closed = False

    def get(
        self,
        name: str,
        label: str | None = None,
        version: int | None = None,
        *,
        fallback: FallbackSource | None = None,
        cache_ttl: float | None = None,
    ) -> Prompt:
        """Return the prompt from the cache, or fetch it (see `Client.get_prompt`)."""
        if label is not None and version is not None:
            raise ValueError("give label or version, not both")
        by_selector = self._entries.get(name)
        if by_selector is not None:
            entry = by_selector.get((label or DEFAULT_LABEL) if version is None else version)
            if entry is not None:
                if entry.expires <= self._clock() and not entry.refreshing:
                    self._revalidate(name, selector(label, version), entry)
                return entry.prompt
        return self._load(name, selector(label, version), fallback, cache_ttl)

    def _revalidate(self, name: str, sel: Selector, entry: Entry) -> None:
        if self.closed or not self.store.claim(entry):
            return
        self.workers.submit(lambda: self._refresh(name, sel, entry))

    def close(self) -> None:
        """Stop refreshing (a refresh under way finishes, and is ignored)."""
        self.closed = True
        self.workers.shutdown()

    def _refresh(self, name: str, sel: Selector, entry: Entry) -> None:
        try:
            response = self._request("GET", prompt_path(name), **resolve_kwargs(sel, entry.etag))
            self.store.accept(name, sel, response, ttl=entry.ttl, old=entry)
        except Exception as exc:  # a background thread has nobody to raise to
            if not self.closed:
                self.store.failed(name, sel, entry, exc)

    def _key_lock(self, name: str, sel: Selector) -> threading.Lock:
        with self.store.lock:
            return self._loading.setdefault((name, sel), threading.Lock())

    def _load(
        self, name: str, sel: Selector, fallback: FallbackSource | None, ttl: float | None
    ) -> Prompt:
        ttl = self.store.ttl if ttl is None else check_ttl(ttl)
        with self._key_lock(name, sel):
            entry = self.store.lookup(name, sel)
            if entry is not None:  # another thread fetched it while this one waited
                return entry.prompt
            try:
                response = self._request("GET", prompt_path(name), **resolve_kwargs(sel, None))
            except PromptlaneError as exc:
                return self.store.cold_failure(name, sel, exc, fallback, ttl)
            return self.store.accept(name, sel, response, ttl=ttl, old=None)
