"""Rollups read back: a time range covered by the coarsest buckets that fit, edges exact.

A range [start, end) is split into whole days, then whole hours and whole minutes at its two
ends, and what is left (under a minute at each end) is read from the generations themselves:
answers are those of a full scan, at the cost of O(buckets) rollup rows and at most two
minutes of generations. `max_period` keeps buckets no coarser than the report's own (hourly
reports read no day rows). Hours and days hold the minutes folded into them
(tracing/rollups/fold.py): after the fold state a range is read from minute rows, and the
bucket the state falls in stands for its minutes before it (`split_at_fold`).

One statement (one snapshot) reads it all: the bins are summed in SQL, grouped by what the
report asks for (its dimensions, the bucket start for a time series, and each bin); the
counters too, unless the report reads latency: then each rollup row comes with its packed
latency histogram, and Python adds counters and merges histograms (numpy) per group.
Callers that want few rows keep their ranges aligned (usage reads a day or more in whole
hours: no minute row, no generation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracing.models import Generation
from tracing.rollups.models import MINUTE, PERIODS, TOTAL
from tracing.rollups.write import (
    BINS,
    LATENCY,
    ROW_FIELDS,
    SUMS,
    TABLE,
    Delta,
    dimensions,
    floor_time,
    folded_until,
)

Range = tuple[datetime, datetime]
# A row stored before the model column existed has none (until `db rebuild-rollups`).
MODEL: Final = sa.func.coalesce(
    col(Generation.model), col(Generation.response_model), col(Generation.request_model)
)
_RAW: Final = 0  # the period of a part read from generations
_ATTEMPTS: Final = 3  # reads raced by a fold before the last, which reads no partial bucket
# A report's dimensions and the rollup columns holding them.
DIMENSIONS: Final = ("prompt", "version", "label", "model", "source")
COLUMNS: Final = dict(zip(DIMENSIONS, ("prompt_name", "prompt_version", "prompt_label",
                                       "model", "source"), strict=True))  # fmt: skip


@dataclass(frozen=True)
class Part:
    """The aggregates of one group (over one bucket, for a time series); None: not grouped."""

    start: datetime | None
    prompt: str | None
    version: int | None
    label: str | None
    model: str | None
    source: str | None
    delta: Delta


@dataclass(frozen=True)
class Filters:
    """Which generations a read keeps (None: any); `model` is a normalised name."""

    prompt: str | None = None
    version: int | None = None
    label: str | None = None
    model: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Query:
    """What a read returns per part.

    The dimensions it groups by, per bucket or not; the series (LIKE patterns) whose bins
    it needs (`latency`: the packed histogram), and those it needs summed (their bin TOTAL:
    a score's count and sum, a flag's count). Other series are not read.
    """

    group_by: Sequence[str] = ()
    by_bucket: bool = False
    detailed: Sequence[str] = ()
    summed: Sequence[str] = ()


def cover(start: datetime, end: datetime, periods: Sequence[int]) -> dict[int, list[Range]]:
    """Split [start, end) into aligned ranges per bucket size, coarsest first; 0: the rest."""
    out: dict[int, list[Range]] = {}

    def split(a: datetime, b: datetime, level: int) -> None:
        if a >= b:
            return
        if level == len(periods):
            out.setdefault(_RAW, []).append((a, b))
            return
        period = periods[level]
        low = floor_time(a, period)
        low = low if low == a else low + timedelta(seconds=period)
        high = floor_time(b, period)
        if low < high:
            out.setdefault(period, []).append((low, high))
            split(a, low, level + 1)
            split(high, b, level + 1)
        else:
            split(a, b, level + 1)

    split(start, end, 0)
    return out


def split_at_fold(
    start: datetime,
    end: datetime,
    periods: Sequence[int],
    folded: datetime | None,
    *,
    partial: bool = True,
) -> dict[int, list[Range]]:
    """Cover [start, end) with every size before `folded`, with minutes only from it on.

    Hour and day rows hold the minutes before `folded` only (tracing/rollups/fold.py), so
    the coarsest row whose bucket holds `folded` holds exactly [its start, folded): with
    `partial`, it stands for that span (one row per group for today so far). That is right
    only if `folded` was read in the snapshot the rows are read in (`read_parts` checks);
    without `partial`, a stale `folded` is still right: rows wholly before it do not change.
    """
    if folded is None or folded >= end:
        return cover(start, end, periods)
    minutes = [p for p in periods if p == MINUTE]
    if folded <= start:
        return cover(start, end, minutes)
    out: dict[int, list[Range]] = {}
    cut = folded
    for period in periods if partial else ():
        low = floor_time(folded, period)
        if start <= low < folded:
            out[period] = [(low, folded)]  # the one bucket of this size starting in there
            cut = low
            break
    for part in (cover(start, cut, periods), cover(folded, end, minutes)):
        for period, spans in part.items():
            out.setdefault(period, []).extend(spans)
    return out


def _rollup_clauses(filters: Filters) -> list[sa.ColumnElement[bool]]:
    pairs: list[tuple[Any, Any]] = [
        (TABLE.c.prompt_name, filters.prompt),
        (TABLE.c.prompt_version, filters.version),
        (TABLE.c.prompt_label, filters.label),
        (TABLE.c.model, filters.model),
        (TABLE.c.source, filters.source),
    ]
    return [column == value for column, value in pairs if value is not None]


def generation_clauses(filters: Filters) -> list[sa.ColumnElement[bool]]:
    """Return the WHERE clauses of `filters` on the generations table."""
    pairs: list[tuple[Any, Any]] = [
        (col(Generation.prompt_name), filters.prompt),
        (col(Generation.prompt_version), filters.version),
        (col(Generation.prompt_label), filters.label),
        (MODEL, filters.model),
        (col(Generation.source), filters.source),
    ]
    return [column == value for column, value in pairs if value is not None]


def _within(ranges: dict[int, list[Range]]) -> list[sa.ColumnElement[bool]]:
    bucket = TABLE.c.bucket_start
    return [
        sa.and_(TABLE.c.period_s == period, bucket >= a, bucket < b)
        for period, spans in ranges.items()
        if period != _RAW
        for a, b in spans
    ]


def _grouping(query: Query) -> list[sa.ColumnElement[Any]]:
    columns = [TABLE.c.bucket_start] if query.by_bucket else []
    return columns + [TABLE.c[COLUMNS[d]] for d in DIMENSIONS if d in query.group_by]


def _statement(where: list[sa.ColumnElement[bool]], query: Query) -> sa.CompoundSelect[Any]:
    """Counters per group, then bins per group, series and bin, in one UNION ALL.

    When the query reads latency, counters come per rollup row with its packed histogram
    (histograms merge in Python, not in SQL).
    """
    keys = _grouping(query)
    none = sa.null()
    latency = LATENCY in query.detailed
    sums: list[sa.ColumnElement[Any]]
    if latency:
        sums = [TABLE.c[name] for name in SUMS]
    else:
        sums = [sa.cast(sa.func.sum(TABLE.c[name]), TABLE.c[name].type) for name in SUMS]
    counters = sa.select(
        *keys,
        sa.cast(none, BINS.c.series.type),
        sa.cast(none, sa.Integer),
        *sums,
        sa.cast(none, sa.BigInteger),
        sa.cast(none, sa.Float),
        TABLE.c.latency if latency else sa.cast(none, TABLE.c.latency.type),
    ).where(*where)
    if not latency:
        counters = counters.group_by(*keys)
    series = BINS.c.series
    histograms = [series.like(p) for p in query.detailed if p != LATENCY]
    detailed = sa.and_(sa.or_(sa.false(), *histograms), BINS.c.bin != TOTAL)
    summed = sa.and_(sa.or_(sa.false(), *(series.like(p) for p in query.summed)),
                     BINS.c.bin == TOTAL)  # fmt: skip
    bins = (
        sa.select(
            *keys,
            series,
            BINS.c.bin,
            *(sa.cast(sa.null(), TABLE.c[n].type) for n in SUMS),
            sa.cast(sa.func.sum(BINS.c["count"]), sa.BigInteger),
            sa.func.sum(BINS.c.sum),
            sa.cast(none, TABLE.c.latency.type),
        )
        .select_from(BINS.join(TABLE, TABLE.c.id == BINS.c.rollup_id))
        .where(*where, sa.or_(detailed, summed))
        .group_by(*keys, series, BINS.c.bin)
    )
    return sa.union_all(counters, bins)


async def _rollup_parts(
    session: AsyncSession, ranges: dict[int, list[Range]], filters: Filters, query: Query
) -> list[Part]:
    within = _within(ranges)
    if not within:
        return []
    statement = _statement([sa.or_(*within), *_rollup_clauses(filters)], query)
    width = len(_grouping(query))
    dims = [d for d in DIMENSIONS if d in query.group_by]
    parts: dict[tuple[Any, ...], Part] = {}
    for row in await session.execute(statement):
        key = tuple(row[:width])
        part = parts.get(key)
        if part is None:
            start = key[0] if query.by_bucket else None
            found = dict(zip(dims, key[width - len(dims) :], strict=True))
            values = {d: found.get(d) or None for d in DIMENSIONS}
            part = parts[key] = Part(start=start, delta=Delta(), **values)
        series, index, *sums, count, total, latency = row[width:]
        if series is None:
            delta = part.delta
            for name, value in zip(SUMS, sums, strict=True):
                setattr(delta, name, getattr(delta, name) + (value or 0))
            if latency:
                delta.packed.append(latency)
        else:
            part.delta.add_bin((series, index), int(count or 0), total or 0.0)
    return list(parts.values())


async def _raw_parts(session: AsyncSession, ranges: list[Range], filters: Filters) -> list[Part]:
    if not ranges:
        return []
    started = col(Generation.started_at)
    statement = sa.select(*(col(getattr(Generation, name)) for name in ROW_FIELDS)).where(
        sa.or_(*(sa.and_(started >= a, started < b) for a, b in ranges)),
        col(Generation.is_duplicate) == sa.false(),  # not rolled up either (tracing/dedupe.py)
        *generation_clauses(filters),
    )
    parts = []
    for row in await session.execute(statement):
        mapping = dict(row._mapping)
        delta = Delta()
        delta.add_row(mapping)
        prompt, version, label, model, source = dimensions(mapping)
        part = Part(row.started_at, prompt or None, version or None, label or None,
                    model or None, source, delta)  # fmt: skip
        parts.append(part)
    return parts


async def read_parts(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    filters: Filters = Filters(),
    query: Query = Query(),
    max_period: int = max(PERIODS),
) -> list[Part]:
    """Return parts that together hold exactly the generations of [start, end).

    Rollup parts are grouped as `query` asks; parts read from the range's edges are single
    generations with every dimension: the caller folds them into its groups.
    """
    periods = [p for p in PERIODS if p <= max_period]
    for attempt in range(_ATTEMPTS):
        folded = await folded_until(session)
        ranges = split_at_fold(start, end, periods, folded, partial=attempt < _ATTEMPTS - 1)
        parts = await _rollup_parts(session, ranges, filters, query)
        # Unchanged after the read: the rows were read in a snapshot where it held (it only
        # grows, in the transaction that folds). Otherwise a fold came between: read again.
        if attempt == _ATTEMPTS - 1 or await folded_until(session) == folded:
            break
    return parts + await _raw_parts(session, ranges.get(_RAW, []), filters)
