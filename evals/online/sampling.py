"""Which generations online evaluation samples, decided before they are stored: content kept.

Sampling is a pure function of (trace id, span id) and the prompt's config, so it can be
decided while a row is still in memory. `ContentGate.prepare` runs on every generation row
the gateway or OTLP ingest is about to insert: a row in a sample is stored `pending` with its
messages and answer (what its scorers read); any other row loses them unless content
recording is on. The evaluator clears the content of a sampled row once it is scored,
skipped or failed (again unless recording is on), so content without consent lives in the
database only between the insert and the scoring.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evals.online.configs import ConfigSnapshot, load_snapshot
from evals.online.scoring import PENDING

log = logging.getLogger("promptlane.online")

SessionFactory = Callable[[], AsyncSession]
# The columns holding message content: kept for scorers, else only with content recording.
CONTENT: Final = ("input_messages", "output_text")
_SCALE: Final = float(2**64)


def sample_point(trace_id: str, span_id: str) -> float:
    """Return where a generation falls in [0, 1): the same ids always give the same point."""
    digest = hashlib.sha256(f"{trace_id}:{span_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def is_sampled(trace_id: str, span_id: str, rate: float) -> bool:
    """Return whether a generation is in a `rate` sample (0: never, 1: always)."""
    return sample_point(trace_id, span_id) < rate


def in_sample(
    snapshot: ConfigSnapshot,
    *,
    prompt: str | None,
    label: str | None,
    trace_id: str,
    span_id: str,
) -> bool:
    """Return whether a generation of (prompt, label) is in its config's sample."""
    config = snapshot.match(prompt, label)
    if config is None or not config.enabled:
        return False
    return is_sampled(trace_id, span_id, config.sample_rate)


def row_in_sample(snapshot: ConfigSnapshot, row: Mapping[str, Any]) -> bool:
    """Return whether a generation row, not sampled yet, is in its config's sample."""
    if row.get("online_eval") is not None or row.get("is_duplicate"):
        return False  # decided already, or the gateway's generation of the call is scored
    return in_sample(
        snapshot,
        prompt=row.get("prompt_name"),
        label=row.get("prompt_label"),
        trace_id=str(row["trace_id"]),
        span_id=str(row["span_id"]),
    )


def cleared() -> dict[str, None]:
    """Return the values that remove a row's message content."""
    return dict.fromkeys(CONTENT)


class ConfigCache:
    """The configs, re-read at most every `ttl` seconds (one query, however many callers)."""

    def __init__(
        self, sessions: SessionFactory, *, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Read configs through `sessions`; `clock` is injectable for tests."""
        self._sessions, self._ttl, self._clock = sessions, ttl, clock
        self._snapshot: ConfigSnapshot | None = None
        self._loaded_at = -math.inf
        self._lock = asyncio.Lock()

    def _fresh(self) -> ConfigSnapshot | None:
        if self._clock() - self._loaded_at < self._ttl:
            return self._snapshot
        return None

    async def get(self) -> ConfigSnapshot:
        """Return the current snapshot, reading the table when the cached one is stale."""
        found = self._fresh()
        if found is not None:
            return found
        async with self._lock:
            found = self._fresh()
            if found is None:
                async with self._sessions() as session:
                    found = await load_snapshot(session)
                self._snapshot, self._loaded_at = found, self._clock()
        return found

    def invalidate(self) -> None:
        """Forget the snapshot (this process changed a config)."""
        self._loaded_at = -math.inf


class ContentGate:
    """Before generation rows are stored: mark the sampled `pending`, strip the others' content."""

    def __init__(self, configs: ConfigCache | None, *, record_content: bool) -> None:
        """Sample with `configs` (None: online evaluation is off); keep all content if recording."""
        self.configs = configs
        self.record_content = record_content

    async def prepare(self, rows: Sequence[MutableMapping[str, Any]]) -> None:
        """Decide each row's sampling in place; never raises (on error, content is stripped)."""
        snapshot: ConfigSnapshot | None = None
        if self.configs is not None:
            try:
                snapshot = await self.configs.get()
            except Exception:  # the configs cannot be read: store the rows, sample none
                log.exception(
                    "online evaluation configs unavailable: %d row(s) unsampled", len(rows)
                )
        for row in rows:
            if row.get("online_eval") == PENDING:
                continue  # decided already
            if snapshot is not None and row_in_sample(snapshot, row):
                row["online_eval"] = PENDING
            elif not self.record_content:
                row.update(cleared())
