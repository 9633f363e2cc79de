"""Folding minute rollups into hours and days: the job, the state's lock, reads meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from api.db import Database
from api.server.rollup_fold import fold_due, fold_job
from tests.conftest import BACKEND, DatabaseFactory
from tests.factories import generation_row
from tracing.analytics import usage
from tracing.base import utc_now
from tracing.inserts import insert_rows
from tracing.rollups import fold, read
from tracing.rollups.models import DAY, HOUR, MINUTE
from tracing.rollups.write import STATE, TABLE, floor_time, folded_until


async def periods(db: Database) -> dict[int, int]:
    """Return the calls counted per bucket size."""
    async with db.reader() as s:
        found = await s.execute(
            sa.select(TABLE.c.period_s, sa.func.sum(TABLE.c.calls)).group_by(TABLE.c.period_s)
        )
        return {int(period): int(calls) for period, calls in found}


async def test_calls_go_to_their_minute_then_fold_into_hours_and_days(
    databases: DatabaseFactory,
) -> None:
    db = Database.from_url(databases.create())
    now = floor_time(utc_now(), MINUTE)
    try:
        async with db.transaction() as s:
            created = await folded_until(s)
            assert created is not None
            assert created <= utc_now()  # a new database folds from its creation on
            await s.execute(sa.update(STATE).values(folded_until=now - timedelta(minutes=10)))
        rows = [generation_row(started_at=now - timedelta(minutes=m)) for m in (0, 1, 2)]
        rows.append(generation_row(started_at=now - timedelta(days=1)))  # late: every size
        async with db.transaction() as s:
            await insert_rows(s, rows)
        assert await periods(db) == {MINUTE: 4, HOUR: 1, DAY: 1}
        async with db.reader() as s:
            report = await usage(
                s, group_by=[], start=now - timedelta(days=2), end=now + timedelta(minutes=1)
            )
        assert [r.calls for r in report.rows] == [4]  # exact before any fold

        assert await fold_due(db, now=now + timedelta(minutes=5)) == 3
        assert await periods(db) == {MINUTE: 4, HOUR: 4, DAY: 4}
        async with db.reader() as s:
            assert await folded_until(s) == floor_time(now + timedelta(minutes=4), MINUTE)
            again = await usage(
                s, group_by=[], start=now - timedelta(days=2), end=now + timedelta(minutes=1)
            )
        assert again.rows == report.rows
        assert await fold_due(db, now=now + timedelta(minutes=5)) == 0  # nothing twice
        assert await periods(db) == {MINUTE: 4, HOUR: 4, DAY: 4}
    finally:
        await db.dispose()


async def test_a_fold_catches_up_an_hour_per_transaction(databases: DatabaseFactory) -> None:
    db = Database.from_url(databases.create())
    try:
        async with db.reader() as s:
            start = await folded_until(s)
        assert start is not None
        minutes = (0, 59, 61, 190, 24 * 60 * 5)  # a quiet stretch is skipped at once
        rows = [generation_row(started_at=start + timedelta(minutes=m)) for m in minutes]
        async with db.transaction() as s:
            await insert_rows(s, rows)
        async with db.transaction() as s:
            assert await fold.fold(s, until=start + timedelta(days=9)) == (2, True)
        async with db.transaction() as s:
            assert await fold.fold(s, until=start + timedelta(days=9)) == (1, True)
        assert await fold_due(db, now=start + timedelta(days=9)) == 2
        assert await periods(db) == {MINUTE: 5, HOUR: 5, DAY: 5}
    finally:
        await db.dispose()


async def test_the_job_folds_on_its_interval(databases: DatabaseFactory) -> None:
    db = Database.from_url(databases.create())
    try:
        async with db.transaction() as s:
            await s.execute(sa.update(STATE).values(folded_until=utc_now() - timedelta(hours=1)))
            await insert_rows(s, [generation_row(started_at=utc_now() - timedelta(minutes=30))])
        job = fold_job(db, interval=0.01)
        job.start()
        for _ in range(500):
            if (await periods(db)).get(HOUR):
                break
            await asyncio.sleep(0.01)
        await job.stop()
        assert await periods(db) == {MINUTE: 1, HOUR: 1, DAY: 1}
        idle = fold_job(db, interval=0)
        idle.start()
        assert idle._task is None  # PROMPTLANE_ROLLUP_FOLD_INTERVAL=0: no folding
        await idle.stop()
    finally:
        await db.dispose()


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one writer: nothing to lock")
async def test_a_fold_waits_for_writers_that_wrote_on_the_state_it_moves(
    databases: DatabaseFactory,
) -> None:
    db = Database.from_url(databases.create())
    try:
        async with db.reader() as s:
            start = await folded_until(s)
        assert start is not None
        writer = db.transaction()
        session = await writer.__aenter__()
        try:
            row = generation_row(started_at=start + timedelta(minutes=1))
            await insert_rows(session, [row])  # minute only, on the strength of the state
            async with db.transaction() as s:  # the fold gives up after fold.LOCK_WAIT_MS
                with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                    await fold.fold(s, until=start + timedelta(hours=1))
        finally:
            await writer.__aexit__(None, None, None)  # commits the call
        assert await fold_due(db, now=start + timedelta(hours=1)) == 1
        assert await periods(db) == {MINUTE: 1, HOUR: 1, DAY: 1}
    finally:
        await db.dispose()


async def test_the_bucket_being_folded_stands_for_its_folded_minutes(
    databases: DatabaseFactory,
) -> None:
    db = Database.from_url(databases.create())
    day = floor_time(utc_now(), DAY) - timedelta(days=3)
    folded = day + timedelta(hours=5, minutes=30)
    try:
        async with db.transaction() as s:
            await s.execute(sa.update(STATE).values(folded_until=day - timedelta(days=1)))
            offsets = [(-1, 0), (1, 0), (5, 10), (5, 29), (5, 40), (6, 5)]  # (hours, minutes)
            await insert_rows(
                s,
                [
                    generation_row(started_at=day + timedelta(hours=h, minutes=m))
                    for h, m in offsets
                ],
            )
        assert await fold_due(db, now=folded + fold.LAG) == 4
        async with db.reader() as s:
            assert await folded_until(s) == folded
            for start, end, calls in [
                (day - timedelta(hours=2), day + timedelta(hours=6), 5),  # partial day row
                (day + timedelta(hours=2), day + timedelta(hours=7), 4),  # partial hour row
                (day + timedelta(hours=5, minutes=20), folded, 1),  # minutes only
            ]:
                report = await usage(s, group_by=[], start=start, end=end)
                assert [r.calls for r in report.rows] == [calls], (start, end)
            hourly = await usage(
                s, group_by=[], bucket="hour", start=day, end=day + timedelta(hours=7)
            )
        assert [(r.bucket_start, r.calls) for r in hourly.rows] == [
            (day + timedelta(hours=1), 1),
            (day + timedelta(hours=5), 3),
            (day + timedelta(hours=6), 1),
        ]
    finally:
        await db.dispose()


async def test_a_read_raced_by_a_fold_reads_again(
    databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database.from_url(databases.create())
    try:
        async with db.reader() as s:
            start = await folded_until(s)
        assert start is not None
        seen = iter([start - timedelta(hours=1), start, start, start])  # moved during the read
        calls = []

        async def racing(session: object, *, lock: bool = False) -> object:
            calls.append(lock)
            return next(seen)

        monkeypatch.setattr(read, "folded_until", racing)
        async with db.reader() as s:
            await read.read_parts(s, start=start - timedelta(hours=3), end=start)
        assert len(calls) == 4  # read, changed: read again, unchanged
    finally:
        await db.dispose()
