"""The resolve cache: serialized responses with their ETags, dropped on every local write."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CachedBody:
    """A response body ready to send, with its strong ETag."""

    body: bytes
    etag: str
    expires: float


def make_etag(body: bytes) -> str:
    """Return a strong ETag for `body`."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Return whether an If-None-Match header matches `etag` (weak comparison, RFC 9110)."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


class ResolveCache:
    """Process-local cache of resolve responses.

    Writes bump a generation after they commit; a fill that started under an older
    generation is discarded, so a read racing a write can never cache the old value.
    Fills are single-flight: when an entry expires under load, one request queries the
    database and the others wait for its answer instead of all querying at once.
    """

    def __init__(self, *, ttl: float, maxsize: int) -> None:
        self._ttl = ttl
        self._maxsize = maxsize
        self._entries: dict[Hashable, CachedBody] = {}
        self._pending: dict[Hashable, asyncio.Future[CachedBody]] = {}
        self.generation = 0

    def get(self, key: Hashable) -> CachedBody | None:
        """Return the live entry for `key`."""
        entry = self._entries.get(key)
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def put(self, key: Hashable, body: bytes, *, generation: int) -> CachedBody:
        """Store `body` unless a write happened since `generation`; return the entry."""
        entry = CachedBody(body, make_etag(body), time.monotonic() + self._ttl)
        if generation == self.generation and self._maxsize > 0 and self._ttl > 0:
            if len(self._entries) >= self._maxsize:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = entry
        return entry

    async def get_or_fill(self, key: Hashable, load: Callable[[], Awaitable[bytes]]) -> CachedBody:
        """Return the entry for `key`, loading it once however many requests ask at once."""
        entry = self.get(key)
        if entry is not None:
            return entry
        pending = self._pending.get(key)
        if pending is not None:
            await asyncio.wait([pending])
            if not pending.cancelled() and pending.exception() is None:
                return pending.result()
            # The leader failed (e.g. not found) or was cancelled: load for ourselves.
            return self.put(key, await load(), generation=self.generation)
        generation = self.generation
        future: asyncio.Future[CachedBody] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            entry = self.put(key, await load(), generation=generation)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters handle it, nobody else should log it
            raise
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
        future.set_result(entry)
        return entry

    def invalidate(self) -> None:
        """Forget everything (called after a write commits)."""
        self.generation += 1
        self._entries.clear()
        self._pending.clear()
