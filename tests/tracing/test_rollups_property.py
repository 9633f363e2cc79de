"""Rollups against a full scan, on random generations: counts and sums equal, percentiles close.

Random generations are stored through insert_rows (some re-linked afterwards, as trace linkage
does), then a random report (range, grouping, buckets) is compared with the same aggregates
computed from the rows themselves.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.analytics import bucket_start, percentile, score_value, usage
from tracing.inserts import insert_rows
from tracing.model_names import row_model
from tracing.models import Generation
from tracing.rollups.fold import fold
from tracing.rollups.histogram import RELATIVE_ERROR
from tracing.rollups.write import STATE, apply_change
from tracing.schemas import Dimension, UsageRow

BASE = datetime(2026, 3, 1, tzinfo=UTC)
SPAN_S = 3 * 86400
DIMS: tuple[Dimension, ...] = ("prompt", "version", "label", "model")


@st.composite
def rows(draw: Any) -> dict[str, Any]:
    seconds = draw(st.integers(0, SPAN_S))
    return {
        "trace_id": uuid.uuid4().hex,
        "span_id": uuid.uuid4().hex[:16],
        "source": draw(st.sampled_from(["run", "gateway", "ingest"])),
        "started_at": BASE + timedelta(seconds=seconds, microseconds=draw(st.integers(0, 999))),
        "created_at": BASE,
        "prompt_name": draw(st.sampled_from(["a", "b/c", None])),
        "prompt_version": draw(st.sampled_from([1, 2, None])),
        "prompt_label": draw(st.sampled_from(["production", None])),
        "request_model": draw(
            st.sampled_from(["openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "x-model", None])
        ),
        "duration_ms": draw(
            st.none() | st.floats(0.0, 1e6) | st.floats(100.0, 130.0)
        ),  # shared bins
        "input_tokens": draw(st.none() | st.integers(0, 2**31 - 1)),
        "output_tokens": draw(st.none() | st.integers(0, 10_000)),
        "cost_usd": draw(st.none() | st.floats(0.0, 10.0)),
        "is_error": draw(st.booleans()),
        "input_chars": draw(st.none() | st.integers(0, 100_000)),
        "scores": draw(
            st.dictionaries(
                st.sampled_from(["quality", "pii"]),
                st.floats(-1.0, 2.0) | st.booleans() | st.builds(dict, value=st.floats(0.0, 1.0)),
            )
        ),
        "safety_flags": draw(st.lists(st.sampled_from(["pii", "jailbreak"]), max_size=3)),
        "finish_reasons": [],
        "attributes": {},
    }


@st.composite
def reports(draw: Any) -> dict[str, Any]:
    start = BASE + timedelta(
        seconds=draw(st.integers(-600, SPAN_S)), microseconds=draw(st.integers(0, 10**6 - 1))
    )
    length = timedelta(seconds=draw(st.integers(1, SPAN_S + 600)))
    return {
        "start": start,
        "end": start + length,
        "group_by": draw(st.lists(st.sampled_from(DIMS), unique=True)),
        "bucket": draw(st.sampled_from([None, "hour", "day"])),
    }


def expected(
    stored: list[dict[str, Any]], report: dict[str, Any]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Aggregate the rows themselves, as the pre-rollup full scan did."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in stored:
        if not report["start"] <= row["started_at"] < report["end"]:
            continue
        values = {"prompt": row["prompt_name"], "version": row["prompt_version"],
                  "label": row["prompt_label"], "model": row_model(row)}  # fmt: skip
        bucket = report["bucket"]
        key = (
            bucket_start(row["started_at"], bucket) if bucket else None,
            *(values[d] if d in report["group_by"] else None for d in DIMS),
        )
        groups.setdefault(key, []).append(row)
    return {key: summary(members) for key, members in groups.items()}


def summary(members: list[dict[str, Any]]) -> dict[str, Any]:
    durations = [r["duration_ms"] for r in members if r["duration_ms"] is not None]
    scores: dict[str, list[float]] = {}
    flags: Counter[str] = Counter()
    for r in members:
        for name, raw in r["scores"].items():
            value = score_value(raw)
            if value is not None:
                scores.setdefault(name, []).append(value)
        flags.update(set(r["safety_flags"]))
    return {
        "calls": len(members),
        "errors": sum(r["is_error"] for r in members),
        "input_tokens": sum(r["input_tokens"] or 0 for r in members),
        "output_tokens": sum(r["output_tokens"] or 0 for r in members),
        "cost_usd": math.fsum(r["cost_usd"] or 0.0 for r in members),
        "p50": percentile(durations, 0.5),
        "p95": percentile(durations, 0.95),
        "scores": {n: (math.fsum(v) / len(v), len(v)) for n, v in scores.items()},
        "flags": dict(flags),
    }


def close(actual: float | None, exact: float | None, rel: float) -> bool:
    if exact is None or actual is None:
        return actual is exact
    return math.isclose(actual, exact, rel_tol=rel, abs_tol=1e-9)


def check(row: UsageRow, want: dict[str, Any]) -> None:
    exact = (row.calls, row.errors, row.input_tokens, row.output_tokens, row.safety_flags)
    assert exact == (want["calls"], want["errors"], want["input_tokens"], want["output_tokens"],
                     want["flags"])  # fmt: skip
    assert row.cost_usd == pytest.approx(want["cost_usd"], rel=1e-9, abs=1e-9)
    assert close(row.latency_p50_ms, want["p50"], RELATIVE_ERROR)
    assert close(row.latency_p95_ms, want["p95"], RELATIVE_ERROR)
    assert {n: s.count for n, s in row.scores.items()} == {
        n: c for n, (_, c) in want["scores"].items()
    }
    for name, (mean, _) in want["scores"].items():
        assert row.scores[name].mean == pytest.approx(mean, rel=1e-9, abs=1e-9)


async def relink(session: AsyncSession, row: dict[str, Any], prompt: str) -> None:
    """Change a stored generation's prompt link, as trace linkage does, and move its rollups."""
    table = Generation.__table__  # type: ignore[attr-defined]
    await session.execute(
        sa.update(table)
        .where(table.c.trace_id == row["trace_id"], table.c.span_id == row["span_id"])
        .values(prompt_name=prompt, prompt_version=7)
    )
    before = {**row, "model": row_model(row)}
    row.update(prompt_name=prompt, prompt_version=7)
    await apply_change(session, before, {**row, "model": row_model(row)})


