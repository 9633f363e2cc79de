"""The prompt cache's core, shared by the sync and async clients: every decision, no I/O.

A hit is a dict lookup and a monotonic-clock check, with no lock. Past its TTL an entry is
still served at once while one background refresh (per key) revalidates it with
If-None-Match; a failed refresh keeps the last good value and backs off. A cold miss asks the
server (one request per key however many callers wait), then the caller's fallback.

The refresh and the cold fetch are written once, as flows: generators that yield the `Call`
to send and receive its response (or have its error thrown in). The sync cache
(promptlane_client.client) drives them with `run` on worker threads, the async one
(promptlane_client.aio) with `arun` on the event loop; only the sending differs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import httpx

from promptlane_client import endpoints
from promptlane_client.errors import PromptlaneError, PromptUnavailableError
from promptlane_client.http import Call, is_outage
from promptlane_client.prompt import DEFAULT_LABEL, FallbackSource, Prompt, as_prompt

logger = logging.getLogger("promptlane.client")

T = TypeVar("T")
Sent = TypeVar("Sent")  # what sending returns: a response, or an awaitable of one
Selector = str | int
Clock = Callable[[], float]
ResolveCall = Call[httpx.Response]
# A flow yields the resolve call to send, receives its response, and returns its result.
Flow = Generator[ResolveCall, httpx.Response, T]
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


@dataclass(frozen=True, slots=True)
class Miss:
    """A prompt that is not cached: its key, the caller's fallback, and the TTL it will get."""

    name: str
    sel: Selector
    fallback: FallbackSource | None
    ttl: float

    @property
    def key(self) -> tuple[str, Selector]:
        """Return the cache key: one load at a time per key."""
        return self.name, self.sel


def selector(label: str | None, version: int | None) -> Selector:
    """Return the cache selector of a label (default production) or a version number."""
    if label is not None and version is not None:
        raise ValueError("give label or version, not both")
    return version if version is not None else (label or DEFAULT_LABEL)


def describe(sel: Selector) -> str:
    """Return a selector as words, for messages."""
    return f"version {sel}" if isinstance(sel, int) else f"label {sel!r}"


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
        if is_outage(exc):
            logger.warning(
                "promptlane: the server could not serve prompt %r (%s), using the fallback: %s",
                name,
                describe(sel),
                exc,
            )
        else:  # the server answered: the name, label or key is wrong, not the network
            logger.error(
                "promptlane: prompt %r (%s) was refused by the server, using the fallback "
                "(check the name, label and key): %s",
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


class CacheCore(ABC, Generic[Sent]):
    """What the sync and async prompt caches share: the hit path, both flows, how to send.

    `request` is the client's (sync or async) `request`. A subclass says how a refresh runs in
    the background (`_start`): on a worker thread, or as a task on the event loop.
    """

    def __init__(
        self, request: Callable[..., Sent], *, ttl: float, clock: Clock = time.monotonic
    ) -> None:
        self._request = request
        self.store = PromptStore(ttl=ttl, clock=clock)
        self._entries = self.store.entries
        self._clock = clock
        self.closed = False

    def hit(self, name: str, label: str | None, version: int | None) -> Prompt | None:
        """Return the cached prompt, fresh or stale (then revalidated in the background)."""
        if label is not None and version is not None:
            raise ValueError("give label or version, not both")
        # The hot path of every application request: no lock, no selector object.
        by_selector = self._entries.get(name)
        if by_selector is not None:
            entry = by_selector.get((label or DEFAULT_LABEL) if version is None else version)
            if entry is not None:
                if entry.expires <= self._clock() and not entry.refreshing:
                    self._revalidate(name, selector(label, version), entry)
                return entry.prompt
        return None

    def miss(
        self,
        name: str,
        label: str | None,
        version: int | None,
        fallback: FallbackSource | None,
        cache_ttl: float | None,
    ) -> Miss:
        """Return what loading a prompt that is not cached needs."""
        ttl = self.store.ttl if cache_ttl is None else check_ttl(cache_ttl)
        return Miss(name, selector(label, version), fallback, ttl)

    def _revalidate(self, name: str, sel: Selector, entry: Entry) -> None:
        if self.closed or not self.store.claim(entry):
            return
        self._start(name, sel, entry)

    def _send(self, call: ResolveCall) -> Sent:
        return self._request(call.method, call.path, **call.options())

    @abstractmethod
    def _start(self, name: str, sel: Selector, entry: Entry) -> None:
        """Run `refresh(name, sel, entry)` in the background."""

    def refresh(self, name: str, sel: Selector, entry: Entry) -> Flow[None]:
        """Revalidate a stale entry; a failure keeps serving it and backs off."""
        try:
            response = yield endpoints.resolve(name, sel, entry.etag)
            self.store.accept(name, sel, response, ttl=entry.ttl, old=entry)
        except Exception as exc:  # a background refresh has nobody to raise to
            if not self.closed:
                self.store.failed(name, sel, entry, exc)

    def fetch(self, miss: Miss) -> Flow[Prompt]:
        """Load a cold entry (under its key's lock); if the server fails, use the fallback."""
        name, sel = miss.key
        entry = self.store.lookup(name, sel)
        if entry is not None:  # another caller fetched it while this one waited for the lock
            return entry.prompt
        try:
            response = yield endpoints.resolve(name, sel, None)
        except PromptlaneError as exc:
            return self.store.cold_failure(name, sel, exc, miss.fallback, miss.ttl)
        return self.store.accept(name, sel, response, ttl=miss.ttl, old=None)


def run(flow: Flow[T], send: Callable[[ResolveCall], httpx.Response]) -> T:
    """Drive a flow to its end, sending each call and blocking on it."""
    try:
        call = next(flow)
        while True:
            try:
                response = send(call)
            except Exception as exc:
                call = flow.throw(exc)
            else:
                call = flow.send(response)
    except StopIteration as done:
        result: T = done.value
        return result


async def arun(flow: Flow[T], send: Callable[[ResolveCall], Awaitable[httpx.Response]]) -> T:
    """Drive a flow to its end, awaiting each call (cancellation is not thrown into it)."""
    try:
        call = next(flow)
        while True:
            try:
                response = await send(call)
            except Exception as exc:
                call = flow.throw(exc)
            else:
                call = flow.send(response)
    except StopIteration as done:
        result: T = done.value
        return result
