"""Log-spaced histograms kept as integer bins that add up: percentiles within a known error.

A value v > 0 falls in bin i = floor(log(v) / log(GAMMA)), the range [GAMMA^i, GAMMA^(i+1));
0 has a bin of its own and negative values (scores may be) mirror the positive ones. A bin
keeps its count and the sum of its values, so every field of a histogram is a sum: two
histograms merge by adding bin by bin (in SQL, `SUM(count) GROUP BY bin`), and a value is
taken out by subtracting. A bin's value is the mean of what fell in it, so an order statistic
read from a histogram is within the bin of the true one: its relative error is below
GAMMA - 1 (4 %), and exact when a bin holds one distinct value. Percentiles interpolate
between two order statistics as `tracing.analytics.interpolate` does, so they keep the bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

GAMMA: Final = 1.04
RELATIVE_ERROR: Final = GAMMA - 1
ZERO: Final = 0  # the bin of 0
# Added to a positive value's log index (-18,980 for the smallest double, 18,098 for the
# largest) so that every bin number is an int32, positive above 0 and negative below.
_OFFSET: Final = 20_000
_LOG_GAMMA: Final = math.log(GAMMA)

Bin = list[float]  # [count, sum of the values]: both add up
Points = list[tuple[float, int]]  # ascending (value, count) pairs


def bin_of(value: float) -> int | None:
    """Return the bin `value` falls in (None for a value that is not finite)."""
    if value == 0:
        return ZERO
    if not math.isfinite(value):
        return None
    index = math.floor(math.log(abs(value)) / _LOG_GAMMA) + _OFFSET
    return index if value > 0 else -index


def points(bins: Iterable[tuple[int, Bin]] | Mapping[int, Bin]) -> Points:
    """Return the histogram's (value, count) pairs, ascending: a bin's value is its mean."""
    items = bins.items() if isinstance(bins, Mapping) else bins
    out = [(total / n, n) for n, total in ((round(b[0]), b[1]) for _, b in items) if n > 0]
    out.sort()
    return out


def count(pairs: Iterable[tuple[float, int]]) -> int:
    """Return how many values the (value, count) pairs hold."""
    return sum(n for _, n in pairs)


def _order_statistic(pairs: Points, rank: int) -> float:
    seen = 0
    for value, n in pairs:
        seen += n
        if rank < seen:
            return value
    return pairs[-1][0]


def quantile(pairs: Points, q: float) -> float | None:
    """Return the `q` quantile (0..1) of ascending (value, count) pairs, interpolated."""
    total = count(pairs)
    if total == 0:
        return None
    position = (total - 1) * q
    low = math.floor(position)
    high = min(low + 1, total - 1)
    a, b = _order_statistic(pairs, low), _order_statistic(pairs, high)
    return a + (b - a) * (position - low)
