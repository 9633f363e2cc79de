"""Rollups kept up to date in the writer's transaction: rows are summed per key, then upserted.

`apply(session, rows, sign)` adds generation rows to their rollups: a row's minute row, and its
hour and day rows only if its minute is already folded (tracing/rollups/fold.py folds the
others later), which `apply` reads under a share lock on the fold state (sign=-1 takes rows out:
a generation whose prompt link or scores change is taken out as it was and added as it is,
`apply_change`). The rows of one call are summed per rollup key in Python first, then written
in three statements: a multi-row INSERT … ON CONFLICT DO UPDATE adding the counters column by
column, which locks each row and returns its id and packed latency histogram; an UPDATE of
the latency histograms with the batch's bins added (tracing/rollups/packed.py); and a
multi-row upsert of the other bins. Concurrent writers add to the same row without losing an
update (the conflicting row is locked until commit, on PostgreSQL, or the database has one
writer, on SQLite). Keys are written in sorted order, and a rollup row's histogram and bins
only by the transaction holding its lock, so two writers never deadlock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.model_names import row_model
from tracing.rollups import histogram, packed, sql
from tracing.rollups.histogram import Bin
from tracing.rollups.models import (
    KEY,
    MINUTE,
    PERIODS,
    SERIES_CHARS,
    TOTAL,
    GenerationRollup,
    GenerationRollupBin,
    RollupState,
)

TABLE: Final = cast(sa.Table, GenerationRollup.__table__)  # type: ignore[attr-defined]
BINS: Final = cast(sa.Table, GenerationRollupBin.__table__)  # type: ignore[attr-defined]
STATE: Final = cast(sa.Table, RollupState.__table__)  # type: ignore[attr-defined]
SUMS: Final = ("calls", "errors", "input_tokens", "output_tokens", "cost_usd")
# Series: latency (packed in the rollup row), then those of generation_rollup_bins: input
# length, one per score metric (a histogram and its TOTAL), one counter per flag (TOTAL only).
LATENCY: Final = "latency"
INPUT_CHARS: Final = "input_chars"
SCORE: Final = "score:"  # followed by the metric
FLAG: Final = "flag:"  # followed by the flag; bin TOTAL counts the calls that raised it
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)
# The columns of a generation the rollups read (a later update passes them before and after).
ROW_FIELDS: Final = ("started_at", "prompt_name", "prompt_version", "prompt_label", "model",
                     "source", "request_model", "response_model", "is_error", "input_tokens",
                     "output_tokens", "cost_usd", "duration_ms", "input_chars", "scores",
                     "safety_flags", "is_duplicate")  # fmt: skip

# (period_s, bucket_start, prompt_name, prompt_version, prompt_label, model, source)
Key = tuple[int, datetime, str, int, str, str, str]
BinKey = tuple[str, int]  # (series, bin)
_Value = tuple[str, int, float]  # a value a row adds to a series' bin


def score_value(raw: Any) -> float | None:
    """Return a score as a float: a number, a boolean (1/0) or `{"value": number}`."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float) and math.isfinite(raw):
        return float(raw)
    return None


def floor_time(at: datetime, period_s: int) -> datetime:
    """Return the start of the `period_s`-second bucket (aligned on the epoch) holding `at`."""
    seconds = (at.astimezone(UTC) - _EPOCH) // timedelta(seconds=period_s) * period_s
    return _EPOCH + timedelta(seconds=seconds)


def series_name(prefix: str, name: Any) -> str:
    """Return a score's or flag's series: NUL dropped (PostgreSQL refuses it), fitted."""
    return (prefix + str(name).replace("\x00", ""))[:SERIES_CHARS]


def _histogram_value(series: str, value: Any) -> list[_Value]:
    if value is None:
        return []
    number = float(value)
    index = histogram.bin_of(number)
    return [] if index is None else [(series, index, number)]


def row_values(row: Mapping[str, Any]) -> list[_Value]:
    """Return the (series, bin, value) a generation row adds to the bins of its rollups."""
    out = _histogram_value(LATENCY, row.get("duration_ms"))
    out += _histogram_value(INPUT_CHARS, row.get("input_chars"))
    for name, raw in (row.get("scores") or {}).items():
        value = _histogram_value(series_name(SCORE, name), score_value(raw))
        out += value + [(series, TOTAL, number) for series, _, number in value]
    # A flag counts once per call, however often the call repeats it.
    flags = {series_name(FLAG, flag) for flag in row.get("safety_flags") or ()}
    out += [(flag, TOTAL, 0.0) for flag in sorted(flags)]
    return out


