"""Usage analytics over generations: calls, errors, tokens, cost, latency, scores and flags.

Reports read the rollups (tracing/rollups/): O(buckets) rollup rows and, for a range under a
day, at most two minutes of generations at its edges, whatever the number of generations; a
range of a day or more is widened to whole hours (`widened`). Counts and sums are those of a
full scan of the range reported; latency percentiles come from the rollups' histograms, within
`histogram.RELATIVE_ERROR` of the exact value. Models are normalised (tracing/model_names.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracing.base import utc_now
from tracing.errors import InvalidTimeRangeError
from tracing.model_names import normalise_model
from tracing.models import Generation
from tracing.rollups import histogram
from tracing.rollups.histogram import Bin
from tracing.rollups.models import DAY, HOUR, TOTAL
from tracing.rollups.read import Filters, Part, Query, generation_clauses, read_parts
from tracing.rollups.write import FLAG, LATENCY, SCORE, Delta, floor_time
from tracing.rollups.write import score_value as score_value  # how analytics read a score
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

WHOLE_HOURS_FROM: Final = timedelta(days=1)  # a usage range this long is read in whole hours
DEFAULT_WINDOW: Final = timedelta(days=7)
MAX_WINDOW: Final = timedelta(days=90)
DIMENSIONS: Final[tuple[Dimension, ...]] = ("prompt", "version", "label", "model")

# The coarsest rollup a report reads: one no coarser than its own buckets.
_PERIODS: Final[Mapping[Bucket | None, int]] = {None: DAY, "day": DAY, "hour": HOUR}
# A gateway call's ingested client span is stored but is not a call of its own (tracing/dedupe.py).
COUNTED: Final = col(Generation.is_duplicate) == sa.false()

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
    try:
        stop = as_utc(end) if end is not None else as_utc(now or utc_now())
        begin = as_utc(start) if start is not None else stop - default
    except OverflowError:  # year 1 with an offset, or a default window before year 1
        raise InvalidTimeRangeError(
            f"the range {start} – {end} is outside the dates this server handles"
        ) from None
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


def widened(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return a report's range: one of `WHOLE_HOURS_FROM` or longer widened to whole hours.

    Such a range is read from day and hour rollups only; its start moves back and its end
    forward by under an hour each (under 1.2 % of a week), where exact edges would read a
    minute rollup row per group for up to two hours and cost more than the rest of the range.
    """
    if end - start < WHOLE_HOURS_FROM:
        return start, end
    low = floor_time(start, HOUR)
    high = floor_time(end, HOUR)
    return low, high if high == end else high + timedelta(hours=1)


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


def bucket_start(at: datetime, bucket: Bucket) -> datetime:
    """Return the start of the UTC hour or day that `at` falls in."""
    at = as_utc(at).replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if bucket == "day" else at


def _totals(totals: Delta, prefix: str) -> dict[str, Bin]:
    """Return the count and sum of each series named `prefix`…, by the name after it."""
    return {
        series[len(prefix) :]: [round(count), total]
        for (series, index), (count, total) in sorted(totals.bins.items())
        if index == TOTAL and series.startswith(prefix) and round(count) > 0
    }


def _scores(totals: Delta) -> dict[str, ScoreSummary]:
    """Return each metric's mean and count."""
    return {
        metric: ScoreSummary(mean=total / count, count=round(count))
        for metric, (count, total) in _totals(totals, SCORE).items()
    }


def _flags(totals: Delta) -> dict[str, int]:
    return {flag: round(count) for flag, (count, _) in _totals(totals, FLAG).items()}


def _row(key: Key, totals: Delta) -> UsageRow:
    durations = totals.series(LATENCY)
    return UsageRow(
        bucket_start=key[0],
        prompt=key[1],
        version=key[2],
        label=key[3],
        model=key[4],
        calls=totals.calls,
        errors=totals.errors,
        error_rate=totals.errors / totals.calls,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cost_usd=round(totals.cost_usd, 10),
        latency_p50_ms=histogram.quantile(durations, 0.5),
        latency_p95_ms=histogram.quantile(durations, 0.95),
        scores=_scores(totals),
        safety_flags=_flags(totals),
    )


@dataclass(frozen=True)
class UsageFilter:
    """Which generations to aggregate (None: any); a model matches by its normalised name."""

    prompt: str | None = None
    version: int | None = None
    label: str | None = None
    model: str | None = None
    source: Source | None = None

    def for_rollups(self) -> Filters:
        """Return the filters as rollups read them (the model normalised)."""
        return Filters(
            prompt=self.prompt,
            version=self.version,
            label=self.label,
            model=normalise_model(self.model) if self.model is not None else None,
            source=self.source,
        )

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """Return the WHERE clauses of the given fields on the generations table."""
        return generation_clauses(self.for_rollups())


def _key(part: Part, group_by: Sequence[Dimension], bucket: Bucket | None) -> Key:
    values = {"prompt": part.prompt, "version": part.version, "label": part.label,
              "model": part.model}  # fmt: skip
    return (
        bucket_start(part.start, bucket) if bucket and part.start else None,
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
) -> UsageRead:
    """Aggregate generations in [start, end) per group and time bucket, from the rollups."""
    begin, stop = widened(*time_range(start, end, now=now))
    dims: list[Dimension] = list(dict.fromkeys(group_by))
    parts = await read_parts(
        session,
        start=begin,
        end=stop,
        filters=filters.for_rollups(),
        query=Query(
            group_by=dims,
            by_bucket=bucket is not None,
            detailed=(LATENCY,),
            summed=(SCORE + "%", FLAG + "%"),
        ),
        max_period=_PERIODS[bucket],
    )
    groups: dict[Key, Delta] = {}
    for part in parts:
        groups.setdefault(_key(part, dims, bucket), Delta()).merge(part.delta)
    rows = [_row(key, groups[key]) for key in sorted(groups, key=_sort_key) if groups[key].calls]
    return UsageRead(
        start=begin,
        end=stop,
        group_by=dims,
        bucket=bucket,
        scanned=sum(row.calls for row in rows),
        rows=rows,
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
