"""Rollups read back: a time range covered by the coarsest buckets that fit, edges exact.

A range [start, end) is split into whole days, then whole hours and whole minutes at its two
ends, and what is left (under a minute at each end) is read from the generations themselves:
answers are those of a full scan, at the cost of O(buckets) rollup rows and at most two
minutes of generations. `max_period` keeps buckets no coarser than the report's own (hourly
reports read no day rows).
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
from tracing.rollups.models import PERIODS, GenerationRollup
from tracing.rollups.write import MAPS, SUMS, Delta, dimensions, floor_time

Range = tuple[datetime, datetime]
# A row stored before the model column existed has none (until `db rebuild-rollups`).
MODEL: Final = sa.func.coalesce(
    col(Generation.model), col(Generation.response_model), col(Generation.request_model)
)
_ROW_FIELDS: Final = tuple(c.name for c in Generation.__table__.columns)  # type: ignore[attr-defined]
_RAW: Final = 0  # the period of a part read from generations


@dataclass(frozen=True)
class Part:
    """The aggregates of one group over one bucket (a rollup row, or edge generations)."""

    start: datetime
    prompt: str | None
    version: int | None
    label: str | None
    model: str | None
    source: str
    delta: Delta


@dataclass(frozen=True)
class Filters:
    """Which generations a read keeps (None: any); `model` is a normalised name."""

    prompt: str | None = None
    version: int | None = None
    label: str | None = None
    model: str | None = None
    source: str | None = None


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


def _rollup_clauses(filters: Filters) -> list[sa.ColumnElement[bool]]:
    pairs: list[tuple[Any, Any]] = [
        (col(GenerationRollup.prompt_name), filters.prompt),
        (col(GenerationRollup.prompt_version), filters.version),
        (col(GenerationRollup.prompt_label), filters.label),
        (col(GenerationRollup.model), filters.model),
        (col(GenerationRollup.source), filters.source),
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


async def _rollup_parts(
    session: AsyncSession, ranges: dict[int, list[Range]], filters: Filters
) -> list[Part]:
    table = GenerationRollup
    bucket = col(table.bucket_start)
    within = [
        sa.and_(col(table.period_s) == period, bucket >= a, bucket < b)
        for period, spans in ranges.items()
        if period != _RAW
        for a, b in spans
    ]
    if not within:
        return []
    statement = sa.select(
        bucket,
        col(table.prompt_name),
        col(table.prompt_version),
        col(table.prompt_label),
        col(table.model),
        col(table.source),
        *(col(getattr(table, name)) for name in (*SUMS, *MAPS)),
    ).where(sa.or_(*within), col(table.calls) != 0, *_rollup_clauses(filters))
    parts = []
    for row in await session.execute(statement):
        delta = Delta(**{name: getattr(row, name) for name in (*SUMS, *MAPS)})
        parts.append(
            Part(
                start=row.bucket_start,
                prompt=row.prompt_name or None,
                version=row.prompt_version or None,
                label=row.prompt_label or None,
                model=row.model or None,
                source=row.source,
                delta=delta,
            )
        )
    return parts


async def _raw_parts(session: AsyncSession, ranges: list[Range], filters: Filters) -> list[Part]:
    if not ranges:
        return []
    started = col(Generation.started_at)
    statement = sa.select(*(col(getattr(Generation, name)) for name in _ROW_FIELDS)).where(
        sa.or_(*(sa.and_(started >= a, started < b) for a, b in ranges)),
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
    max_period: int = max(PERIODS),
) -> list[Part]:
    """Return the parts that together hold exactly the generations of [start, end)."""
    periods = [p for p in PERIODS if p <= max_period]
    ranges = cover(start, end, periods)
    parts = await _rollup_parts(session, ranges, filters)
    return parts + await _raw_parts(session, ranges.get(_RAW, []), filters)
