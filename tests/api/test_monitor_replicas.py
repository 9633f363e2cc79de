"""Two replicas (two engines, two schedulers) ticking the same moment: one check per period."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from api.db import Database
from api.server.app import create_app
from evals.models import Run
from evals.monitors.models import MonitorEvent
from evals.monitors.scheduler import Scheduler
from tests.api.monitoring import ITEMS, PROMPT, at, gated_prompt, monitor, promote
from tests.conftest import ADMIN_KEY, DatabaseFactory, make_settings


@pytest.fixture
async def url(databases: DatabaseFactory) -> str:
    return databases.create()


@pytest.fixture
async def replicas(url: str) -> AsyncIterator[tuple[Database, Database]]:
    one, two = Database.from_url(url), Database.from_url(url)
    yield one, two
    await one.dispose()
    await two.dispose()


async def test_two_schedulers_ticking_together_run_each_period_once(
    url: str, tmp_path: Path, replicas: tuple[Database, Database]
) -> None:
    one, two = replicas
    app = create_app(make_settings(url, tmp_path), database=one)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://promptlane.test",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ) as client:
            await gated_prompt(client, auto_rollback=False)
            await promote(client, one, 1)
            made = await monitor(
                client, name="hourly", prompt=PROMPT, label="production", trigger="schedule",
                cron="0 * * * *",
            )  # fmt: skip
            await monitor(client, name="data", prompt=PROMPT, label="production", trigger="dataset")
            pushed = await client.post("/v1/datasets/tickets/versions", json={"items": ITEMS[:2]})
            assert pushed.status_code == 201, pushed.text
    due = at(made["next_due_at"])
    schedulers = [Scheduler(db.writer) for db in replicas]
    # The first moment: one period of `hourly` and one try of the new dataset version, each
    # by one replica; the second: the next period only (the dataset version was tried).
    for moment, checks in ((due, 2), (due + timedelta(hours=1), 1)):
        reports = await asyncio.gather(*(s.tick(moment) for s in schedulers))
        assert sum(r.started.get("running", 0) for r in reports) == checks
    async with two.reader() as session:
        found = list(await session.scalars(select(MonitorEvent).order_by(col(MonitorEvent.id))))
        runs = list(await session.scalars(select(Run).where(col(Run.created_by).like("monitor:%"))))
    assert len(found) == 3
    assert len({(e.monitor_id, e.period_key) for e in found}) == 3
    assert len(runs) == 3