@dataclass
class Delta:
    """What some generations add to one rollup row (negative when they are taken out)."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    bins: dict[BinKey, Bin] = field(default_factory=dict)
    packed: list[bytes] = field(default_factory=list)  # latency histograms read packed

    def add_bin(self, key: BinKey, count: float, total: float) -> None:
        """Add `count` values summing to `total` to one bin."""
        found = self.bins.get(key)
        if found is None:
            self.bins[key] = [count, total]
        else:
            found[0] += count
            found[1] += total

    def add_row(self, row: Mapping[str, Any], sign: int = 1) -> None:
        """Add one generation row (`sign` -1: take it out)."""
        self.calls += sign
        self.errors += sign * bool(row.get("is_error"))
        self.input_tokens += sign * (row.get("input_tokens") or 0)
        self.output_tokens += sign * (row.get("output_tokens") or 0)
        self.cost_usd += sign * (row.get("cost_usd") or 0.0)
        for series, index, value in row_values(row):
            self.add_bin((series, index), sign, sign * value)

    def merge(self, other: Delta) -> None:
        """Add another delta to this one."""
        for name in SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, (count, total) in other.bins.items():
            self.add_bin(key, count, total)
        self.packed += other.packed

    def series(self, name: str) -> histogram.Points:
        """Return one series' histogram as ascending (value, count) pairs."""
        bins = [(i, b) for (s, i), b in self.bins.items() if s == name and i != TOTAL]
        if name == LATENCY and self.packed:
            merged = packed.merge(self.packed)
            for index, (count, total) in bins:
                found = merged.setdefault(index, [0, 0.0])
                found[0] += count
                found[1] += total
            return histogram.points(merged)
        return histogram.points(bins)

    def total(self, name: str) -> Bin:
        """Return a series' count and sum of values (a flag's count of calls)."""
        return self.bins.get((name, TOTAL), [0, 0.0])


def dimensions(row: Mapping[str, Any]) -> tuple[str, int, str, str, str]:
    """Return a row's (prompt, version, label, model, source) as the rollup key stores them."""
    model = row.get("model") or row_model(row)
    return (
        row.get("prompt_name") or "",
        row.get("prompt_version") or 0,
        row.get("prompt_label") or "",
        model or "",
        str(row.get("source") or ""),
    )


