"""Packed latency histograms: bins add up, empty bins go, many merge as one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracing.rollups import histogram, packed

values = st.lists(
    st.floats(-1e9, 1e9, allow_nan=False) | st.sampled_from([0.0, 5e-324, 1e300, -1e300]),
    max_size=30,
)


def binned(numbers: list[float], sign: int = 1) -> dict[int, histogram.Bin]:
    out: dict[int, histogram.Bin] = {}
    for number in numbers:
        index = histogram.bin_of(number)
        assert index is not None
        found = out.setdefault(index, [0, 0.0])
        found[0] += sign
        found[1] += sign * number
    return out


def same(a: dict[int, histogram.Bin], b: dict[int, histogram.Bin]) -> bool:
    return a.keys() == b.keys() and all(
        a[i][0] == b[i][0] and a[i][1] == pytest.approx(b[i][1], rel=1e-12) for i in a
    )


@given(st.lists(values, max_size=6))
def test_merging_packed_histograms_equals_binning_every_value(parts: list[list[float]]) -> None:
    merged = packed.merge(packed.pack(binned(part)) for part in parts)
    assert same(merged, binned([v for p in parts for v in p]))


@given(values, values)
def test_adding_then_taking_out_leaves_what_was_there(
    kept: list[float], moved: list[float]
) -> None:
    stored = packed.pack(binned(kept))
    grown = packed.add(stored, binned(moved))
    assert same(packed.unpack(grown), binned(kept + moved))
    assert same(packed.unpack(packed.add(grown, binned(moved, sign=-1))), binned(kept))


def test_an_emptied_histogram_packs_to_nothing() -> None:
    stored = packed.pack(binned([120.0, 130.0]))
    assert len(stored) == 2 * packed.RECORD.itemsize
    assert packed.add(stored, binned([120.0, 130.0], sign=-1)) == packed.EMPTY
    assert packed.unpack(None) == packed.merge([None, b""]) == {}


def test_a_bin_out_of_range_is_refused() -> None:
    bad = packed.pack({-50_000: [1, 1.0]})
    with pytest.raises(ValueError, match="out of range"):
        packed.merge([bad])
