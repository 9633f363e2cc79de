"""A histogram packed in one value: the latency of a rollup row, read without a row per bin.

A packed histogram is the concatenation of its non-empty bins in ascending order, each a
20-byte little-endian record (bin int32, count int64, sum float64): the same bins, counts and
sums as tracing/rollups/histogram.py keeps, in one column of the rollup row. A report reads
one value per rollup row and merges thousands of them with numpy in a few milliseconds, where
the same bins as rows cost the database one row each to fetch and group. Writers merge the
delta of a batch into the stored value under the row's lock (tracing/rollups/write.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np

from tracing.rollups.histogram import Bin

RECORD: Final = np.dtype([("bin", "<i4"), ("count", "<i8"), ("sum", "<f8")])
EMPTY: Final = b""
# Added to a bin before counting bins in an array: every bin of a finite double is above -_SHIFT.
_SHIFT: Final = 40_000


def pack(bins: Mapping[int, Bin]) -> bytes:
    """Return the bins holding values (count not 0) packed, in ascending bin order."""
    kept = sorted((index, round(b[0]), float(b[1])) for index, b in bins.items() if round(b[0]))
    return np.array(kept, dtype=RECORD).tobytes() if kept else EMPTY


def unpack(value: bytes | None) -> dict[int, Bin]:
    """Return a packed histogram's bins as {bin: [count, sum]}."""
    if not value:
        return {}
    records = np.frombuffer(value, dtype=RECORD)
    return {int(r["bin"]): [int(r["count"]), float(r["sum"])] for r in records}


def add(value: bytes | None, delta: Mapping[int, Bin]) -> bytes:
    """Return a packed histogram with `delta`'s counts and sums added (bins left empty go).

    A delta holds a few bins (one batch's values of one rollup row): each is found by binary
    search in the stored bins, which are copied once, not unpacked into Python objects.
    """
    records = np.frombuffer(value, dtype=RECORD).copy() if value else np.empty(0, RECORD)
    for index, (count, total) in sorted(delta.items()):
        at = int(np.searchsorted(records["bin"], index))
        if at < len(records) and records["bin"][at] == index:
            records["count"][at] += round(count)
            records["sum"][at] += total
        else:
            records = np.insert(records, at, (index, round(count), total))
    kept = records[records["count"] != 0]
    return kept.tobytes() if len(kept) else EMPTY


def merge(values: Iterable[bytes | None]) -> dict[int, Bin]:
    """Return the bins of many packed histograms added together (vectorised)."""
    joined = b"".join(value for value in values if value)
    if not joined:
        return {}
    records = np.frombuffer(joined, dtype=RECORD)
    position = records["bin"].astype(np.int64) + _SHIFT
    if position.min() < 0:  # no bin of a finite double is this low (histogram.bin_of)
        raise ValueError("a packed histogram holds a bin out of range")
    counts = np.bincount(position, weights=records["count"])
    sums = np.bincount(position, weights=records["sum"])
    return {
        int(at) - _SHIFT: [round(counts[at]), float(sums[at])]
        for at in np.flatnonzero(np.rint(counts))
    }
