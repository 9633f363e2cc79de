"""Outbox retention: finished deliveries, their attempts and idle events go; pending ones stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from api.db import Database
from api.server.retention import RetentionJob, purge_outbox
from evals.webhooks.models import WebhookAttempt, WebhookDelivery
from evals.webhooks.outbox import fan_out
from prompts.base import utc_now
from prompts.models import Event
from tests.conftest import DatabaseFactory
from tests.evals.test_webhook_delivery import emit, endpoint


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def outbox(db: Database, statuses: dict[str, str | None], *, age_days: float) -> None:
    """Emit one event per key, fan it out, then give its delivery that status and that age.

    A status of None leaves the event without a fan-out (it is still to be fanned out).
    """
    then = utc_now() - timedelta(days=age_days)
    uids = {key: await emit(db, reason=key) for key in statuses}
    async with db.transaction() as session:
        waiting = [uid for key, uid in uids.items() if statuses[key] is None]
        await session.execute(
            sa.update(Event).where(col(Event.uid).in_(waiting)).values(fanned_out_at=then)
        )
        await fan_out(session, now=then)
        await session.execute(
            sa.update(Event).where(col(Event.uid).in_(list(uids.values()))).values(occurred_at=then)
        )
        await session.execute(
            sa.update(Event).where(col(Event.uid).in_(waiting)).values(fanned_out_at=None)
        )
        for key, uid in uids.items():
            status = statuses[key]
            if status is None:
                continue
            event_id = sa.select(Event.id).where(col(Event.uid) == uid).scalar_subquery()
            await session.execute(
                sa.update(WebhookDelivery)
                .where(col(WebhookDelivery.event_id) == event_id)
                .values(status=status, created_at=then, attempts=1)
            )
            delivery = await session.scalar(
                select(WebhookDelivery.id).where(col(WebhookDelivery.event_id) == event_id)
            )
            if delivery is not None:  # None: no endpoint wanted it
                attempt = WebhookAttempt(delivery_id=delivery, attempted_at=then, duration_ms=1.0)
                session.add(attempt)


async def left(db: Database) -> tuple[list[str], list[tuple[str, str]], int]:
    """Return the events' reasons, (reason, status) of the deliveries, and the attempts."""
    async with db.reader() as session:
        events = [e.data["reason"] for e in await session.scalars(select(Event).order_by("id"))]
        rows = await session.execute(
            select(Event.data, WebhookDelivery.status)
            .join(WebhookDelivery, col(WebhookDelivery.event_id) == col(Event.id))
            .order_by(col(Event.id))
        )
        deliveries = [(data["reason"], status) for data, status in rows.tuples()]
        attempts = await session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt))
    return events, deliveries, int(attempts or 0)


async def test_finished_deliveries_and_idle_events_go_pending_ones_stay(
    database: Database,
) -> None:
    await endpoint(database)
    old = {"delivered": "delivered", "dead": "dead", "retrying": "pending"}
    await outbox(database, old, age_days=40)
    await outbox(database, {"recent": "delivered", "recent-dead": "dead"}, age_days=2)
    await outbox(database, {"unsent": None}, age_days=40)  # old, never fanned out yet
    # Batches of one: every loop of the purge runs more than once.
    assert await purge_outbox(database, retention_days=30, batch=1) == (2, 2)
    events, deliveries, attempts = await left(database)
    assert events == ["retrying", "recent", "recent-dead", "unsent"]
    assert deliveries == [("retrying", "pending"), ("recent", "delivered"), ("recent-dead", "dead")]
    assert attempts == 3  # the deleted deliveries' attempts went with them
    assert await purge_outbox(database, retention_days=30) == (0, 0)
    assert await purge_outbox(database, retention_days=1) == (2, 2)
    events, deliveries, attempts = await left(database)
    assert (events, deliveries) == (["retrying", "unsent"], [("retrying", "pending")])
    assert attempts == 1


async def test_an_event_without_subscribers_goes_and_a_paused_endpoints_pending_stays(
    database: Database,
) -> None:
    await outbox(database, {"nobody": "delivered"}, age_days=40)  # no endpoint yet: no delivery
    await endpoint(database)
    await outbox(database, {"waiting": "pending"}, age_days=40)
    assert await purge_outbox(database, retention_days=30) == (0, 1)
    events, deliveries, attempts = await left(database)
    assert (events, deliveries, attempts) == (["waiting"], [("waiting", "pending")], 1)


async def test_the_retention_job_purges_the_outbox(database: Database) -> None:
    await endpoint(database)
    await outbox(database, {"old": "delivered", "keep": "pending"}, age_days=10)
    job = RetentionJob(database, retention_days=0, interval=0.01, outbox_retention_days=7)
    job.start()
    try:
        async with asyncio.timeout(20):
            while (await left(database))[0] != ["keep"]:  # noqa: ASYNC110 (polls the DB)
                await asyncio.sleep(0.01)
    finally:
        await job.stop()
    assert (await left(database))[1] == [("keep", "pending")]
