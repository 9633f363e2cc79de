"""Two runs compared: per-metric means and per-item scores, b minus a, items by position."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from evals.models import DatasetItem, RunItem
from evals.reports import ItemDelta, MetricDelta, RunComparison, RunRead
from evals.runs import service
from evals.runs.results import CANDIDATE


async def compare_runs(session: AsyncSession, *, a: int, b: int) -> RunComparison:
    """Return per-metric and per-item deltas between two runs (b minus a)."""
    row_a, row_b = await service.run_row(session, a), await service.run_row(session, b)
    run_a, run_b = service.run_read(row_a), service.run_read(row_b)
    items_a = await _mean_scores(session, a)
    items_b = await _mean_scores(session, b)
    positions = sorted(set(items_a) | set(items_b))
    # Items are matched by position; they are named as the later run's dataset names them.
    ids = await _item_ids(session, row_b.dataset_version_id, positions)
    per_item = [
        ItemDelta(
            position=pos,
            item_id=ids.get(pos),
            metrics=_deltas(items_a.get(pos, {}), items_b.get(pos, {})),
        )
        for pos in positions
    ]
    changed = [
        item for item in per_item if any(d.delta not in (0, None) for d in item.metrics.values())
    ]
    return RunComparison(
        a=run_a,
        b=run_b,
        same_dataset=row_a.dataset_version_id == row_b.dataset_version_id,
        metrics=_deltas(_metric_means(run_a), _metric_means(run_b)),
        items=per_item,
        changed_items=len(changed),
    )


async def _item_ids(
    session: AsyncSession, dataset_version_id: int, positions: Sequence[int]
) -> dict[int, str]:
    """Return the `metadata.id` of the dataset version's items at `positions` that have one."""
    wanted = set(positions)
    rows = await session.execute(  # the whole version: an IN list of every position may not fit
        select(DatasetItem.position, DatasetItem.item_metadata).where(
            DatasetItem.dataset_version_id == dataset_version_id
        )
    )
    return {
        pos: found
        for pos, meta in rows
        if pos in wanted and (found := service.item_id(meta)) is not None
    }


def _metric_means(run: RunRead) -> dict[str, float | None]:
    metrics = run.summary.metrics if run.summary else {}
    return {name: stats.mean for name, stats in metrics.items()}


def _deltas(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> dict[str, MetricDelta]:
    """Return every metric of `a` or `b` with its value in each (None: missing) and b minus a."""
    return {m: _delta(a.get(m), b.get(m)) for m in sorted(set(a) | set(b))}


def _delta(a: float | None, b: float | None) -> MetricDelta:
    return MetricDelta(a=a, b=b, delta=None if a is None or b is None else b - a)


async def _mean_scores(session: AsyncSession, run_id: int) -> dict[int, dict[str, float]]:
    rows: Sequence[RunItem] = list(
        await session.scalars(
            select(RunItem).where(RunItem.run_id == run_id, RunItem.variant == CANDIDATE)
        )
    )
    sums: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        for metric, score in row.scores.items():
            if score.get("value") is not None:
                sums.setdefault(row.position, {}).setdefault(metric, []).append(score["value"])
    return {pos: {m: sum(v) / len(v) for m, v in metrics.items()} for pos, metrics in sums.items()}
