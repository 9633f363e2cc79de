"""Delivery to a real HTTP receiver on 127.0.0.1 that verifies with `standardwebhooks`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from api.db import Database
from evals.connections.crypto import SecretBox, generate_key
from evals.webhooks import service
from evals.webhooks.dispatcher import Dispatcher
from evals.webhooks.schemas import WebhookEndpointCreate
from prompts import events
from prompts.base import utc_now
from tests.conftest import DatabaseFactory
from tests.evals.test_webhook_delivery import deliveries
from tests.evals.webhook_receiver import Inbox, free_port, receiver

BOX = SecretBox([generate_key()])


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def register(db: Database, url: str) -> str:
    data = WebhookEndpointCreate(name="receiver", url=url, event_types=["*"])
    async with db.transaction() as session:
        return (await service.create_endpoint(session, data=data, actor="t", box=BOX)).secret


async def emit(db: Database, count: int) -> list[str]:
    uids = []
    async with db.transaction() as session:
        for n in range(count):
            event = await events.emit(session, events.LABEL_MOVED, {"n": n}, actor="t")
            uids.append(event.uid)
    return uids


async def test_receiver_down_then_up_processes_each_webhook_id_once(database: Database) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    inbox = Inbox(secret=await register(database, url))
    uids = await emit(database, 3)
    sender = Dispatcher(database.writer, box=BOX, timeout=2.0)
    try:
        await sender.tick()  # nothing listens: every attempt fails and is scheduled again
        assert {d.status for d in await deliveries(database)} == {"pending"}
        assert all("ConnectError" in (d.last_error or "") for d in await deliveries(database))
        with receiver(inbox, port):
            # The retries are due 5 s later; the wall clock signs, the claim looks ahead.
            later = utc_now() + timedelta(seconds=6)
            rounds = [await sender.deliver_due(later) for _ in range(3)]
            assert rounds == [(2, 0), (1, 0), (0, 0)]  # two at a time per endpoint
            assert await sender.deliver_due(utc_now() + timedelta(hours=3)) == (0, 0)
    finally:
        await sender.aclose()
    assert sorted(inbox.processed) == sorted(uids)
    assert inbox.duplicates == []
    assert inbox.refused == []
    assert {d.status for d in await deliveries(database)} == {"delivered"}
    assert {p["data"]["n"] for p in inbox.processed.values()} == {0, 1, 2}


async def test_a_redelivery_reaches_the_receiver_as_a_duplicate(database: Database) -> None:
    inbox = Inbox(secret="")
    with receiver(inbox) as url:
        inbox.secret = await register(database, url)
        (uid,) = await emit(database, 1)
        sender = Dispatcher(database.writer, box=BOX, timeout=2.0)
        try:
            await sender.tick()
            (delivery,) = await deliveries(database)
            assert delivery.id is not None
            async with database.transaction() as session:
                await service.redeliver(session, name="receiver", delivery_id=delivery.id)
            await sender.tick()
        finally:
            await sender.aclose()
    assert list(inbox.processed) == [uid]
    assert inbox.duplicates == [uid]  # same webhook-id: the receiver knew it had it


async def test_a_rotated_secret_and_the_old_one_both_verify(database: Database) -> None:
    old = Inbox(secret="")
    with receiver(old) as url:
        old.secret = await register(database, url)
        async with database.transaction() as session:
            rotated = await service.rotate_secret(session, name="receiver", actor="t", box=BOX)
        await emit(database, 1)
        sender = Dispatcher(database.writer, box=BOX, timeout=2.0)
        try:
            await sender.tick()
        finally:
            await sender.aclose()
    assert len(old.processed) == 1  # the receiver still on the old secret verifies
    assert rotated.secret != old.secret
    (payload,) = old.processed.values()
    assert payload["type"] == events.LABEL_MOVED


async def test_a_message_signed_six_minutes_ago_is_refused_as_a_replay(
    database: Database,
) -> None:
    inbox = Inbox(secret="")
    with receiver(inbox) as url:
        inbox.secret = await register(database, url)
        await emit(database, 1)
        late = Dispatcher(
            database.writer, box=BOX, timeout=2.0, clock=lambda: utc_now() - timedelta(minutes=6)
        )
        try:
            await late.tick()
        finally:
            await late.aclose()
    assert inbox.processed == {}
    assert inbox.refused == ["Message timestamp too old"]
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.last_status_code) == ("pending", 400)
    assert delivery.last_error == "HTTP 400: refused: Message timestamp too old"
