"""Two runs compared: per-metric means and per-item scores, b minus a, items by position.

Which items changed is decided from every item's scores and statuses (small columns); the
answers, inputs and expected values are read for the page of items asked for only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.models import DatasetItem, RunItem
from evals.reports import ItemDelta, ItemScore, ItemSide, MetricDelta, RunComparison, RunRead
from evals.runs import service
from evals.runs.results import CANDIDATE

_SCORES: Final = TypeAdapter(dict[str, ItemScore])
_IN_LIST_MAX: Final = 500  # more positions than this are read as a range, then filtered


@dataclass
class _Mark:
    """One position of one run: its repeats' score values, and whether all of them passed."""

    values: dict[str, list[float]] = field(default_factory=dict)
    passed: bool = True

    def means(self) -> dict[str, float]:
        return {m: sum(v) / len(v) for m, v in self.values.items() if v}


async def compare_runs(
    session: AsyncSession,
    *,
    a: int,
    b: int,
    changed: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> RunComparison:
    """Return per-metric and per-item deltas between two runs (b minus a).

    `changed` keeps the items whose scores or pass/fail changed; `limit` and `offset` page
    the items (no limit: all of them).
    """
    row_a, row_b = await service.run_row(session, a), await service.run_row(session, b)
    run_a, run_b = service.run_read(row_a), service.run_read(row_b)
    marks_a, marks_b = await _marks(session, a), await _marks(session, b)
    positions = sorted(set(marks_a) | set(marks_b))
    moved = [pos for pos in positions if _changed(marks_a.get(pos), marks_b.get(pos))]
    matching = moved if changed else positions
    page = matching[offset:] if limit is None else matching[offset : offset + limit]
    # Items are matched by position; they are named as the later run's dataset names them.
    dataset = await _dataset_items(
        session, (row_b.dataset_version_id, row_a.dataset_version_id), page
    )
    sides_a, sides_b = await _sides(session, a, page), await _sides(session, b, page)
    items = [
        _item(
            pos,
            marks_a.get(pos),
            marks_b.get(pos),
            sides_a.get(pos),
            sides_b.get(pos),
            dataset.get(pos),
        )
        for pos in page
    ]
    return RunComparison(
        a=run_a,
        b=run_b,
        same_dataset=row_a.dataset_version_id == row_b.dataset_version_id,
        metrics=_deltas(_metric_means(run_a), _metric_means(run_b)),
        items=items,
        changed_items=len(moved),
        compared_items=len(positions),
        item_total=len(matching),
        offset=offset,
        limit=limit,
    )


def _changed(a: _Mark | None, b: _Mark | None) -> bool:
    if (a is None) != (b is None):
        return True  # the item ran in one run only
    means_a, means_b = a.means() if a else {}, b.means() if b else {}
    if means_a.keys() != means_b.keys():
        return True  # a score only one run has (an item or scorer that did not run, an error)
    if any(means_b[m] != means_a[m] for m in means_a):
        return True
    return a is not None and b is not None and a.passed != b.passed


def _item(
    pos: int,
    mark_a: _Mark | None,
    mark_b: _Mark | None,
    side_a: ItemSide | None,
    side_b: ItemSide | None,
    found: DatasetItem | None,
) -> ItemDelta:
    return ItemDelta(
        position=pos,
        item_id=service.item_id(found.item_metadata) if found else None,
        metrics=_deltas(mark_a.means() if mark_a else {}, mark_b.means() if mark_b else {}),
        input=found.input if found else None,
        expected=found.expected if found else None,
        a=side_a,
        b=side_b,
        pass_changed=side_a is not None and side_b is not None and side_a.passed != side_b.passed,
    )


def _at(column: Any, positions: Collection[int]) -> sa.ColumnElement[bool]:
    """Select `positions`: an IN list when short, else their range (the caller filters)."""
    if len(positions) <= _IN_LIST_MAX:
        return col(column).in_(positions)
    return col(column).between(min(positions), max(positions))


async def _dataset_items(
    session: AsyncSession, versions: tuple[int, int], positions: Sequence[int]
) -> dict[int, DatasetItem]:
    """Return the dataset items at `positions`: run b's version's, else run a's."""
    if not positions:
        return {}
    found: dict[int, DatasetItem] = {}
    wanted = set(positions)
    for version in dict.fromkeys(versions):
        missing = wanted - set(found)
        if not missing:
            break
        rows = await session.scalars(
            select(DatasetItem).where(
                DatasetItem.dataset_version_id == version, _at(DatasetItem.position, missing)
            )
        )
        found.update({row.position: row for row in rows if row.position in missing})
    return found


async def _marks(session: AsyncSession, run_id: int) -> dict[int, _Mark]:
    """Return every position's score values and pass/fail (statuses and scores only)."""
    connection = await session.connection()
    rows = await connection.execute(
        sa.select(col(RunItem.position), col(RunItem.status), service.scores_text()).where(
            col(RunItem.run_id) == run_id, col(RunItem.variant) == CANDIDATE
        )
    )
    marks: dict[int, _Mark] = {}
    for position, status, text in rows.tuples():
        scores = service.load_scores(text)
        mark = marks.setdefault(position, _Mark())
        mark.passed = mark.passed and not service.result_failed(status, scores)
        for metric, score in scores.items():
            if score.get("value") is not None:
                mark.values.setdefault(metric, []).append(score["value"])
    return marks


async def _sides(
    session: AsyncSession, run_id: int, positions: Sequence[int]
) -> dict[int, ItemSide]:
    """Return each position's result in the run: the first repeat's answer, all repeats' verdict."""
    if not positions:
        return {}
    wanted = set(positions)
    rows = await session.scalars(
        select(RunItem)
        .where(
            col(RunItem.run_id) == run_id,
            col(RunItem.variant) == CANDIDATE,
            _at(RunItem.position, wanted),
        )
        .order_by(col(RunItem.position), col(RunItem.repeat))
    )
    repeats: dict[int, list[RunItem]] = {}
    for row in rows:
        if row.position in wanted:
            repeats.setdefault(row.position, []).append(row)
    return {pos: _side(found) for pos, found in repeats.items()}


def _side(repeats: Sequence[RunItem]) -> ItemSide:
    first = repeats[0]
    status = next((r.status for r in repeats if r.status != "ok"), "ok")
    return ItemSide(
        status=status,
        passed=not any(service.result_failed(r.status, r.scores) for r in repeats),
        repeats=len(repeats),
        output=first.output,
        error=first.error,
        scores=_SCORES.validate_python(first.scores),
    )


def _metric_means(run: RunRead) -> dict[str, float | None]:
    metrics = run.summary.metrics if run.summary else {}
    return {name: stats.mean for name, stats in metrics.items()}


def _deltas(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> dict[str, MetricDelta]:
    """Return every metric of `a` or `b` with its value in each (None: missing) and b minus a."""
    return {m: _delta(a.get(m), b.get(m)) for m in sorted(set(a) | set(b))}


def _delta(a: float | None, b: float | None) -> MetricDelta:
    return MetricDelta(a=a, b=b, delta=None if a is None or b is None else b - a)
