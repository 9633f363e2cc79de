"""Fan-out and delivery on a real database: leases, retries, pauses, fenced records.

HTTP goes through an injected transport; time is an injected clock, jitter a seeded random.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.db import Database
from evals.connections.crypto import SecretBox, generate_key
from evals.webhooks import service
from evals.webhooks.dispatcher import Dispatcher
from evals.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import fan_out
from evals.webhooks.recording import SCHEDULE
from evals.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from prompts import events
from prompts.base import utc_now
from prompts.models import Event
from tests.conftest import DatabaseFactory

BOX = SecretBox([generate_key()])
Handler = Callable[[httpx.Request], Any]


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the dispatcher commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def endpoint(db: Database, name: str = "hook", types: tuple[str, ...] = ("*",)) -> str:
    data = WebhookEndpointCreate(name=name, url=f"https://{name}.test/in", event_types=list(types))
    async with db.transaction() as session:
        created = await service.create_endpoint(session, data=data, actor="tests", box=BOX)
    return created.secret


async def emit(db: Database, type_: str = events.LABEL_MOVED, **data: Any) -> str:
    async with db.transaction() as session:
        event = await events.emit(session, type_, {"prompt": "p", **data}, actor="tests")
    return event.uid


def dispatcher(db: Database, handler: Handler, clock: Clock, **options: Any) -> Dispatcher:
    return Dispatcher(
        db.writer,
        box=BOX,
        clock=clock,
        rng=random.Random(7),
        transport=httpx.MockTransport(handler),
        **options,
    )


async def deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.reader() as session:
        return list(
            await session.scalars(select(WebhookDelivery).order_by(col(WebhookDelivery.id)))
        )


async def attempts(db: Database) -> list[WebhookAttempt]:
    async with db.reader() as session:
        return list(await session.scalars(select(WebhookAttempt).order_by(col(WebhookAttempt.id))))


async def hook(db: Database, name: str = "hook") -> WebhookEndpoint:
    async with db.reader() as session:
        row = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    assert row is not None
    return row


def answer(status: int, text: str = "", **headers: str) -> Handler:
    return lambda request: httpx.Response(status, text=text, headers=headers)


async def test_fan_out_makes_one_delivery_per_subscribed_unpaused_endpoint(
    database: Database,
) -> None:
    await endpoint(database, "all")
    await endpoint(database, "runs", (events.RUN_FINISHED,))
    await endpoint(database, "paused")
    async with database.transaction() as session:
        await service.update_endpoint(
            session, name="paused", data=WebhookEndpointUpdate(is_paused=True), actor="t"
        )
    await emit(database)
    await emit(database, events.RUN_FINISHED)
    clock = Clock()
    sent = dispatcher(database, answer(200), clock)
    assert await sent.tick() is not None
    pairs = [(d.endpoint_id, d.event_id, d.status) for d in await deliveries(database)]
    assert pairs == [(1, 1, "delivered"), (1, 2, "delivered"), (2, 2, "delivered")]
    assert await sent.tick() is None  # fanned out once: nothing new
    async with database.reader() as session:
        pending = await session.scalars(select(Event).where(col(Event.fanned_out_at).is_(None)))
        assert list(pending) == []


async def test_a_success_is_recorded_with_its_attempt(database: Database) -> None:
    secret = await endpoint(database)
    uid = await emit(database)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    clock = Clock()
    await dispatcher(database, handler, clock).tick()
    (request,) = seen
    assert request.headers["webhook-id"] == uid
    assert request.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert request.headers["user-agent"] == "promptlane-webhooks/1"
    assert secret not in request.headers["webhook-signature"]
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert (delivery.lease_owner, delivery.delivered_at) == (None, clock.now)
    (attempt,) = await attempts(database)
    assert (attempt.status_code, attempt.error, attempt.is_manual) == (204, None, False)
    endpoint_row = await hook(database)  # its last answer, for the endpoints list
    assert (endpoint_row.last_attempt_at, endpoint_row.last_status_code) == (clock.now, 204)
    assert (endpoint_row.last_error, endpoint_row.last_duration_ms) == (None, attempt.duration_ms)


async def test_a_failure_is_retried_on_the_schedule_with_jitter(database: Database) -> None:
    await endpoint(database)
    await emit(database)
    clock = Clock()
    hostile = "bad\x00news\x1b[31m " + "x" * 1_000
    sent = dispatcher(database, answer(500, hostile), clock)
    await sent.tick()
    (delivery,) = await deliveries(database)
    assert delivery.status == "pending"
    wait = delivery.next_attempt_at - clock.now
    assert timedelta(seconds=4.5) <= wait <= timedelta(seconds=5.5)
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("HTTP 500: bad news [31m xxx")
    assert len(delivery.last_error) == 300
    assert not any(ord(c) < 32 for c in delivery.last_error)
    assert await sent.deliver_due(clock.now) == (0, 0)  # not due yet
    failing = await hook(database)
    assert failing.consecutive_failures == 1
    assert (failing.last_status_code, failing.last_error) == (500, delivery.last_error)


async def test_a_redirect_is_a_failure_and_is_not_followed(database: Database) -> None:
    await endpoint(database)
    await emit(database)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    await dispatcher(database, handler, Clock()).tick()
    assert calls == ["https://hook.test/in"]
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


@pytest.mark.parametrize(
    ("header", "wait"),
    [("120", timedelta(seconds=120)), ("99999999", timedelta(hours=24)), ("-5", None)],
)
async def test_retry_after_is_honoured_within_a_day(
    database: Database, header: str, wait: timedelta | None
) -> None:
    await endpoint(database)
    await emit(database)
    clock = Clock()
    await dispatcher(database, answer(429, **{"retry-after": header}), clock).tick()
    (delivery,) = await deliveries(database)
    if wait is None:  # not a number of seconds or a date: the schedule decides
        assert (
            timedelta(seconds=4.5) <= delivery.next_attempt_at - clock.now <= timedelta(seconds=6)
        )
    else:
        assert delivery.next_attempt_at - clock.now == wait


async def test_a_delivery_is_dead_when_the_schedule_runs_out(database: Database) -> None:
    await endpoint(database)
    await emit(database)
    clock = Clock()
    sent = dispatcher(database, answer(503), clock, pause_after=timedelta(days=30))
    for _ in range(len(SCHEDULE) + 1):
        await sent.tick()
        clock.advance(hours=25)
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.attempts) == ("dead", len(SCHEDULE) + 1)
    assert await sent.deliver_due(clock.now) == (0, 0)


async def test_410_pauses_the_endpoint_and_tells_the_others(database: Database) -> None:
    await endpoint(database, "gone")
    await endpoint(database, "watcher", (events.WEBHOOK_ENDPOINT_PAUSED,))
    await emit(database)
    clock = Clock()
    seen: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.content))
        return httpx.Response(410 if request.url.host == "gone.test" else 200)

    sent = dispatcher(database, handler, clock)
    await sent.tick()
    gone = await hook(database, "gone")
    assert (gone.is_paused, gone.paused_reason) == (True, "the receiver answered 410 Gone")
    await sent.tick()  # the pause event reaches the watcher, nothing more reaches `gone`
    assert [host for host, _ in seen] == ["gone.test", "watcher.test"]
    assert b'"type":"webhook.endpoint_paused"' in seen[1][1]
    assert b"gone.test" not in seen[1][1]  # a receiver URL may hold a token: never passed on
    clock.advance(hours=1)
    await sent.tick()
    assert len(seen) == 2


async def test_a_day_of_failures_pauses_and_a_resume_forgets_them(database: Database) -> None:
    await endpoint(database)
    await emit(database)
    clock = Clock()
    sent = dispatcher(database, answer(500), clock, pause_after=timedelta(hours=1))
    await sent.tick()
    clock.advance(minutes=61)
    await emit(database)
    await sent.tick()
    paused = await hook(database)
    assert paused.is_paused
    assert paused.paused_reason is not None
    assert paused.paused_reason.startswith("every attempt failed for 1 h")
    async with database.transaction() as session:
        update = WebhookEndpointUpdate(is_paused=False)
        resumed = await service.update_endpoint(session, name="hook", data=update, actor="t")
    assert (resumed.is_paused, resumed.consecutive_failures, resumed.failing_since) == (
        False,
        0,
        None,
    )


async def test_a_stale_lease_cannot_record(database: Database) -> None:
    await endpoint(database)
    await emit(database)
    clock = Clock()
    slow = dispatcher(database, answer(500), clock)
    async with database.transaction() as session:
        await fan_out(session, now=clock.now)
    (claimed,) = await slow.claim(clock.now)
    clock.advance(seconds=slow.lease.total_seconds() + 1)  # it looked dead: another takes over
    fresh = dispatcher(database, answer(200), clock)
    assert await fresh.deliver_due(clock.now) == (1, 0)
    outcome = await slow.send(claimed)
    assert await slow.record(claimed.attempted, outcome) is False
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert [a.status_code for a in await attempts(database)] == [200]


async def test_at_most_two_requests_per_endpoint_are_in_flight(database: Database) -> None:
    await endpoint(database, "a")
    await endpoint(database, "b")
    for _ in range(6):
        await emit(database)
    flying: dict[str, int] = {"a.test": 0, "b.test": 0}
    peak: dict[str, int] = {"a.test": 0, "b.test": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        flying[host] += 1
        peak[host] = max(peak[host], flying[host])
        await asyncio.sleep(0.02)
        flying[host] -= 1
        return httpx.Response(200)

    await dispatcher(database, handler, Clock()).tick()
    assert peak == {"a.test": 2, "b.test": 2}
    assert {d.status for d in await deliveries(database)} == {"delivered"}


async def test_a_transport_error_is_an_attempt(database: Database) -> None:
    await endpoint(database)
    await emit(database)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused\x00", request=request)

    await dispatcher(database, handler, Clock()).tick()
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error == "ConnectError: connection refused"


async def test_a_slack_endpoint_gets_an_escaped_message_with_the_same_headers(
    database: Database,
) -> None:
    data = WebhookEndpointCreate(
        name="chat", url="https://chat.test/in", event_types=["*"], format="slack"
    )
    async with database.transaction() as session:
        await service.create_endpoint(session, data=data, actor="tests", box=BOX)
    uid = await emit(database, events.LABEL_MOVE_REFUSED, label="production", detail="<!here>")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    await dispatcher(database, handler, Clock()).tick()
    (request,) = seen
    assert request.headers["webhook-id"] == uid
    body = json.loads(request.content)
    assert set(body) == {"text", "blocks"}
    assert body["text"] == (
        "[promptlane] p: moving production to nothing refused by tests: &lt;!here&gt;"
    )
