"""Manual redelivery: the same `webhook-id` again, never written over by an attempt in flight."""

from __future__ import annotations

import httpx

from api.db import Database
from evals.webhooks import service
from evals.webhooks.outbox import fan_out
from tests.evals.test_webhook_delivery import (
    Clock,
    answer,
    attempts,
    database,
    deliveries,
    dispatcher,
    emit,
    endpoint,
)

__all__ = ["database"]  # the fixture


async def test_a_manual_redelivery_keeps_the_webhook_id(database: Database) -> None:
    await endpoint(database)
    uid = await emit(database)
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        return httpx.Response(200)

    clock = Clock()
    sent = dispatcher(database, handler, clock)
    await sent.tick()
    (delivery,) = await deliveries(database)
    assert delivery.id is not None
    async with database.transaction() as session:
        again = await service.redeliver(
            session, name="hook", delivery_id=delivery.id, now=clock.now
        )
    assert (again.status, again.webhook_id) == ("pending", uid)
    await sent.tick()
    assert ids == [uid, uid]
    assert [a.is_manual for a in await attempts(database)] == [False, True]


async def test_a_redelivery_while_in_flight_is_not_written_over(database: Database) -> None:
    await endpoint(database)
    uid = await emit(database)
    clock = Clock()
    failing = dispatcher(database, answer(500), clock)
    async with database.transaction() as session:
        await fan_out(session, now=clock.now)
    (claimed,) = await failing.claim(clock.now)
    async with database.transaction() as session:  # an admin redelivers it meanwhile
        await service.redeliver(
            session, name="hook", delivery_id=claimed.attempted.delivery_id, now=clock.now
        )
    outcome = await failing.send(claimed)
    assert await failing.record(claimed.attempted, outcome) is False
    (delivery,) = await deliveries(database)
    # The 500 is logged, but did not push the redelivery back by the retry schedule.
    assert (delivery.status, delivery.is_manual, delivery.next_attempt_at) == (
        "pending",
        True,
        clock.now,
    )
    assert [(a.status_code, a.is_manual) for a in await attempts(database)] == [(500, False)]
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        return httpx.Response(200)

    await dispatcher(database, handler, clock).tick()
    assert ids == [uid]
    (delivery,) = await deliveries(database)
    assert delivery.status == "delivered"
    assert [a.status_code for a in await attempts(database)] == [500, 200]
