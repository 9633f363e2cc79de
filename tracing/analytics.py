"""Usage analytics over generations: calls, errors, tokens, cost, latency, scores and flags.

Rows are aggregated in Python from a bounded scan (the time range and the row count are both
capped), which keeps percentiles and time buckets identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracing.base import utc_now
from tracing.errors import InvalidTimeRangeError, ScanLimitExceededError
from tracing.models import Generation
from tracing.schemas import (
    Bucket,
    Dimension,
    GenerationPage,
    GenerationRead,
    ScoreSummary,
    Source,
    UsageRead,
    UsageRow,
)

DEFAULT_WINDOW: Final = timedelta(days=7)
MAX_WINDOW: Final = timedelta(days=90)
MAX_SCANNED: Final = 200_000
DIMENSIONS: Final[tuple[Dimension, ...]] = ("prompt", "version", "label", "model")

# The model that answered, else the one asked for (ingested spans may carry only one).
# A gateway call's ingested client span is stored but is not a call of its own (tracing/dedupe.py).
COUNTED: Final = col(Generation.is_duplicate) == sa.false()
MODEL: Final = sa.func.coalesce(col(Generation.response_model), col(Generation.request_model))

Key = tuple[Any, ...]  # (bucket_start, prompt, version, label, model); ungrouped parts are None


def as_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC (a naive value is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_range(
    start: datetime | None,
    end: datetime | None,
    *,
    now: datetime | None = None,
    default: timedelta = DEFAULT_WINDOW,
    limit: timedelta = MAX_WINDOW,
) -> tuple[datetime, datetime]:
    """Return the bounded [start, end) range: `default` before `end` (now) unless given."""
    stop = as_utc(end) if end is not None else as_utc(now or utc_now())
    begin = as_utc(start) if start is not None else stop - default
    if begin >= stop:
        raise InvalidTimeRangeError(
            f"start {begin.isoformat()} must be before end {stop.isoformat()}"
        )
    if stop - begin > limit:
        raise InvalidTimeRangeError(
            f"the range spans {(stop - begin) / timedelta(days=1):.1f} days; "
            f"at most {limit.days} are allowed"
        )
    return begin, stop


async def scan(session: AsyncSession, statement: sa.Select[Any], limit: int) -> Sequence[Any]:
    """Return the statement's rows, refusing to read more than `limit` of them."""
    rows = (await session.execute(statement.limit(limit + 1))).all()
    if len(rows) > limit:
        raise ScanLimitExceededError(
            f"more than {limit} generations match; narrow the time range or add filters"
        )
    return rows


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the `q` quantile (0..1) with linear interpolation, as PG's percentile_cont."""
    if not values:
        return None
    return interpolate(sorted(values), q)


def interpolate(ordered: Sequence[float], q: float) -> float:
    """Return the `q` quantile of already sorted, non-empty values."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def score_value(raw: Any) -> float | None:
    """Return a score as a float: a number, a boolean (1/0) or `{"value": number}`."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float) and math.isfinite(raw):
        return float(raw)
    return None


def bucket_start(at: datetime, bucket: Bucket) -> datetime:
    """Return the start of the UTC hour or day that `at` falls in."""
    at = as_utc(at).replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if bucket == "day" else at


@dataclass
class _Totals:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    durations: list[float] = field(default_factory=list)
    scores: dict[str, list[float]] = field(default_factory=dict)
    flags: Counter[str] = field(default_factory=Counter)

    def add(self, row: Any) -> None:
        self.calls += 1
        self.errors += bool(row.is_error)
        self.input_tokens += row.input_tokens or 0
        self.output_tokens += row.output_tokens or 0
        self.cost_usd += row.cost_usd or 0.0
        if row.duration_ms is not None:
            self.durations.append(float(row.duration_ms))
        for name, raw in (row.scores or {}).items():
            value = score_value(raw)
            if value is not None:
                self.scores.setdefault(str(name), []).append(value)
        # A flag counts once per call, however often the call repeats it.
        self.flags.update({str(flag) for flag in row.safety_flags or ()})

    def to_row(self, key: Key) -> UsageRow:
        ordered = sorted(self.durations)
        return UsageRow(
            bucket_start=key[0],
            prompt=key[1],
            version=key[2],
            label=key[3],
            model=key[4],
            calls=self.calls,
            errors=self.errors,
            error_rate=self.errors / self.calls,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost_usd=round(self.cost_usd, 10),
            latency_p50_ms=interpolate(ordered, 0.5) if ordered else None,
            latency_p95_ms=interpolate(ordered, 0.95) if ordered else None,
            scores={
                name: ScoreSummary(mean=math.fsum(values) / len(values), count=len(values))
                for name, values in sorted(self.scores.items())
            },
            safety_flags=dict(sorted(self.flags.items())),
        )


