"""Generations of eval runs: one row per fresh model call, stored exactly once with its item."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from api.db import Database
from evals.llm.client import Completion, ModelClient, RetryPolicy
from evals.runs import generations as run_generations
from evals.runs.batch import item_row
from evals.runs.plan import Plan
from evals.runs.runner import Runner
from prompts import labels
from prompts import service as prompts
from prompts.models import PromptVersion
from prompts.schemas import LabelMove
from tests.evals.generations_support import (
    HEX16,
    HEX32,
    SAFE_SUITE,
    assert_once_per_item,
    database,
    generations,
    item_key,
)
from tests.evals.runner_support import (
    ADMIN,
    CrashingRunner,
    _allow_all,
    completed_at_least,
    make_runner,
    read,
    seed,
    start,
    suite_yaml,
)
from tests.factories import generation_row
from tracing import inserts
from tracing.setup import configure

__all__ = ["database"]  # the fixture


async def test_each_fresh_model_call_is_a_generation_with_its_linkage_and_scores(
    database: Database,
) -> None:
    await seed(database, suite=SAFE_SUITE)
    async with database.transaction() as session:
        await labels.move_label(
            session,
            name="triage",
            label="staging",
            move=LabelMove(version=1),
            actor=ADMIN,
            policy=_allow_all(),
        )
    run_id = await start(database, version=None, label="staging")
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    gens = await generations(database, run_id)
    assert run.verdict == "passed"
    assert len(gens) == len(items) == 12
    assert_once_per_item(gens, items)
    async with database.reader() as session:
        version = await session.get(PromptVersion, run.prompt_version_id)
    assert version is not None
    by_key = {(i.variant, i.position, i.repeat): i for i in items}
    for g in gens:
        item = by_key[item_key(g)]
        assert (g.source, g.run_id, g.operation) == ("run", run_id, "chat")
        assert (g.prompt_name, g.prompt_version, g.prompt_label) == ("triage", 1, "staging")
        assert g.content_hash == version.content_hash
        assert (g.provider, g.request_model) == ("offline", "offline/scripted")
        assert g.response_model == "offline/scripted"
        assert HEX32.fullmatch(g.trace_id)
        assert HEX16.fullmatch(g.span_id)
        assert int(g.trace_id, 16) != 0
        assert int(g.span_id, 16) != 0  # valid ids: never all zeros
        assert g.parent_span_id is None  # tracing is off: no item span to hang from
        assert (g.input_tokens, g.output_tokens) == (item.input_tokens, item.output_tokens)
        assert g.cost_usd == item.cost_usd
        assert g.cost_usd is not None
        assert g.cost_usd > 0
        assert g.duration_ms is not None
        assert g.duration_ms > 0
        assert run.finished_at is not None
        assert item.created_at <= g.started_at <= run.finished_at
        assert (g.is_error, g.error_type, g.finish_reasons) == (False, None, ["stop"])
        assert g.input_chars == len("You triage tickets for Acme.") + len(f"ticket {item.position}")
        assert g.scores == {"no_pii": 1.0, "correct": 1.0}
        assert g.safety_flags == []
        assert (g.input_messages, g.output_text) == (None, None)  # privacy default


async def test_safety_flags_and_failing_scores_are_stored(database: Database) -> None:
    await seed(database, suite=SAFE_SUITE)
    async with database.transaction() as session:
        await prompts.publish_version(
            session,
            name="triage",
            data=_leaky_version(),
            author="tests",
        )
    run_id = await start(database, version=2)
    await make_runner(database).execute(run_id)
    gens = await generations(database, run_id)
    assert len(gens) == 12
    assert all(g.safety_flags == ["pii"] for g in gens)
    assert all(g.scores == {"no_pii": 0.0, "correct": 0.0} for g in gens)


def _leaky_version() -> Any:
    from tests.factories import chat_version

    return chat_version(
        config={"model": "offline/echo", "temperature": 0},
        messages=[{"role": "user", "content": "mail jane.doe@example.com about {{ticket}}"}],
    )


async def test_cached_answers_are_not_generations(database: Database) -> None:
    await seed(database, suite=suite_yaml(cache="true"))
    first = await start(database)
    await make_runner(database).execute(first)
    second = await start(database)
    await make_runner(database).execute(second)
    _, items = await read(database, second)
    assert len(items) == 12
    assert all(i.is_cached for i in items)
    assert await generations(database, second) == []
    assert len(await generations(database, first)) == 12


async def test_a_failed_call_is_an_error_generation_and_an_unrendered_item_none(
    database: Database,
) -> None:
    await seed(database, items=6, fail_rate=1.0, fail_with="server_error", seed=3)
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    _, items = await read(database, run_id)
    gens = await generations(database, run_id)
    assert len(gens) == len(items) == 6
    for g in gens:
        assert (g.is_error, g.error_type) == (True, "InternalServerError")
        assert (g.input_tokens, g.output_tokens, g.cost_usd) == (None, None, None)
        assert g.response_model is None
        assert g.finish_reasons == []
        assert g.scores == {}
        assert g.duration_ms is not None
        assert g.input_chars
    assert all(i.status == "error" for i in items)


async def test_an_item_that_does_not_render_makes_no_call_and_no_generation(
    database: Database,
) -> None:
    await seed(database, items=3)
    async with database.transaction() as session:
        await prompts.publish_version(
            session,
            name="triage",
            data=_needs_other_variable(),
            author="tests",
        )
    run_id = await start(database, version=2)
    await make_runner(database).execute(run_id)
    _, items = await read(database, run_id)
    assert [i.status for i in items] == ["error"] * 3
    assert all("render" in (i.error or "") for i in items)
    assert await generations(database, run_id) == []


def _needs_other_variable() -> Any:
    from tests.factories import chat_version

    return chat_version(
        config={"model": "offline/scripted", "temperature": 0},
        messages=[{"role": "user", "content": "{{missing_variable}}"}],
    )


async def test_resume_after_a_crash_stores_each_generation_exactly_once(
    database: Database,
) -> None:
    await seed(database, items=40, latency_ms=20)
    run_id = await start(database)
    crashed = make_runner(
        database, cls=CrashingRunner, owner="crashed", lease_seconds=0.3, flush_interval=0.05
    )
    task = asyncio.create_task(crashed.execute(run_id))
    await completed_at_least(database, run_id, 8)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    _, kept = await read(database, run_id)
    before = await generations(database, run_id)
    assert 0 < len(kept) < 40
    # Items and their generations are committed together: none without the other.
    assert_once_per_item(before, kept)
    await asyncio.sleep(0.35)
    await make_runner(database, owner="survivor").execute(run_id)
    run, items = await read(database, run_id)
    after = await generations(database, run_id)
    assert run.completed == len(items) == 40
    assert_once_per_item(after, items)
    assert {g.id for g in before} <= {g.id for g in after}


class CountingClient(ModelClient):
    """Counts the model calls made through it."""

    calls = 0

    async def complete(self, **kwargs: Any) -> Completion:
        CountingClient.calls += 1
        return await super().complete(**kwargs)


class Twin(Runner):
    """Waits after planning until its twin has planned too: both then run every item."""

    barrier: asyncio.Barrier

    async def _plan(self, run_id: int) -> Plan:
        plan = await super()._plan(run_id)
        await self.barrier.wait()
        return plan


async def test_an_item_two_workers_both_ran_has_one_generation(database: Database) -> None:
    await seed(database, items=12, latency_ms=5)
    run_id = await start(database)
    CountingClient.calls = 0
    Twin.barrier = asyncio.Barrier(2)
    model = CountingClient(retry=RetryPolicy(attempts=1))
    # The same owner claims twice: what a lease that expired under a live worker allows.
    twins = [Twin(database.writer, model=model, owner="same") for _ in range(2)]
    await asyncio.gather(*(t.execute(run_id) for t in twins))
    assert CountingClient.calls == 24  # both twins called the model for every item
    run, items = await read(database, run_id)
    assert run.completed == len(items) == 12
    assert_once_per_item(await generations(database, run_id), items)


async def test_content_is_stored_when_recorded_even_with_tracing_off(database: Database) -> None:
    await seed(database, items=2)
    run_id = await start(database)
    handle = configure(exporter="none", record_content=True)
    assert not handle.enabled
    model = ModelClient(retry=RetryPolicy(attempts=1), telemetry=handle.telemetry)
    runner = Runner(database.writer, model=model, owner="test", telemetry=handle.telemetry)
    await runner.execute(run_id)
    gens = await generations(database, run_id)
    assert len(gens) == 2
    for g in gens:
        assert g.input_messages == [
            {"role": "system", "content": "You triage tickets for Acme."},
            {"role": "user", "content": f"ticket {item_key(g)[1]}"},
        ]
        assert g.output_text == ["billing", "technical"][item_key(g)[1]]


async def test_a_runs_generations_are_normalised_and_a_bad_one_drops_alone(
    database: Database,
) -> None:
    await seed(database, items=3)
    run_id = await start(database)
    items = [
        {**item_row(run_id, "candidate", i, 0), "status": "ok", "output": "billing"}
        for i in range(3)
    ]
    hostile = generation_row(
        source="run",
        run_id=run_id,
        request_model="offline/\x00" + "m" * 300,
        output_text="bill\x00ing",
        scores={"faithfulness": float("nan"), "correct": 1.0},  # ragas gives NaN
    )
    unstorable = generation_row(source="run", run_id=run_id, started_at=datetime(2026, 1, 1))
    normal = generation_row(source="run", run_id=run_id)
    gens = {("candidate", 0, 0): [hostile], ("candidate", 1, 0): [unstorable, normal]}
    async with database.transaction() as session:
        dropped = await run_generations.insert_items(session, items, gens)
    assert dropped == [inserts.Dropped("run", "ValueError")]
    _, stored_items = await read(database, run_id)
    assert len(stored_items) == 3, "the items are stored whatever their generations hold"
    first, second = await generations(database, run_id)
    assert (first.span_id, second.span_id) == (hostile["span_id"], normal["span_id"])
    assert first.request_model == ("offline/" + "m" * 300)[:200]
    assert first.output_text == "billing"
    assert first.scores == {"faithfulness": None, "correct": 1.0}
