"""Drift of a prompt version: PSI of its scores and input length, recent against baseline.

The population stability index compares a recent window with the baseline window before it,
on quantile bins of the baseline; a signal is flagged above a threshold.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tracing.analytics import (
    COUNTED,
    MAX_SCANNED,
    MAX_WINDOW,
    as_utc,
    interpolate,
    scan,
    score_value,
)
from tracing.base import utc_now
from tracing.errors import InvalidTimeRangeError
from tracing.models import Generation
from tracing.schemas import DriftRead, DriftSignal

# The industry rule of thumb for PSI: < 0.1 no significant change, 0.1-0.2 moderate,
# > 0.2 a significant shift (Siddiqi, "Credit Risk Scorecards", 2006; discussed in
# Yurdakul, "Statistical Properties of the Population Stability Index", 2018).
DEFAULT_THRESHOLD: Final = 0.2
DEFAULT_BINS: Final = 10
# Empty bins would make ln(actual / expected) infinite; they count as this fraction instead.
EPSILON: Final = 1e-4
# Fewer points than this per window make the quantile bins (and so PSI) mostly noise.
MIN_SAMPLES: Final = 30
INPUT_CHARS: Final = "input_chars"


def quantile_edges(baseline: Sequence[float], bins: int = DEFAULT_BINS) -> list[float]:
    """Return the distinct inner cut points splitting `baseline` into `bins` quantile bins."""
    if not baseline:
        return []
    ordered = sorted(baseline)
    return sorted({interpolate(ordered, i / bins) for i in range(1, bins)})


def bin_fractions(values: Sequence[float], edges: Sequence[float]) -> list[float]:
    """Return the fraction of `values` in each bin (-inf, e1], (e1, e2], ..., (ek, inf)."""
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect_left(edges, value)] += 1
    total = len(values)
    return [count / total if total else 0.0 for count in counts]


def psi(expected: Sequence[float], actual: Sequence[float], *, epsilon: float = EPSILON) -> float:
    """Return sum((a - e) * ln(a / e)) over bins; fractions below `epsilon` count as it."""
    if len(expected) != len(actual):
        raise ValueError("expected and actual need the same number of bins")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, epsilon), max(a, epsilon)
        total += (a - e) * math.log(a / e)
    return total


def population_stability_index(
    baseline: Sequence[float],
    recent: Sequence[float],
    *,
    bins: int = DEFAULT_BINS,
    epsilon: float = EPSILON,
) -> float:
    """Return the PSI of `recent` against `baseline`, on quantile bins of the baseline."""
    edges = quantile_edges(baseline, bins)
    return psi(bin_fractions(baseline, edges), bin_fractions(recent, edges), epsilon=epsilon)


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def compare(
    metric: str,
    baseline: Sequence[float],
    recent: Sequence[float],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    bins: int = DEFAULT_BINS,
    min_samples: int = MIN_SAMPLES,
) -> DriftSignal:
    """Return the drift signal of one metric, or `insufficient_data` with the counts."""
    enough = len(baseline) >= min_samples and len(recent) >= min_samples
    value = population_stability_index(baseline, recent, bins=bins) if enough else None
    flag = value is not None and value > threshold
    return DriftSignal(
        metric=metric,
        status="insufficient_data" if value is None else ("drift" if flag else "ok"),
        psi=round(value, 6) if value is not None else None,
        flag=flag,
        baseline_count=len(baseline),
        recent_count=len(recent),
        baseline_mean=_mean(baseline),
        recent_mean=_mean(recent),
    )


def _collect(row: Any, into: dict[str, list[float]]) -> None:
    if row.input_chars is not None:
        into.setdefault(INPUT_CHARS, []).append(float(row.input_chars))
    for name, raw in (row.scores or {}).items():
        value = score_value(raw)
        if value is not None:
            into.setdefault(str(name), []).append(value)


async def drift(
    session: AsyncSession,
    *,
    prompt: str,
    version: int,
    metric: str | None = None,
    baseline: timedelta = timedelta(days=7),
    recent: timedelta = timedelta(days=1),
    threshold: float = DEFAULT_THRESHOLD,
    min_samples: int = MIN_SAMPLES,
    now: datetime | None = None,
    max_scanned: int = MAX_SCANNED,
) -> DriftRead:
    """Compare a version's last `recent` against the `baseline` before it, per metric."""
    if baseline <= timedelta(0) or recent <= timedelta(0) or baseline + recent > MAX_WINDOW:
        raise InvalidTimeRangeError(
            f"baseline and recent windows must be positive and span at most {MAX_WINDOW.days} days"
        )
    end = as_utc(now or utc_now())
    recent_start = end - recent
    baseline_start = recent_start - baseline
    statement = sa.select(
        col(Generation.started_at), col(Generation.scores), col(Generation.input_chars)
    ).where(
        col(Generation.prompt_name) == prompt,
        col(Generation.prompt_version) == version,
        col(Generation.started_at) >= baseline_start,
        col(Generation.started_at) < end,
        COUNTED,
    )
    before: dict[str, list[float]] = {}
    after: dict[str, list[float]] = {}
    for row in await scan(session, statement, max_scanned):
        _collect(row, after if row.started_at >= recent_start else before)
    names = [metric] if metric else sorted(before.keys() | after.keys())
    signals = [
        compare(
            name,
            before.get(name, []),
            after.get(name, []),
            threshold=threshold,
            min_samples=min_samples,
        )
        for name in names
    ]
    return DriftRead(
        prompt=prompt,
        version=version,
        baseline_start=baseline_start,
        baseline_end=recent_start,
        recent_start=recent_start,
        recent_end=end,
        threshold=threshold,
        min_samples=min_samples,
        flagged=any(s.flag for s in signals),
        signals=signals,
    )
