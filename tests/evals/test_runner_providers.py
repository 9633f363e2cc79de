"""The runner on real provider paths: an OpenAI-compatible HTTP server, and injected faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from api.db import Database
from evals.connections.resolver import NO_CONNECTIONS
from evals.datasets.service import publish_dataset_version
from evals.llm.client import ModelClient, RetryPolicy
from evals.models import Run, RunItem
from evals.runs import service as runs
from evals.runs.runner import Runner
from evals.schemas import DatasetVersionCreate, RunCreate
from evals.suites import parse_suite, publish_suite
from prompts import service as prompts
from tests.conftest import DatabaseFactory
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.evals.model_helpers import TEST_KEY, connections
from tests.factories import chat_version

CATEGORIES = ["billing", "technical", "account"]
# One worker takes items in dataset order, so the server's single queue of scripted replies
# lines up with the items: reply n answers item n (retries take the next reply).
SUITE = """\
name: triage
dataset: tickets
scorers:
  - {name: correct, type: exact_match}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
concurrency: 1
"""


class Sleeps:
    """A backoff `sleep` that records its delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


def openai_config() -> dict[str, Any]:
    return {"model": "openai/gpt-test", "temperature": 0}


async def seed(db: Database, *, config: dict[str, Any], items: int = 3, suite: str = SUITE) -> int:
    """Store a dataset, the suite and a prompt version with `config`; queue a run of it."""
    rows = [
        {
            "input": {"company": "Acme", "ticket": f"ticket {i}"},
            "expected": CATEGORIES[i % 3],
            "metadata": {"answer": CATEGORIES[i % 3]},
        }
        for i in range(items)
    ]
    async with db.transaction() as session:
        await publish_dataset_version(
            session,
            name="tickets",
            data=DatasetVersionCreate.model_validate({"items": rows}),
            author="tests",
        )
        await publish_suite(session, spec=parse_suite(suite), author="tests")
        await prompts.publish_version(
            session, name="triage", data=chat_version(config=config), author="tests"
        )
        body = {"suite": "triage", "prompt": "triage", "version": 1}
        run = await runs.start_run(session, data=RunCreate.model_validate(body), actor="tests")
    return run.id


async def execute(
    db: Database,
    run_id: int,
    *,
    attempts: int,
    sleeps: Sleeps,
    server: FakeOpenAI | None = None,
) -> None:
    retry = RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002)
    via = connections(server) if server is not None else NO_CONNECTIONS
    model = ModelClient(retry=retry, sleep=sleeps, connections=via)
    try:
        await Runner(db.writer, model=model, owner="tests").execute(run_id)
    finally:
        await model.aclose()


async def read(db: Database, run_id: int) -> tuple[Run, list[RunItem]]:
    async with db.reader() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        items = list(
            await session.scalars(
                select(RunItem)
                .where(RunItem.run_id == run_id)
                .order_by(col(RunItem.position), col(RunItem.repeat))
            )
        )
    return run, items


async def test_answers_become_outputs_with_their_token_usage(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        *(
            Step.ok(c, prompt_tokens=20 + i, completion_tokens=1 + i)
            for i, c in enumerate(CATEGORIES)
        )
    )
    run_id = await seed(database, config=openai_config())
    await execute(database, run_id, attempts=1, sleeps=Sleeps(), server=fake_openai)
    run, items = await read(database, run_id)
    assert (run.status, run.verdict, run.completed, run.errors) == ("completed", "passed", 3, 0)
    assert [i.output for i in items] == CATEGORIES
    assert [(i.input_tokens, i.output_tokens) for i in items] == [(20, 1), (21, 2), (22, 3)]
    assert all(i.status == "ok" and i.latency_ms is not None for i in items)
    assert all(i.scores["correct"]["value"] == 1.0 for i in items)
    assert (run.summary["input_tokens"], run.summary["output_tokens"]) == (63, 6)
    assert run.summary["metrics"]["input_tokens"]["mean"] == 21.0

    assert fake_openai.paths() == ["/v1/chat/completions"] * 3
    first = fake_openai.requests[0]
    assert first.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert first.body["model"] == "gpt-test"
    assert first.body["messages"] == [
        {"role": "system", "content": "You triage tickets for Acme."},
        {"role": "user", "content": "ticket 0"},
    ]
    assert "metadata" not in first.body  # the dataset item stays with litellm


