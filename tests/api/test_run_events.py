"""A run's event stream stays alive while nothing changes, and ends when the run does."""

from __future__ import annotations

import httpx
import pytest

from api.db import Database
from api.server.routes import runs
from tests.api.runs_support import seeded, start

__all__ = ["seeded"]  # the fixture


async def test_an_idle_stream_sends_keep_alive_comments_until_the_run_ends(
    seeded: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "KEEPALIVE_SECONDS", 0.0)
    run = await start(seeded, version=1)  # nothing executes it: it stays queued
    stream = runs._progress(db, run["id"], interval=0.01)
    first = await anext(stream)
    assert first.startswith("event: progress\n")
    assert '"status":"queued"' in first
    # Queued and unchanged: comment lines (ignored by EventSource), no repeated progress.
    assert [await anext(stream) for _ in range(3)] == [": keep-alive\n\n"] * 3
    await seeded.post(f"/v1/runs/{run['id']}/cancel")
    rest = [chunk async for chunk in stream]
    events = [c.split("\n", 1)[0] for c in rest if not c.startswith(":")]
    assert events == ["event: progress", "event: done"]