minutes = st.integers(-60, SPAN_S // 60 + 60).map(lambda m: BASE + timedelta(minutes=m))


async def fold_all(session: AsyncSession, until: datetime) -> None:
    """Fold every minute before `until`, as the job does (an hour per call)."""
    while (await fold(session, until=until))[1]:
        pass


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.lists(rows(), min_size=1, max_size=15), min_size=1, max_size=4),
    relinked=st.integers(0, 3),
    report=reports(),
    folded=minutes,
    folds=st.lists(minutes, max_size=4),
    final=minutes,
)
async def test_rollups_answer_as_a_full_scan(
    session: AsyncSession,
    batches: list[list[dict[str, Any]]],
    relinked: int,
    report: dict[str, Any],
    folded: datetime,
    folds: list[datetime],
    final: datetime,
) -> None:
    """Whatever has been folded: rows written before and after folds, relinked on both sides."""
    savepoint = await session.begin_nested()
    try:
        await session.execute(sa.update(STATE).values(folded_until=folded))
        stored: list[dict[str, Any]] = []
        for batch, until in zip_longest(batches, folds):
            if batch:
                await insert_rows(session, batch)
                await insert_rows(session, batch[:2])  # duplicates: stored once, counted once
                stored += batch
            if until:
                await fold_all(session, until)
        for row in stored[:relinked]:
            await relink(session, row, "relinked")
        await fold_all(session, final)
        got = await usage(session, **report)
        if report["end"] - report["start"] < timedelta(days=1):
            assert (got.start, got.end) == (report["start"], report["end"])
        else:  # widened to whole hours, by under an hour at each end
            assert got.start <= report["start"] < got.start + timedelta(hours=1)
            assert got.end - timedelta(hours=1) < report["end"] <= got.end
            assert got.start.timestamp() % 3600 == got.end.timestamp() % 3600 == 0
        want = expected(stored, {**report, "start": got.start, "end": got.end})
        keys = {(r.bucket_start, r.prompt, r.version, r.label, r.model): r for r in got.rows}
        assert set(keys) == set(want)
        for key, row in keys.items():
            check(row, want[key])
    finally:
        await savepoint.rollback()
