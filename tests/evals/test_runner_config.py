"""Configuration errors stop a run: no connection, a refused key, an unknown model."""

from __future__ import annotations

from api.db import Database
from evals.llm.client import ModelClient
from evals.runs import service as runs
from evals.runs.runner import Runner
from prompts import service as prompts
from tests.evals.fake_openai import FakeOpenAI
from tests.evals.model_helpers import connections
from tests.evals.runner_support import (
    database,
    make_runner,
    read,
    seed,
    start,
    suite_yaml,
)
from tests.factories import chat_version

__all__ = ["database"]  # the fixture


# --- configuration errors stop a run (no connection, a refused key or model) ----------------


async def test_a_refused_key_stops_the_run_without_retries(database: Database) -> None:
    await seed(database, items=30, fail_rate=1.0, fail_with="auth")
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert run.status == "failed"
    assert run.verdict is None
    assert run.error.startswith("stopped early: offline/scripted: AuthenticationError (401)")
    assert "after 1 attempt:" in run.error  # a refused key is never retried
    assert f"promptlane eval resume {run_id}" in run.error
    assert items == []  # nothing recorded as an item error: every item is left for resume


async def test_an_unknown_model_stops_the_run(database: Database) -> None:
    await seed(database, items=5, model="offline/nope")
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, items) == ("failed", [])
    assert "NotFoundError (404)" in run.error
    assert "unknown offline model 'nope'" in run.error


async def test_a_request_error_is_still_one_items_error(database: Database) -> None:
    """Only what every call would hit stops a run: an item's own bad request does not."""
    await seed(database, items=3)
    async with database.transaction() as session:  # a parameter the model refuses (400)
        await prompts.publish_version(
            session,
            name="triage",
            data=chat_version(config={"model": "offline/echo", "reasoning_effort": "low"}),
            author="tests",
        )
    run_id = await start(database, version=2)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, run.errors, len(items)) == ("completed", 3, 3)
    assert "does not support parameters" in items[0].error


async def test_a_missing_connection_stops_the_run_and_resume_finishes_it(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    await seed(database, items=6, model="openai/gpt-4o-mini")
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, items) == ("failed", [])
    assert run.error.startswith("stopped early: no connection named 'openai'")
    assert fake_openai.requests == []

    async with database.transaction() as session:
        await runs.request_resume(session, run_id=run_id)
    fixed = ModelClient(connections=connections(fake_openai))
    try:
        await Runner(database.writer, model=fixed, owner="fixed").execute(run_id)
    finally:
        await fixed.aclose()
    run, items = await read(database, run_id)
    assert (run.status, run.completed, run.error) == ("completed", 6, None)
    assert len(fake_openai.requests) == 6


async def test_a_judge_without_a_connection_stops_the_run(database: Database) -> None:
    suite = suite_yaml().replace(
        "scorers:\n",
        "scorers:\n  - {name: tox, type: toxicity, params: {model: anthropic/claude-x}}\n",
    )
    await seed(database, items=4, suite=suite)
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert run.status == "failed"
    assert run.error.startswith("stopped early: scorer tox: no connection named 'anthropic'")
    assert items == []