async def test_a_rate_limited_call_is_retried_and_the_item_succeeds(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Step.error(429, retry_after=0), *(Step.ok(c) for c in CATEGORIES))
    run_id = await seed(database, config=openai_config())
    sleeps = Sleeps()
    await execute(database, run_id, attempts=3, sleeps=sleeps, server=fake_openai)
    run, items = await read(database, run_id)
    assert (run.status, run.verdict, run.errors) == ("completed", "passed", 0)
    assert [i.output for i in items] == CATEGORIES
    assert len(fake_openai.requests) == 4  # one retry, one HTTP request per attempt
    assert fake_openai.requests[0].body == fake_openai.requests[1].body
    assert sleeps.delays == [0.0]  # the server's Retry-After


async def test_persistent_server_errors_are_recorded_and_the_run_completes(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Step.ok("billing"), Step.error(500), Step.error(500), Step.ok("account"))
    run_id = await seed(database, config=openai_config())
    await execute(database, run_id, attempts=2, sleeps=Sleeps(), server=fake_openai)
    run, items = await read(database, run_id)
    assert (run.status, run.completed, run.errors) == ("completed", 3, 1)
    assert [i.status for i in items] == ["ok", "error", "ok"]
    failed = items[1]
    assert (failed.output, failed.scores, failed.input_tokens) == (None, {}, None)
    assert failed.error is not None
    assert failed.error.startswith("openai/gpt-test: InternalServerError (500) after 2 attempts")
    assert "fake 500" in failed.error  # the provider's own message, for whoever reads it
    assert [i.output for i in items if i.status == "ok"] == ["billing", "account"]
    # The error counts as a wrong answer: 2 of 3 correct fails a 0.9 gate.
    assert run.verdict == "failed"
    assert run.gate["conditions"][0]["value"] == pytest.approx(2 / 3)
    async with database.reader() as session:
        page = await runs.run_items(session, run_id=run_id, failed=True)
    assert [(i.position, i.status) for i in page.items] == [(1, "error")]


async def test_a_hanging_provider_times_out_into_a_recorded_error(
    database: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Step.ok("billing"), Step.hang(30), Step.ok("account"))
    suite = SUITE + "timeout_seconds: 0.5\n"
    run_id = await seed(database, config=openai_config(), suite=suite)
    await execute(database, run_id, attempts=1, sleeps=Sleeps(), server=fake_openai)
    run, items = await read(database, run_id)
    assert (run.status, run.errors) == ("completed", 1)
    assert [i.status for i in items] == ["ok", "error", "ok"]
    assert items[1].error is not None
    assert "timeout after 1 attempt" in items[1].error


async def test_injected_rate_limits_leave_every_item_scored_or_explained(
    database: Database,
) -> None:
    config = {
        "model": "offline/scripted",
        "temperature": 0,
        "seed": 11,
        "offline": {"fail_rate": 0.2, "fail_with": "rate_limit"},
    }
    suite = SUITE.replace("concurrency: 1", "concurrency: 8").replace(
        "gates:\n", 'gates:\n  - {metric: "*", aggregate: error_rate, op: "<=", value: 0.05}\n'
    )
    run_id = await seed(database, config=config, items=60, suite=suite)
    sleeps = Sleeps()
    await execute(database, run_id, attempts=3, sleeps=sleeps)
    run, items = await read(database, run_id)
    assert (run.status, run.completed) == ("completed", 60)
    assert len(items) == 60
    errored = [i for i in items if i.status == "error"]
    scored = [i for i in items if i.status == "ok"]
    assert len(errored) + len(scored) == 60
    assert run.errors == len(errored)
    assert 0 < len(errored) < 60
    for item in errored:
        # The same request draws the same failure, so every retry failed too.
        assert item.error is not None
        assert "offline/scripted: rate limited (429) after 3 attempts" in item.error
        assert item.scores == {}
    for item in scored:
        assert item.scores["correct"]["value"] == 1.0
        assert item.output == CATEGORIES[item.position % 3]
    assert len(sleeps.delays) == 2 * len(errored)
    error_rate = next(c for c in run.gate["conditions"] if c["metric"] == "*")
    assert error_rate["value"] == pytest.approx(len(errored) / 60)
    assert run.verdict == "failed"
