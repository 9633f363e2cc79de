"""The server's dispatcher: woken by a commit, it delivers in the background; a slow receiver
never slows an API request."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from api.db import Database
from api.server.app import create_app
from tests.conftest import ADMIN_KEY, DatabaseFactory, make_settings
from tests.evals.webhook_receiver import Inbox, receiver
from tests.factories import chat_body


async def test_a_slow_receiver_never_slows_a_request_and_a_commit_wakes_delivery(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.create()
    # A poll interval longer than the test: only the wake after a commit can deliver in time.
    settings = make_settings(url, tmp_path, run_executor="inprocess", webhook_poll_interval=60)
    db = Database.from_url(url)
    app = create_app(settings, database=db)
    inbox = Inbox(secret="", delay=1.5)
    try:
        with receiver(inbox) as hook_url:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport,
                    base_url="http://promptlane.test",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                ) as client:
                    body = {"name": "slow", "url": hook_url, "event_types": ["*"]}
                    created = await client.post("/v1/webhooks", json=body)
                    inbox.secret = created.json()["secret"]
                    slowest = 0.0
                    for n in range(4):
                        started = time.monotonic()
                        config = {"model": f"m/{n}"}
                        published = await client.post(
                            "/v1/prompts/live/versions", json=chat_body(config=config)
                        )
                        assert published.status_code == 201
                        slowest = max(slowest, time.monotonic() - started)
                    async with asyncio.timeout(20):  # received, then recorded as delivered
                        while True:
                            page = await client.get("/v1/webhooks/slow/deliveries")
                            statuses = [d["status"] for d in page.json()["items"]]
                            if statuses == ["delivered"] * 4:
                                break
                            await asyncio.sleep(0.05)
    finally:
        await db.dispose()
    assert slowest < 0.75  # each receiver answer takes 1.5 s
    assert inbox.refused == []
    assert inbox.duplicates == []
    versions = sorted(p["data"]["version"] for p in inbox.processed.values())
    assert versions == [1, 2, 3, 4]
