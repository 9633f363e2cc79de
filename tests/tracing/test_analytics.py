"""Usage analytics: grouping, time buckets, percentiles, rates, score means, flags, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import generation, store_generations
from tracing.analytics import UsageFilter, percentile, score_value, usage
from tracing.errors import InvalidTimeRangeError
from tracing.inserts import insert_rows
from tracing.rollups.histogram import RELATIVE_ERROR
from tracing.schemas import UsageRow

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


async def seed(session: AsyncSession, *rows: dict[str, Any]) -> None:
    await store_generations(
        session, *(generation(**{"started_at": NOW - timedelta(hours=1), **r}) for r in rows)
    )


def by(rows: list[UsageRow], **key: Any) -> UsageRow:
    found = [r for r in rows if all(getattr(r, k) == v for k, v in key.items())]
    assert len(found) == 1, found
    return found[0]


async def test_groups_by_prompt_and_version(session: AsyncSession) -> None:
    await seed(
        session,
        {"prompt_version": 1, "input_tokens": 10, "output_tokens": 4, "cost_usd": 0.25},
        {"prompt_version": 1, "is_error": True, "input_tokens": 20, "cost_usd": 0.5},
        {"prompt_version": 2, "input_tokens": None, "cost_usd": None},
        {"prompt_name": "other", "prompt_version": 1},
    )
    report = await usage(session, group_by=["prompt", "version"], now=NOW)
    assert [(r.prompt, r.version) for r in report.rows] == [
        ("other", 1),
        ("support/triage", 1),
        ("support/triage", 2),
    ]
    v1 = by(report.rows, prompt="support/triage", version=1)
    assert (v1.calls, v1.errors, v1.error_rate) == (2, 1, 0.5)
    assert (v1.input_tokens, v1.output_tokens, v1.cost_usd) == (30, 9, 0.75)
    assert (v1.label, v1.model, v1.bucket_start) == (None, None, None)
    v2 = by(report.rows, version=2)
    assert (v2.input_tokens, v2.cost_usd, v2.error_rate) == (0, 0.0, 0.0)
    assert report.scanned == 4
    assert report.group_by == ["prompt", "version"]


async def test_no_grouping_gives_one_total(session: AsyncSession) -> None:
    await seed(session, {}, {"prompt_name": "b"}, {"prompt_label": "production"})
    report = await usage(session, group_by=[], now=NOW)
    assert len(report.rows) == 1
    assert report.rows[0].calls == 3
    assert report.rows[0].prompt is None


async def test_latency_percentiles(session: AsyncSession) -> None:
    await seed(
        session, *({"duration_ms": float(ms)} for ms in range(1, 101)), {"duration_ms": None}
    )
    row = (await usage(session, now=NOW)).rows[0]
    assert row.calls == 101
    # From the rollups' histograms: within their documented relative error.
    assert row.latency_p50_ms == pytest.approx(50.5, rel=RELATIVE_ERROR)
    assert row.latency_p95_ms == pytest.approx(95.05, rel=RELATIVE_ERROR)
    assert row.latency_p95_ms != pytest.approx(95.05, rel=1e-9)  # not an exact scan


async def test_latency_is_null_without_durations(session: AsyncSession) -> None:
    await seed(session, {"duration_ms": None})
    row = (await usage(session, now=NOW)).rows[0]
    assert (row.latency_p50_ms, row.latency_p95_ms) == (None, None)


async def test_hour_and_day_buckets(session: AsyncSession) -> None:
    times = [NOW - timedelta(minutes=m) for m in (5, 25, 45, 24 * 60 + 5)]
    await seed(session, *({"started_at": t} for t in times))
    hourly = await usage(session, bucket="hour", now=NOW)
    assert [(r.bucket_start, r.calls) for r in hourly.rows] == [
        (datetime(2026, 3, 9, 12, tzinfo=UTC), 1),
        (datetime(2026, 3, 10, 11, tzinfo=UTC), 1),
        (datetime(2026, 3, 10, 12, tzinfo=UTC), 2),
    ]
    daily = await usage(session, bucket="day", group_by=["version"], now=NOW)
    assert [(r.bucket_start, r.version, r.calls) for r in daily.rows] == [
        (datetime(2026, 3, 9, tzinfo=UTC), 1, 1),
        (datetime(2026, 3, 10, tzinfo=UTC), 1, 3),
    ]


async def test_score_means_and_safety_flags(session: AsyncSession) -> None:
    await seed(
        session,
        {
            "scores": {"exact": 1.0, "judge": {"value": 0.5, "reason": "ok"}},
            "safety_flags": ["pii"],
        },
        {
            "scores": {"exact": 0, "judge": {"value": 1}},
            "safety_flags": ["pii", "pii", "jailbreak"],
        },
        {"scores": {"exact": True, "note": "text", "judge": {"reason": "none"}}},
        {},
    )
    row = (await usage(session, now=NOW)).rows[0]
    assert set(row.scores) == {"exact", "judge"}
    assert row.scores["exact"].mean == pytest.approx(2 / 3)
    assert row.scores["exact"].count == 3
    assert (row.scores["judge"].mean, row.scores["judge"].count) == (0.75, 2)
    assert row.safety_flags == {"jailbreak": 1, "pii": 2}


async def test_filters(session: AsyncSession) -> None:
    await seed(
        session,
        {"response_model": "gpt-4o-mini-2024", "prompt_label": "production", "source": "ingest"},
        {"request_model": "m/other", "prompt_version": 2},
        {"prompt_label": "staging", "source": "gateway"},
        {"started_at": NOW - timedelta(days=8)},
        {"started_at": NOW + timedelta(hours=1)},  # after the range (widened to 13:00)
    )

    async def calls(**given: Any) -> int:
        report = await usage(session, group_by=[], filters=UsageFilter(**given), now=NOW)
        return sum(r.calls for r in report.rows)

    assert await calls() == 3
    assert await calls(model="gpt-4o-mini-2024") == 1
    assert await calls(model="openai/gpt-4o-mini") == 1  # response_model wins when present
    assert await calls(model="gpt-4o-mini-2024-07-18") == 1  # the filter is normalised too
    assert await calls(label="production") == 1
    assert await calls(source="gateway") == 1
    assert await calls(version=2) == 1
    assert await calls(prompt="support/triage", version=1) == 2
    assert await calls(prompt="missing") == 0
    wide = await usage(session, group_by=["model"], start=NOW - timedelta(days=9), end=NOW)
    assert {r.model: r.calls for r in wide.rows} == {
        "gpt-4o-mini-2024": 1,
        "m/other": 1,
        "gpt-4o-mini": 2,
    }


async def test_a_range_of_a_day_or_more_is_widened_to_whole_hours(session: AsyncSession) -> None:
    await seed(
        session,
        {"started_at": NOW - timedelta(days=2, minutes=20)},  # 10:10, before the range asked
        {"started_at": NOW - timedelta(days=2, minutes=40)},  # 09:50: before the hour
        {"started_at": NOW + timedelta(minutes=20)},  # 12:50, after it
        {"started_at": NOW + timedelta(minutes=40)},  # 13:10: after the hour
    )
    week = await usage(session, group_by=[], start=NOW - timedelta(days=2), end=NOW)
    assert (week.start, week.end) == (
        NOW - timedelta(days=2, minutes=30),
        NOW + timedelta(minutes=30),
    )
    assert [r.calls for r in week.rows] == [2]
    aligned = NOW - timedelta(minutes=30)
    exact = await usage(session, group_by=[], start=aligned - timedelta(days=1), end=aligned)
    assert (exact.start, exact.end) == (aligned - timedelta(days=1), aligned)
    short = await usage(session, group_by=[], start=NOW - timedelta(hours=23, minutes=59), end=NOW)
    assert (short.start, short.end) == (NOW - timedelta(hours=23, minutes=59), NOW)
    assert short.rows == []  # under a day: the range asked, to the microsecond


async def test_group_by_label_keeps_unlabelled_calls_last(session: AsyncSession) -> None:
    await seed(session, {"prompt_label": "staging"}, {}, {"prompt_label": "production"})
    report = await usage(session, group_by=["label", "label"], now=NOW)
    assert report.group_by == ["label"]
    assert [r.label for r in report.rows] == ["production", "staging", None]


async def test_time_range_is_bounded(session: AsyncSession) -> None:
    report = await usage(session, now=NOW)  # 7 days, widened to whole hours
    hour = timedelta(minutes=30)
    assert (report.start, report.end) == (NOW - timedelta(days=7) - hour, NOW + hour)
    naive = await usage(session, start=datetime(2026, 3, 1), end=datetime(2026, 3, 2))
    assert naive.start == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(InvalidTimeRangeError, match="must be before"):
        await usage(session, start=NOW, end=NOW)
    with pytest.raises(InvalidTimeRangeError, match="at most 90"):
        await usage(session, start=NOW - timedelta(days=91), end=NOW)
    early = datetime(1, 1, 2, tzinfo=UTC)  # the default week before it is before year 1
    with pytest.raises(InvalidTimeRangeError, match="outside the dates"):
        await usage(session, end=early)
    offset = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))  # year 0 in UTC
    with pytest.raises(InvalidTimeRangeError, match="outside the dates"):
        await usage(session, start=offset, end=NOW)


async def test_range_edges_between_buckets_are_exact(session: AsyncSession) -> None:
    start = NOW - timedelta(hours=23, minutes=7, seconds=13, microseconds=5)  # under a day
    inside = [start, start + timedelta(seconds=30), NOW - timedelta(microseconds=1)]
    inside += [NOW - timedelta(hours=h, seconds=s) for h, s in ((1, 1), (20, 59), (23, 0))]
    outside = [start - timedelta(microseconds=1), NOW, NOW + timedelta(seconds=5)]
    await seed(session, *({"started_at": t} for t in inside + outside))
    report = await usage(session, start=start, end=NOW, group_by=[])
    assert report.scanned == report.rows[0].calls == len(inside)


async def test_a_span_stored_twice_is_counted_once(session: AsyncSession) -> None:
    row = generation(started_at=NOW - timedelta(hours=1), cost_usd=0.5)
    await store_generations(session, row)
    inserted = await insert_rows(session, [row.model_dump(exclude={"id"})] * 2)
    assert inserted.stored == []
    [total] = (await usage(session, now=NOW, group_by=[])).rows
    assert (total.calls, total.cost_usd) == (1, 0.5)


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (0.5, 0.5),
        (1, 1.0),
        (True, 1.0),
        ({"value": 0.25}, 0.25),
        ("x", None),
        (None, None),
        ({"reason": "r"}, None),
        (float("nan"), None),
    ],
)
def test_score_value(raw: Any, value: float | None) -> None:
    assert score_value(raw) == value
