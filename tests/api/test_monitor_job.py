"""The server's monitor job: built only where runs execute in process; a tick submits the runs
it started and tells the server what changed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from api.db import Database
from api.server.app import create_app
from api.server.monitors import MonitorJob
from evals.monitors.scheduler import Scheduler, TickReport
from tests.api.monitoring import PROMPT, gated_prompt, monitor
from tests.conftest import ADMIN_KEY, DatabaseFactory, make_settings


class ScriptedScheduler(Scheduler):
    """A scheduler whose tick returns a given report (the job's wiring is under test)."""

    def __init__(self, report: TickReport) -> None:
        super().__init__(lambda: None)  # type: ignore[arg-type, return-value]
        self.report = report
        self.ticks = 0

    async def tick(self, now: datetime | None = None) -> TickReport:
        self.ticks += 1
        return self.report


async def test_a_tick_submits_started_runs_and_reports_changes() -> None:
    report = TickReport(started={"running": 1}, run_ids=[4, 5], changed=True, emitted=True)
    submitted: list[int] = []
    after: list[tuple[bool, bool]] = []
    job = MonitorJob(
        ScriptedScheduler(report),
        interval=60,
        submit=submitted.append,
        after=lambda changed, emitted: after.append((changed, emitted)),
    )
    assert await job._tick() == "started {'running': 1}, settled {}"
    assert submitted == [4, 5]
    assert after == [(True, True)]
    assert (
        await MonitorJob(
            ScriptedScheduler(TickReport()),
            interval=60,
            submit=submitted.append,
            after=lambda *_: None,
        )._tick()
        is None
    )


async def test_the_job_runs_only_where_runs_execute_in_process(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.create()  # its own database: the in-process workers use their own sessions
    for executor, expected in (("inprocess", True), ("none", False)):
        settings = make_settings(url, tmp_path, run_executor=executor, monitor_interval=600)
        db = Database.from_url(url)
        app = create_app(settings, database=db)
        try:
            async with app.router.lifespan_context(app):
                monitors = app.state.services.monitors
                assert (monitors is not None) is expected
                if monitors is not None:
                    assert monitors.job.interval == 600
                    timeout = monitors.scheduler.timeout.total_seconds()
                    assert timeout == settings.monitor_run_timeout
        finally:
            await db.dispose()


async def test_a_triggered_check_runs_in_process_and_the_job_settles_it(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.create()
    settings = make_settings(url, tmp_path, run_executor="inprocess", monitor_interval=0.2)
    db = Database.from_url(url)
    app = create_app(settings, database=db)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://promptlane.test",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            ) as client:
                await gated_prompt(client, auto_rollback=False)
                body = {"suite": "triage-quality", "prompt": PROMPT, "version": 1}
                run = (await client.post("/v1/runs", json=body)).json()
                await _until(client, f"/v1/runs/{run['id']}", lambda r: r["status"] == "completed")
                moved = await client.put(
                    f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1}
                )
                assert moved.status_code == 200, moved.text
                await monitor(
                    client, name="yearly", prompt=PROMPT, label="production",
                    trigger="schedule", cron="0 0 1 1 *",
                )  # fmt: skip
                triggered = await client.post("/v1/monitors/yearly/trigger")
                assert [e["status"] for e in triggered.json()] == ["running"]
                page = await _until(
                    client,
                    "/v1/monitors/yearly/events",
                    lambda p: p["items"][0]["status"] != "running",
                )
    finally:
        await db.dispose()
    [event] = page["items"]
    assert event["status"] == "ok"
    assert [r["verdict"] for r in event["evidence"]["runs"]] == ["passed"]


async def _until(client: httpx.AsyncClient, path: str, done: Any) -> Any:
    """Poll `path` until `done(answer)` (the background workers finish on their own time)."""
    async with asyncio.timeout(60):
        while True:
            answer = (await client.get(path)).json()
            if done(answer):
                return answer
            await asyncio.sleep(0.05)
