"""Log-spaced histograms kept as JSON maps that add up: percentiles within a known error.

A value v > 0 falls in bin i = floor(log(v) / log(GAMMA)), the range [GAMMA^i, GAMMA^(i+1));
0 has a bin of its own and negative values (scores may be) mirror the positive ones. A bin
keeps its count and the sum of its values, so every field of a histogram is a sum: two
histograms merge by adding key by key (in SQL, in the upsert), and a row is taken out by
subtracting. A bin's value is the mean of what fell in it, so an order statistic read from a
histogram is within the bin of the true one: its relative error is below GAMMA - 1 (4 %), and
exact when a bin holds one distinct value. Percentiles interpolate between two order
statistics as `tracing.analytics.interpolate` does, so they keep the same bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

GAMMA: Final = 1.04
RELATIVE_ERROR: Final = GAMMA - 1
ZERO: Final = "z"
SUM: Final = "+"  # a bin's sum is stored under its key followed by this
_LOG_GAMMA: Final = math.log(GAMMA)

Counters = dict[str, float]  # the JSON map: key → a number that merges by addition


def bin_key(value: float) -> str:
    """Return the key of the bin `value` falls in."""
    if value == 0:
        return ZERO
    index = math.floor(math.log(abs(value)) / _LOG_GAMMA)
    return f"{'p' if value > 0 else 'n'}{index}"


def add(counters: Counters, value: float, *, prefix: str = "", weight: int = 1) -> None:
    """Add `value` (`weight` times: -1 takes it out) to the histogram in `counters`."""
    key = prefix + bin_key(value)
    counters[key] = counters.get(key, 0) + weight
    if value != 0:
        counters[key + SUM] = counters.get(key + SUM, 0) + weight * value


def merge(into: Counters, other: Mapping[str, float]) -> None:
    """Add every field of `other` to `into`."""
    for key, value in other.items():
        into[key] = into.get(key, 0) + value


def points(counters: Mapping[str, float], *, prefix: str = "") -> list[tuple[float, int]]:
    """Return the histogram's (value, count) pairs, ascending: a bin's value is its mean."""
    out: list[tuple[float, int]] = []
    for key, count in counters.items():
        if not key.startswith(prefix) or key.endswith(SUM):
            continue
        n = round(count)
        if n <= 0:
            continue
        total = counters.get(key + SUM, 0.0) if key[len(prefix) :] != ZERO else 0.0
        out.append((total / n, n))
    out.sort()
    return out


def count(pairs: Iterable[tuple[float, int]]) -> int:
    """Return how many values the (value, count) pairs hold."""
    return sum(n for _, n in pairs)


def _order_statistic(pairs: list[tuple[float, int]], rank: int) -> float:
    seen = 0
    for value, n in pairs:
        seen += n
        if rank < seen:
            return value
    return pairs[-1][0]


def quantile(pairs: list[tuple[float, int]], q: float) -> float | None:
    """Return the `q` quantile (0..1) of ascending (value, count) pairs, interpolated."""
    total = count(pairs)
    if total == 0:
        return None
    position = (total - 1) * q
    low = math.floor(position)
    high = min(low + 1, total - 1)
    a, b = _order_statistic(pairs, low), _order_statistic(pairs, high)
    return a + (b - a) * (position - low)
