"""Sending slots: a receiver that never answers holds its own two slots, never the others'.

HTTP goes through an injected transport: requests to `hole.test` wait until the test lets
them go (a black hole until then); every other receiver answers 204 at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from api.db import Database
from evals.webhooks.dispatcher import Dispatcher
from tests.conftest import DatabaseFactory
from tests.evals.test_webhook_delivery import BOX, Clock, deliveries, emit, endpoint


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


class Hole:
    """A transport handler: `hole.test` hangs until `release`, the rest answer 204."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.hanging = 0
        self.answered: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "hole.test":
            self.hanging += 1
            await self.released.wait()
            return httpx.Response(503)
        self.answered.append(request.headers["webhook-id"])
        return httpx.Response(204)


def dispatcher(db: Database, hole: Hole, clock: Clock) -> Dispatcher:
    return Dispatcher(
        db.writer,
        box=BOX,
        clock=clock,
        concurrency=4,
        rng=random.Random(7),
        transport=httpx.MockTransport(hole),
    )


async def steps_until(sent: Dispatcher, db: Database, delivered: int) -> None:
    """Step (as the server's job does when a slot frees) until `delivered` are recorded so."""
    async with asyncio.timeout(30):
        while [d.status for d in await deliveries(db)].count("delivered") < delivered:
            await sent.step()
            await asyncio.sleep(0.01)


async def test_a_black_hole_never_holds_the_other_endpoints_deliveries(
    database: Database,
) -> None:
    await endpoint(database, "hole")  # url https://hole.test/in
    await endpoint(database, "fast")
    for _ in range(6):
        await emit(database)
    hole, clock = Hole(), Clock()
    sent = dispatcher(database, hole, clock)
    try:
        await steps_until(sent, database, 6)
        assert hole.hanging == 2  # its two slots, no more, while the fast endpoint got all six
        statuses = [(d.endpoint_id, d.status) for d in await deliveries(database)]
        assert statuses.count((2, "delivered")) == 6
        assert statuses.count((1, "pending")) == 6
        hole.released.set()  # the hole answers 503: both attempts recorded, retried later
        async with asyncio.timeout(30):
            while sum(d.attempts for d in await deliveries(database) if d.endpoint_id == 1) < 2:
                await sent.step()
                await asyncio.sleep(0.01)
    finally:
        hole.released.set()
        await sent.aclose()


async def test_an_endpoint_backlog_older_than_the_candidates_does_not_starve_the_others(
    database: Database,
) -> None:
    await endpoint(database, "hole")
    for _ in range(210):  # more old deliveries than one claim looks at (200)
        await emit(database)
    hole, clock = Hole(), Clock()
    sent = dispatcher(database, hole, clock)
    try:
        await sent.step()  # fans out 200 events; 210 - 200 wait for the next step
        await sent.step()
        assert hole.hanging == 2
        await endpoint(database, "fast")
        await emit(database)
        clock.advance(seconds=1)
        await steps_until(sent, database, 1)
        assert hole.hanging == 2
    finally:
        hole.released.set()
        await sent.aclose()


async def test_closing_records_the_answers_already_in(database: Database) -> None:
    await endpoint(database, "fast")
    await emit(database)
    hole, clock = Hole(), Clock()
    sent = dispatcher(database, hole, clock)
    freed = asyncio.Event()
    sent.on_slot_free = freed.set  # as the server's job is told
    await sent.step()  # fans out and starts the send; its answer is recorded by a later step
    async with asyncio.timeout(30):
        await freed.wait()
    await sent.aclose()
    assert hole.answered != []
    assert [(d.status, d.attempts) for d in await deliveries(database)] == [("delivered", 1)]
