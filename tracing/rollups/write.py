"""Rollups kept up to date in the writer's transaction: rows become deltas, deltas upserts.

`apply(session, rows, sign)` adds generation rows to their rollups (sign=-1 takes them out:
a generation whose prompt link or scores change is taken out as it was and added as it is,
`apply_change`). The rows of one call are summed per rollup key in Python first, then written
with one INSERT … ON CONFLICT DO UPDATE that adds column by column and merges the JSON maps
key by key in SQL: concurrent writers add to the same row without losing an update (the
conflicting row is locked, on PostgreSQL, or the database has one writer, on SQLite). Keys are
written in sorted order, so two transactions touching the same rows never deadlock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.base import upsert_insert
from tracing.model_names import row_model
from tracing.rollups import histogram
from tracing.rollups.histogram import Counters
from tracing.rollups.models import KEY, PERIODS, GenerationRollup

TABLE: Final = cast(sa.Table, GenerationRollup.__table__)  # type: ignore[attr-defined]
SEPARATOR: Final = "\x1f"  # between a score metric and its bin key
SUMS: Final = ("calls", "errors", "input_tokens", "output_tokens", "cost_usd")
MAPS: Final = ("latency_ms", "input_chars", "scores", "flags")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# The columns of a generation the rollups read (a later update passes them before and after).
ROW_FIELDS: Final = ("started_at", "prompt_name", "prompt_version", "prompt_label", "model",
                     "source", "request_model", "response_model", "is_error", "input_tokens",
                     "output_tokens", "cost_usd", "duration_ms", "input_chars", "scores",
                     "safety_flags")  # fmt: skip

# Sum two JSON maps key by key, dropping keys that sum to 0 (the stored row is locked).
_MERGE_SQL: Final = {
    "postgresql": (
        "(SELECT coalesce(jsonb_object_agg(k, t), '{{}}'::jsonb) FROM ("
        "SELECT k, sum(v) AS t FROM ("
        "SELECT key AS k, value::numeric AS v FROM jsonb_each_text({table}.{column}) "
        "UNION ALL SELECT key, value::numeric FROM jsonb_each_text(excluded.{column})"
        ") AS u GROUP BY k) AS g WHERE t <> 0)"
    ),
    "sqlite": (
        "(SELECT json_group_object(k, t) FROM ("
        "SELECT key AS k, sum(value) AS t FROM ("
        "SELECT key, value FROM json_each({table}.{column}) "
        "UNION ALL SELECT key, value FROM json_each(excluded.{column})"
        ") GROUP BY key) WHERE t <> 0)"
    ),
}

# (period_s, bucket_start, prompt_name, prompt_version, prompt_label, model, source)
Key = tuple[int, datetime, str, int, str, str, str]


def score_value(raw: Any) -> float | None:
    """Return a score as a float: a number, a boolean (1/0) or `{"value": number}`."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float) and math.isfinite(raw):
        return float(raw)
    return None


def floor_time(at: datetime, period_s: int) -> datetime:
    """Return the start of the `period_s`-second bucket (aligned on the epoch) holding `at`."""
    seconds = (at.astimezone(UTC) - _EPOCH) // timedelta(seconds=period_s) * period_s
    return _EPOCH + timedelta(seconds=seconds)


@dataclass
class Delta:
    """What some generations add to one rollup row (negative when they are taken out)."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: Counters = field(default_factory=dict)
    input_chars: Counters = field(default_factory=dict)
    scores: Counters = field(default_factory=dict)
    flags: Counters = field(default_factory=dict)

    def add_row(self, row: Mapping[str, Any], sign: int = 1) -> None:
        """Add one generation row (`sign` -1: take it out)."""
        self.calls += sign
        self.errors += sign * bool(row.get("is_error"))
        self.input_tokens += sign * (row.get("input_tokens") or 0)
        self.output_tokens += sign * (row.get("output_tokens") or 0)
        self.cost_usd += sign * (row.get("cost_usd") or 0.0)
        if row.get("duration_ms") is not None:
            histogram.add(self.latency_ms, float(row["duration_ms"]), weight=sign)
        if row.get("input_chars") is not None:
            histogram.add(self.input_chars, float(row["input_chars"]), weight=sign)
        for name, raw in (row.get("scores") or {}).items():
            value = score_value(raw)
            if value is not None:
                metric = str(name).replace(SEPARATOR, "")
                histogram.add(self.scores, value, prefix=metric + SEPARATOR, weight=sign)
        # A flag counts once per call, however often the call repeats it.
        for flag in {str(flag) for flag in row.get("safety_flags") or ()}:
            self.flags[flag] = self.flags.get(flag, 0) + sign

    def merge(self, other: Delta) -> None:
        """Add another delta to this one."""
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in MAPS:
            histogram.merge(getattr(self, name), getattr(other, name))

    def values(self) -> dict[str, Any]:
        """Return the delta as column values, zero fields of the maps left out."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in MAPS:
            out[name] = {k: v for k, v in out[name].items() if v != 0}
        return out


def dimensions(row: Mapping[str, Any]) -> tuple[str, int, str, str, str]:
    """Return a row's (prompt, version, label, model, source) as the rollup key stores them."""
    model = row.get("model") or row_model(row)
    return (
        row.get("prompt_name") or "",
        row.get("prompt_version") or 0,
        row.get("prompt_label") or "",
        model or "",
        str(row.get("source") or ""),
    )


def deltas(rows: Iterable[Mapping[str, Any]], sign: int = 1) -> dict[Key, Delta]:
    """Return the delta of every rollup row the generation rows touch, one per bucket size."""
    out: dict[Key, Delta] = {}
    for row in rows:
        dims = dimensions(row)
        for period in PERIODS:
            key = (period, floor_time(row["started_at"], period), *dims)
            delta = out.get(key)
            if delta is None:
                delta = out[key] = Delta()
            delta.add_row(row, sign)
    return out


def _merge_map(dialect: str, column: str) -> sa.ColumnElement[Any]:
    """Return SQL adding the JSON map `excluded.<column>` into the stored one, key by key."""
    # Formatted with this module's own table and column names, never with input.
    sql = _MERGE_SQL[dialect].format(table=TABLE.name, column=column)
    return sa.literal_column(sql, type_=TABLE.c[column].type)


def _upsert(session: AsyncSession) -> Any:
    insert = upsert_insert(session, TABLE)
    dialect = session.get_bind().dialect.name
    added: dict[str, Any] = {name: TABLE.c[name] + insert.excluded[name] for name in SUMS}
    added.update({name: _merge_map(dialect, name) for name in MAPS})
    return insert.on_conflict_do_update(index_elements=list(KEY), set_=added)


def _nothing(delta: Delta) -> bool:
    return not any(delta.values().values())


async def write(session: AsyncSession, changes: Mapping[Key, Delta]) -> None:
    """Add deltas to their rollup rows (in sorted key order), in the session's transaction."""
    params = [
        dict(zip(KEY, key, strict=True), **delta.values())
        for key, delta in sorted(changes.items(), key=lambda item: item[0])
        if not _nothing(delta)
    ]
    if params:
        await session.execute(_upsert(session), params)


async def apply(session: AsyncSession, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> None:
    """Add generation rows to the rollups (`sign` -1: take them out), in the same transaction."""
    await write(session, deltas(rows, sign))


async def apply_change(
    session: AsyncSession, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """Move one generation in the rollups from what it was to what it is now."""
    changes = deltas([before], -1)
    for key, delta in deltas([after]).items():
        if key in changes:
            changes[key].merge(delta)
        else:
            changes[key] = delta
    await write(session, changes)
