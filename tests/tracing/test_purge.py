"""Span retention: expired spans are deleted in batches; generations and recent spans stay."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Database
from api.server.retention import RetentionJob, purge_expired
from tests.conftest import DatabaseFactory
from tests.otlp_requests import genai, record
from tracing import ingest
from tracing.base import utc_now
from tracing.models import Generation, Span
from tracing.pricing import PriceBook
from tracing.traces import purge

DAY_NS = 86_400 * 10**9


def spans(count: int, *, age_days: float) -> list[object]:
    start = int((utc_now() - timedelta(days=age_days)).timestamp() * 1e9)
    out = []
    for i in range(count):
        attributes = genai() if i == 0 else {"http.route": "/"}
        out.append(dataclasses.replace(record(attributes), start_ns=start, end_ns=start + 10**6))
    return out


async def store(session: AsyncSession, records: list[object]) -> None:
    await ingest.ingest_spans(session, records, prices=PriceBook(loader=lambda: None))  # type: ignore[arg-type]


async def count(session: AsyncSession, table: type[object]) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_purge_deletes_old_spans_in_batches_and_keeps_generations(
    session: AsyncSession, db: Database
) -> None:
    await store(session, spans(5, age_days=40))
    await store(session, spans(3, age_days=1))
    await session.commit()
    before = purge.cutoff(30)
    async with db.transaction() as s:
        assert await purge.purge_spans(s, before=before, limit=2) == 2
    assert await purge_expired(db, retention_days=30, batch=2) == 3
    assert await purge_expired(db, retention_days=30, batch=2) == 0
    async with db.reader() as s:
        assert await count(s, Span) == 3
        assert await count(s, Generation) == 2


async def test_the_job_purges_on_its_interval(databases: DatabaseFactory) -> None:
    db = Database.from_url(databases.create())
    try:
        async with db.transaction() as s:
            await store(s, spans(3, age_days=10))
        job = RetentionJob(db, retention_days=7, interval=0.01)
        job.start()
        for _ in range(500):
            async with db.reader() as s:
                if await count(s, Span) == 0:
                    break
            await asyncio.sleep(0.01)
        await job.stop()
        async with db.reader() as s:
            assert (await count(s, Span), await count(s, Generation)) == (0, 1)
        idle = RetentionJob(db, retention_days=0, interval=0.01)
        idle.start()
        assert idle._task is None  # 0 days: kept forever, no task
        await idle.stop()
    finally:
        await db.dispose()