@dataclass(frozen=True)
class UsageFilter:
    """Which generations to aggregate (None: any)."""

    prompt: str | None = None
    version: int | None = None
    label: str | None = None
    model: str | None = None
    source: Source | None = None

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """Return the WHERE clauses of the given fields."""
        pairs: list[tuple[Any, Any]] = [
            (col(Generation.prompt_name), self.prompt),
            (col(Generation.prompt_version), self.version),
            (col(Generation.prompt_label), self.label),
            (MODEL, self.model),
            (col(Generation.source), self.source),
        ]
        return [column == value for column, value in pairs if value is not None]


def _key(row: Any, group_by: Sequence[Dimension], bucket: Bucket | None) -> Key:
    values = {
        "prompt": row.prompt_name,
        "version": row.prompt_version,
        "label": row.prompt_label,
        "model": row.model,
    }
    return (
        bucket_start(row.started_at, bucket) if bucket else None,
        *(values[d] if d in group_by else None for d in DIMENSIONS),
    )


def _sort_key(key: Key) -> tuple[tuple[bool, Any], ...]:
    return tuple((part is None, part if part is not None else 0) for part in key)


async def usage(
    session: AsyncSession,
    *,
    group_by: Sequence[Dimension] = ("prompt",),
    bucket: Bucket | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    filters: UsageFilter = UsageFilter(),
    now: datetime | None = None,
    max_scanned: int = MAX_SCANNED,
) -> UsageRead:
    """Aggregate generations in [start, end) per group and time bucket."""
    begin, stop = time_range(start, end, now=now)
    dims: list[Dimension] = list(dict.fromkeys(group_by))
    statement = sa.select(
        col(Generation.started_at),
        col(Generation.prompt_name),
        col(Generation.prompt_version),
        col(Generation.prompt_label),
        MODEL.label("model"),
        col(Generation.is_error),
        col(Generation.input_tokens),
        col(Generation.output_tokens),
        col(Generation.cost_usd),
        col(Generation.duration_ms),
        col(Generation.scores),
        col(Generation.safety_flags),
    ).where(
        col(Generation.started_at) >= begin,
        col(Generation.started_at) < stop,
        COUNTED,
        *filters.clauses(),
    )
    groups: dict[Key, _Totals] = {}
    rows = await scan(session, statement, max_scanned)
    for row in rows:
        groups.setdefault(_key(row, dims, bucket), _Totals()).add(row)
    return UsageRead(
        start=begin,
        end=stop,
        group_by=dims,
        bucket=bucket,
        scanned=len(rows),
        rows=[groups[key].to_row(key) for key in sorted(groups, key=_sort_key)],
    )


async def list_generations(
    session: AsyncSession,
    *,
    filters: UsageFilter = UsageFilter(),
    trace_id: str | None = None,
    errors: bool | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> GenerationPage:
    """List generations, newest first: those of one trace, or those in [start, end).

    A trace is looked up whatever its age, with the client spans of its gateway calls (their
    `is_duplicate` set); otherwise the time range is bounded as for usage, and each call
    listed once.
    """
    clauses = filters.clauses()
    if trace_id is not None:
        clauses.append(col(Generation.trace_id) == trace_id.lower())
    else:
        clauses.append(COUNTED)
    if trace_id is None or start is not None or end is not None:
        begin, stop = time_range(start, end, now=now)
        clauses += [col(Generation.started_at) >= begin, col(Generation.started_at) < stop]
    if errors is not None:
        clauses.append(col(Generation.is_error) == errors)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Generation).where(*clauses))
    order = (col(Generation.started_at).desc(), col(Generation.id).desc())
    rows = await session.scalars(
        sa.select(Generation).where(*clauses).order_by(*order).limit(limit).offset(offset)
    )
    items = [GenerationRead.model_validate(row) for row in rows]
    return GenerationPage(items=items, total=total or 0, limit=limit, offset=offset)
