"""Drift of a prompt version: PSI of its scores and input length, recent against baseline.

The population stability index compares a recent window with the baseline window before it,
on quantile bins of the baseline; a signal is flagged above a threshold. Both windows are read
from the rollups' histograms (tracing/rollups/histogram.py): a value counts as its histogram
bin's mean, so quantile edges fall between bins (values within 4 % of each other share a
bin) and means are exact.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from tracing.analytics import MAX_WINDOW, as_utc
from tracing.base import utc_now
from tracing.errors import InvalidTimeRangeError
from tracing.rollups import histogram
from tracing.rollups.read import Filters, Query, read_parts
from tracing.rollups.write import INPUT_CHARS, SCORE, Delta
from tracing.schemas import DriftRead, DriftSignal

Points = list[tuple[float, int]]  # ascending (value, count) pairs of a histogram

# The industry rule of thumb for PSI: < 0.1 no significant change, 0.1-0.2 moderate,
# > 0.2 a significant shift (Siddiqi, "Credit Risk Scorecards", 2006; discussed in
# Yurdakul, "Statistical Properties of the Population Stability Index", 2018).
DEFAULT_THRESHOLD: Final = 0.2
DEFAULT_BINS: Final = 10
# Empty bins would make ln(actual / expected) infinite; they count as this fraction instead.
EPSILON: Final = 1e-4
# Fewer points than this per window make the quantile bins (and so PSI) mostly noise.
MIN_SAMPLES: Final = 30


def quantile_edges(baseline: Points, bins: int = DEFAULT_BINS) -> list[float]:
    """Return the distinct inner cut points splitting `baseline` into `bins` quantile bins."""
    if not baseline:
        return []
    return sorted({histogram.quantile(baseline, i / bins) or 0.0 for i in range(1, bins)})


def bin_fractions(points: Points, edges: Sequence[float]) -> list[float]:
    """Return the fraction of the values in each bin (-inf, e1], (e1, e2], ..., (ek, inf)."""
    counts = [0] * (len(edges) + 1)
    for value, n in points:
        counts[bisect_left(edges, value)] += n
    total = sum(counts)
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
    baseline: Points, recent: Points, *, bins: int = DEFAULT_BINS, epsilon: float = EPSILON
) -> float:
    """Return the PSI of `recent` against `baseline`, on quantile bins of the baseline."""
    edges = quantile_edges(baseline, bins)
    return psi(bin_fractions(baseline, edges), bin_fractions(recent, edges), epsilon=epsilon)


def _mean(points: Points) -> float | None:
    total = histogram.count(points)
    return math.fsum(value * n for value, n in points) / total if total else None


def compare(
    metric: str,
    baseline: Points,
    recent: Points,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    bins: int = DEFAULT_BINS,
    min_samples: int = MIN_SAMPLES,
) -> DriftSignal:
    """Return the drift signal of one metric, or `insufficient_data` with the counts."""
    baseline_count, recent_count = histogram.count(baseline), histogram.count(recent)
    enough = baseline_count >= min_samples and recent_count >= min_samples
    value = population_stability_index(baseline, recent, bins=bins) if enough else None
    flag = value is not None and value > threshold
    return DriftSignal(
        metric=metric,
        status="insufficient_data" if value is None else ("drift" if flag else "ok"),
        psi=round(value, 6) if value is not None else None,
        flag=flag,
        baseline_count=baseline_count,
        recent_count=recent_count,
        baseline_mean=_mean(baseline),
        recent_mean=_mean(recent),
    )


def distributions(totals: Delta) -> dict[str, Points]:
    """Return the histogram of input length and of each score metric, as (value, count)."""
    names = sorted({series for series, _ in totals.bins if series.startswith(SCORE)})
    out = {INPUT_CHARS: totals.series(INPUT_CHARS)}
    out.update((name[len(SCORE) :], totals.series(name)) for name in names)
    return {name: points for name, points in out.items() if points}


# The series drift compares: their bins, not their sums.
_DISTRIBUTIONS: Final = Query(detailed=(INPUT_CHARS, SCORE + "%"))


async def _window(
    session: AsyncSession, filters: Filters, start: datetime, end: datetime
) -> dict[str, Points]:
    totals = Delta()
    parts = await read_parts(session, start=start, end=end, filters=filters, query=_DISTRIBUTIONS)
    for part in parts:
        totals.merge(part.delta)
    return distributions(totals)


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
) -> DriftRead:
    """Compare a version's last `recent` against the `baseline` before it, per metric."""
    if baseline <= timedelta(0) or recent <= timedelta(0) or baseline + recent > MAX_WINDOW:
        raise InvalidTimeRangeError(
            f"baseline and recent windows must be positive and span at most {MAX_WINDOW.days} days"
        )
    end = as_utc(now or utc_now())
    recent_start = end - recent
    baseline_start = recent_start - baseline
    filters = Filters(prompt=prompt, version=version)
    before = await _window(session, filters, baseline_start, recent_start)
    after = await _window(session, filters, recent_start, end)
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
