"""The response cache: model answers stored in `llm_cache` by `evals.llm.client.cache_key`.

A rerun of a cached suite reads its answers back instead of calling the model, so it is
cheap and gives the same outputs, tokens, cost and latency as the run that filled it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.llm.client import Completion
from evals.models import LlmCacheEntry
from prompts.base import upsert_insert, utc_now

log = logging.getLogger("promptlane.cache")

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]

# Keys per IN list and rows per INSERT: far below SQLite's and PostgreSQL's bind limits.
CHUNK: Final = 500
_MODEL_MAX: Final = 200


class ResponseCache:
    """Reads and writes cached completions through a session factory."""

    def __init__(self, sessions: SessionFactory, *, chunk_size: int = CHUNK) -> None:
        self._sessions = sessions
        self._chunk = max(1, chunk_size)
        self._table = cast(sa.Table, sa.inspect(LlmCacheEntry).local_table)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Completion]:
        """Return the cached completions among `keys` (misses are absent), marked cached."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Completion] = {}
        if not wanted:
            return found
        table = self._table
        async with self._sessions() as session:
            for start in range(0, len(wanted), self._chunk):
                chunk = wanted[start : start + self._chunk]
                rows = await session.execute(
                    sa.select(table.c.key, table.c.response).where(table.c.key.in_(chunk))
                )
                for key, response in rows.tuples():
                    completion = _revive(key, response)
                    if completion is not None:
                        found[key] = completion
        return found

    async def put_many(self, entries: Mapping[str, tuple[str, Completion]]) -> None:
        """Store completions by key (key → (model, completion)); existing keys are kept."""
        now = utc_now()
        rows = [
            {"key": key, "model": model[:_MODEL_MAX], "response": payload, "created_at": now}
            for key, (model, completion) in entries.items()
            if (payload := _storable(completion)) is not None
        ]
        if not rows:
            return
        async with self._sessions() as session:
            for start in range(0, len(rows), self._chunk):
                stmt = upsert_insert(session, self._table).values(rows[start : start + self._chunk])
                await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            await session.commit()


def _storable(completion: Completion) -> dict[str, Any] | None:
    # The span ids name the call that filled the cache; a cache hit is no call of its own.
    payload = dataclasses.replace(
        completion, is_cached=False, trace_id=None, span_id=None
    ).to_json()
    # PostgreSQL's JSONB cannot hold NUL; such an answer is simply not cached.
    if "\\u0000" in json.dumps(payload):
        return None
    return payload


def _revive(key: str, response: Any) -> Completion | None:
    try:
        completion = Completion.from_json(dict(response))
    except (TypeError, ValueError):
        # A row written by an incompatible version is a miss, not a failed run.
        log.warning("ignoring unreadable llm_cache entry %s", key)
        return None
    return dataclasses.replace(completion, is_cached=True)
