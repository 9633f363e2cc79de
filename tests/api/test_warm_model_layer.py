"""The model layer (litellm, seconds to import) is warmed in the background after a start, off
every request path, and the logs say so (issue 17, item 19)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from api import bootstrap
from api.db import Database
from api.server.app import create_app
from tests.conftest import make_settings


def _warming() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "warm-model-layer"]


async def test_a_start_warms_the_model_layer_in_the_background(
    database_url: str,
    tmp_path: Path,
    db: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bootstrap, "_litellm", None)  # as in a fresh process
    caplog.set_level(logging.INFO, logger="promptlane")
    app = create_app(make_settings(database_url, tmp_path, warm_model_layer=True), database=db)
    async with app.router.lifespan_context(app):
        [task] = _warming()  # started, not awaited: the start did not wait for it
        await task
        assert bootstrap._litellm is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "promptlane"]
    assert "warming the model layer (importing litellm) in the background" in messages
    assert any(m.startswith("model layer ready in ") for m in messages)


def test_one_import_at_a_time_whoever_asks() -> None:
    # A warm-up thread and a call that needs litellm now must not import it concurrently
    # (Python would hand one of them a half-initialised module): both wait for one import.
    import threading

    from tracing import pricing

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(pricing.load_litellm())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(r is results[0] for r in results)
    assert hasattr(results[0], "utils")


async def test_it_can_be_switched_off(database_url: str, tmp_path: Path, db: Database) -> None:
    app = create_app(make_settings(database_url, tmp_path, warm_model_layer=False), database=db)
    async with app.router.lifespan_context(app):
        assert _warming() == []
