"""Prompt resolution: one key, one loader, one cache of serialized responses with ETags.

`PromptResolver` is the one way a prompt version is resolved by label (default production,
`latest` included) or number: the resolve route, its fast path (api/server/fastpath.py) and
the gateway all go through it, so they share its entries, its `prompt resolve` span and its
key. Entries are dropped on every local write (api/server/deps.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Final, NamedTuple

from opentelemetry.util.types import AttributeValue

from api.db import Database
from prompts import service
from prompts.schemas import LABEL_RE, PromptVersionRead, name_problem
from tracing import semconv
from tracing.metrics import Metrics
from tracing.telemetry import Telemetry

_MAX_NAME: Final = 200
_MAX_PARSED: Final = 1024


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


class ResolveKey(NamedTuple):
    """What a resolve selects: a prompt's version by label, or by number (label None)."""

    name: str
    label: str | None
    version: int | None

    @classmethod
    def of(cls, name: str, *, label: str | None = None, version: int | None = None) -> ResolveKey:
        """Return the key of a resolve by number, else by label (default production)."""
        if version is not None:
            return cls(name, None, version)
        return cls(name, label or service.DEFAULT_LABEL, None)

    @classmethod
    def from_request(cls, name: str, query: bytes) -> ResolveKey | None:
        """Return the key of a raw `GET /v1/prompts/{name}?{query}`, or None if it is not plain.

        Only requests the route would accept as they are get a key here; anything unusual
        (a bad name, two parameters, escapes) is left to the route, which validates it.
        """
        if len(name) > _MAX_NAME or name_problem(name) is not None:
            return None
        if not query:
            return cls.of(name)
        field, sep, value = query.decode("latin-1").partition("=")
        if not sep or "&" in value or "%" in value or "+" in value:
            return None
        if field == "label" and LABEL_RE.fullmatch(value):
            return cls(name, value, None)
        if field == "version" and value.isdigit() and len(value) < 10 and int(value) >= 1:
            return cls(name, None, int(value))
        return None


class PromptResolver:
    """Resolves prompt versions through the resolve cache, counting prompt fetches."""

    def __init__(
        self,
        *,
        db: Database,
        cache: ResolveCache,
        telemetry: Telemetry,
        metrics: Metrics,
        cache_control: str,
    ) -> None:
        self.db = db
        self.cache = cache
        self.telemetry = telemetry
        self.cache_control = cache_control  # the Cache-Control header of resolve responses
        self.cache_control_raw = cache_control.encode()  # for the ASGI fast path
        self._fetches = metrics.fetches
        # Entries are serialized bytes; parse each distinct body once (keyed by its ETag).
        self._parsed: dict[str, PromptVersionRead] = {}

    def cached(self, key: ResolveKey) -> CachedBody | None:
        """Return the live entry for `key` without I/O (the fast path counts its own hit)."""
        return self.cache.get(key)

    def count_hit(self, key: ResolveKey) -> None:
        """Count a prompt fetch served from the cache (a dict increment: it is on the hot path)."""
        hits = self._fetches.hits
        hits[key] = hits.get(key, 0) + 1

    async def fetch(self, key: ResolveKey) -> CachedBody:
        """Return the serialized version for `key`, loading it on a miss; count the fetch."""
        loaded = False

        async def load() -> bytes:
            nonlocal loaded
            body = await self._load(key)
            loaded = True
            return body

        entry = await self.cache.get_or_fill(key, load)
        counts = self._fetches.misses if loaded else self._fetches.hits
        counts[key] = counts.get(key, 0) + 1
        return entry

    async def version(self, key: ResolveKey) -> PromptVersionRead:
        """Return the version for `key`, parsed (no fetch is counted: the caller is a call)."""
        entry = await self.cache.get_or_fill(key, lambda: self._load(key))
        parsed = self._parsed.get(entry.etag)
        if parsed is None:
            parsed = PromptVersionRead.model_validate_json(entry.body)
            if len(self._parsed) >= _MAX_PARSED:
                self._parsed.clear()
            self._parsed[entry.etag] = parsed
        return parsed

    def invalidate(self) -> None:
        """Forget every entry (called after a write commits)."""
        self.cache.invalidate()

    async def _load(self, key: ResolveKey) -> bytes:
        attributes: dict[str, AttributeValue] = {semconv.PROMPT_NAME: key.name}
        with self.telemetry.span(semconv.SPAN_PROMPT_RESOLVE, attributes) as span:
            async with self.db.reader() as session:
                found = await service.resolve_prompt(
                    session, name=key.name, label=key.label, version=key.version
                )
            span.set_attribute(semconv.PROMPT_VERSION, found.version)
            if key.label is not None:
                span.set_attribute(semconv.PROMPT_LABEL, key.label)
            span.set_attribute(semconv.PROMPT_CONTENT_HASH, found.content_hash)
        return found.model_dump_json().encode()