class Changes:
    """What generation rows add to the rollups, summed per key before anything is written.

    A row adds to its minute row, and to its hour and day rows when its minute is already
    folded (starts before `folded_until`; None: every bucket size, as before any fold).
    """

    def __init__(self, folded_until: datetime | None = None) -> None:
        self.counters: dict[Key, list[Any]] = {}  # key → the SUMS, in order
        self.latency: dict[Key, dict[int, Bin]] = {}  # key → bin → [n, sum]
        self.bins: dict[tuple[Key, str, int], list[float]] = {}  # (key, series, bin) → [n, sum]
        self._buckets: dict[int, datetime] = {}
        self._folded_s = None if folded_until is None else (folded_until - _EPOCH) // _SECOND

    def _bucket(self, seconds: int) -> datetime:
        found = self._buckets.get(seconds)
        if found is None:
            found = self._buckets[seconds] = _EPOCH + timedelta(seconds=seconds)
        return found

    def count(self, key: Key, counts: Sequence[Any]) -> None:
        """Add counters (in `SUMS` order) to one rollup row."""
        found = self.counters.get(key)
        if found is None:
            self.counters[key] = list(counts)
        else:
            for i, value in enumerate(counts):
                found[i] += value

    def add_bin(self, key: Key, series: str, index: int, count: float, total: float) -> None:
        """Add `count` values summing to `total` to one bin of one rollup row."""
        if series == LATENCY:
            bin_ = self.latency.setdefault(key, {}).get(index)
            if bin_ is None:
                self.latency[key][index] = [count, total]
                return
        else:
            bin_ = self.bins.get((key, series, index))
            if bin_ is None:
                self.bins[(key, series, index)] = [count, total]
                return
        bin_[0] += count
        bin_[1] += total

    def add(self, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> Changes:
        """Add generation rows (`sign` -1: take them out) to their rollup rows."""
        folded = self._folded_s
        for row in rows:
            if row.get("is_duplicate"):
                continue  # a gateway call's client span: the gateway's row counts the call
            dims = dimensions(row)
            counts = (sign, sign * bool(row.get("is_error")),
                      sign * (row.get("input_tokens") or 0), sign * (row.get("output_tokens") or 0),
                      sign * (row.get("cost_usd") or 0.0))  # fmt: skip
            values = row_values(row)
            seconds = (row["started_at"] - _EPOCH) // _SECOND
            minute = seconds - seconds % MINUTE
            periods = PERIODS if folded is None or minute < folded else (MINUTE,)
            for period in periods:
                key = (period, self._bucket(seconds - seconds % period), *dims)
                self.count(key, counts)
                for series, index, value in values:
                    self.add_bin(key, series, index, sign, sign * value)
        return self


async def _upsert(
    session: AsyncSession,
    table: sa.Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    key: Sequence[str],
    returning: Sequence[str] = (),
) -> Any:
    """Upsert `rows` (in their order) adding the non-key columns to those stored.

    On PostgreSQL the rows go as one array per column (`INSERT … SELECT FROM unnest(…)`): a
    short statement, prepared once, whatever the number of rows; SQLite takes an executemany.
    """
    dialect = session.get_bind().dialect.name
    statement = sql.upsert(dialect, table, tuple(columns), tuple(key), tuple(returning))
    params: Any
    if dialect == "postgresql":
        params = {
            f"p_{name}": list(values)
            for name, values in zip(columns, zip(*rows, strict=True), strict=True)
        }
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    return await session.execute(statement, params)


async def _set_latency(session: AsyncSession, rows: list[tuple[int, bytes]]) -> None:
    """Store the rollup rows' new latency histograms (rows the caller has locked)."""
    values = [(row_id, value or None) for row_id, value in rows]
    dialect = session.get_bind().dialect.name
    statement = sql.set_latency(dialect, TABLE)
    if dialect == "postgresql":
        ids, blobs = zip(*values, strict=True)
        await session.execute(statement, {"p_id": list(ids), "p_latency": list(blobs)})
    else:
        await session.execute(statement, [{"_id": i, "_latency": v} for i, v in values])


async def write(session: AsyncSession, changes: Changes) -> None:
    """Add changes to their rollup rows and bins (in sorted key order), in the transaction.

    What adds nothing is not written.
    """
    bins = [(key, series, index, n, total)
            for (key, series, index), (n, total) in changes.bins.items() if n or total]  # fmt: skip
    latency = {key: delta for key, delta in changes.latency.items()
               if any(n or total for n, total in delta.values())}  # fmt: skip
    keys = {bin_[0] for bin_ in bins} | set(latency)
    keys.update(key for key, counts in changes.counters.items() if any(counts))
    if not keys:
        return
    empty = [0, 0, 0, 0, 0.0]
    rows = []
    for key in sorted(keys):
        calls, errors, tokens_in, tokens_out, cost = changes.counters.get(key, empty)
        rows.append((*key, calls, errors, tokens_in, tokens_out, float(cost)))
    found = await _upsert(
        session, TABLE, (*KEY, *SUMS), rows, key=KEY, returning=("id", "latency", *KEY)
    )
    ids, stored = {}, {}
    for row in found:
        ids[tuple(row[2:])] = row[0]
        stored[row[0]] = row[1]
    if latency:
        merged = sorted(
            (ids[key], packed.add(stored[ids[key]], delta)) for key, delta in latency.items()
        )
        await _set_latency(session, merged)
    if bins:
        names = ("rollup_id", "series", "bin", "count", "sum")
        values = sorted((ids[key], series, index, round(n), total)
                        for key, series, index, n, total in bins)  # fmt: skip
        await _upsert(session, BINS, names, values, key=names[:3])


async def folded_until(session: AsyncSession, *, lock: bool = False) -> datetime | None:
    """Return how far minutes are folded (None: no state row, every size is written).

    `lock`: hold a ROW SHARE lock on the state table until the transaction ends (on
    PostgreSQL; writers share it, a fold's EXCLUSIVE lock waits for them), so no fold moves
    the state while this transaction writes rows on the strength of it. A table lock costs
    the lock manager only, where a row lock per write would mark the row each time.
    """
    if lock and session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.text(f"LOCK TABLE {STATE.name} IN ROW SHARE MODE"))
    return await session.scalar(sa.select(STATE.c.folded_until).where(STATE.c.id == 1))


async def apply(session: AsyncSession, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> None:
    """Add generation rows to the rollups (`sign` -1: take them out), in the same transaction."""
    folded = await folded_until(session, lock=True)
    await write(session, Changes(folded).add(rows, sign))


async def apply_change(
    session: AsyncSession, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """Move one generation in the rollups from what it was to what it is now."""
    await apply_changes(session, [(before, after)])


async def apply_changes(
    session: AsyncSession, changes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> None:
    """Move generations in the rollups from what they were to what they are now (one write)."""
    if changes:
        olds, news = [old for old, _ in changes], [new for _, new in changes]
        folded = await folded_until(session, lock=True)
        await write(session, Changes(folded).add(olds, -1).add(news))
