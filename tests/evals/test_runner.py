"""The runner on a real database: verdicts, faults, exactly-once resume, cancel, cache."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from api.db import Database
from evals.datasets.service import publish_dataset_version
from evals.errors import RunStateError
from evals.llm.client import ModelClient
from evals.models import Run
from evals.runs import service as runs
from evals.runs.plan import load_plan
from evals.schemas import DatasetVersionCreate
from evals.suites import parse_suite, publish_suite
from promptlane_client.render import RenderBudget
from prompts import labels
from prompts import service as prompts
from prompts.schemas import LabelMove
from tests.evals.runner_support import (
    ADMIN,
    CrashingRunner,
    _allow_all,
    completed_at_least,
    database,
    make_runner,
    model_version,
    read,
    seed,
    start,
    suite_yaml,
)
from tests.factories import chat_version

__all__ = ["database"]  # the fixture


async def test_passing_run_records_summary_verdict_and_manifest(database: Database) -> None:
    await seed(database)
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, run.verdict, run.completed, run.errors) == ("completed", "passed", 12, 0)
    assert len(items) == 12
    assert all(item.scores["correct"]["value"] == 1.0 for item in items)
    assert run.summary["metrics"]["correct"]["mean"] == 1.0
    assert run.summary["cost_usd"] > 0
    assert run.summary["input_tokens"] > 0
    assert run.gate["conditions"][0]["passed"] is True
    manifest = run.manifest
    assert set(manifest) >= {"prompt", "dataset", "suite", "scorers", "judges"}
    assert len(manifest["prompt"]["content_hash"]) == 64
    assert run.lease_owner is None
    assert run.finished_at is not None


async def test_items_over_the_render_budget_are_item_errors(database: Database) -> None:
    # The user message loops n * n times and repeats the ticket: an item that makes it run
    # too long or too big fails alone, with the limit it hit; the rest are scored.
    loops = "{% for i in range(n) %}{% for j in range(n) %}{% endfor %}{% endfor %}"
    messages = [
        {"role": "system", "content": "Triage for {{ company }}."},
        {"role": "user", "content": "{{ ticket }}" + loops},
    ]
    inputs = [{"ticket": "t", "n": 10}, {"ticket": "t", "n": 20000}, {"ticket": "x" * 300, "n": 1}]
    rows = [
        {
            "input": {"company": "Acme", **given},
            "expected": "billing",
            "metadata": {"answer": "billing"},
        }
        for given in inputs
    ]
    async with database.transaction() as session:
        data = DatasetVersionCreate.model_validate({"items": rows})
        await publish_dataset_version(session, name="tickets", data=data, author="tests")
        await publish_suite(session, spec=parse_suite(suite_yaml(cache="true")), author="tests")
        version = chat_version(
            messages=messages,
            template_format="jinja2",
            config={"model": "offline/scripted", "temperature": 0},
        )
        await prompts.publish_version(session, name="triage", data=version, author="tests")
    run_id = await start(database)
    budget = RenderBudget(max_chars=200, max_seconds=0.2)
    await make_runner(database, render_budget=budget).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, run.completed, run.errors) == ("completed", 3, 2)
    errors = {item.position: item.error for item in items}
    assert errors == {
        0: None,
        1: "render: rendering took longer than 0.2 s",
        2: "render: the rendered prompt is longer than 200 characters",
    }


async def test_items_may_leave_optional_variables_out(database: Database) -> None:
    # The same renderer as the server's: a guarded variable left out renders its default; a
    # truly missing one fails its item alone (issue 17, item 3).
    messages = [{"role": "user", "content": "{{ ticket }} {{ tone | default('plainly') }}"}]
    inputs = [{"ticket": "a"}, {"ticket": "b", "tone": "kindly"}, {"tone": "no ticket"}]
    rows = [{"input": given, "expected": "x"} for given in inputs]
    async with database.transaction() as session:
        data = DatasetVersionCreate.model_validate({"items": rows})
        await publish_dataset_version(session, name="tickets", data=data, author="tests")
        await publish_suite(session, spec=parse_suite(suite_yaml()), author="tests")
        version = chat_version(
            messages=messages, template_format="jinja2", config={"model": "offline/echo"}
        )
        await prompts.publish_version(session, name="triage", data=version, author="tests")
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.status, run.completed, run.errors) == ("completed", 3, 1)
    by_position = {item.position: item for item in items}
    assert [by_position[i].output for i in (0, 1)] == ["a plainly", "b kindly"]
    assert by_position[2].error == "render: missing variables: ticket"


async def test_run_time_overrides_are_applied_and_recorded(database: Database) -> None:
    # One suite, two concurrencies and more repeats, without a second suite (issue 17, item 15).
    await seed(database, items=4)
    run_id = await start(database, concurrency=2, repeats=3)
    async with database.reader() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        plan = await load_plan(session, run_id=run_id, model=ModelClient())
    assert (plan.spec.concurrency, plan.spec.repeats) == (2, 3)
    assert len(plan.pending) == 12
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert (run.total, run.completed, len(items)) == (12, 12, 12)
    assert run.manifest["overrides"] == {"concurrency": 2, "repeats": 3, "suite_repeats": 1}
    plain = await start(database)
    assert (await read(database, plain))[0].manifest["overrides"] is None


async def test_failing_run_fails_its_gate(database: Database) -> None:
    await seed(database, model="offline/echo")
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, _ = await read(database, run_id)
    assert (run.status, run.verdict) == ("completed", "failed")
    assert run.gate["conditions"][0]["value"] == 0.0


async def test_injected_faults_end_scored_or_recorded_with_a_reason(database: Database) -> None:
    await seed(database, items=100, fail_rate=0.2, fail_with="server_error", seed=7)
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert run.status == "completed"
    assert len(items) == 100
    errored = [item for item in items if item.status == "error"]
    assert run.errors == len(errored)
    assert 0 < len(errored) < 100
    assert all(item.error for item in errored)
    assert all("correct" in item.scores for item in items if item.status == "ok")
    assert run.verdict == "failed"  # fewer than 90% correct once errors count


async def test_resume_after_a_crash_finishes_every_item_exactly_once(database: Database) -> None:
    await seed(database, items=40, latency_ms=20)
    run_id = await start(database)
    crashed = make_runner(
        database, cls=CrashingRunner, owner="crashed", lease_seconds=0.3, flush_interval=0.05
    )
    task = asyncio.create_task(crashed.execute(run_id))
    await completed_at_least(database, run_id, 8)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    before, kept = await read(database, run_id)
    assert before.status == "running"
    assert 0 < len(kept) < 40
    survivor = make_runner(database, owner="survivor")
    assert await survivor.claim(run_id) is False  # the crashed worker's lease is still live
    await asyncio.sleep(0.35)
    assert run_id in await survivor.claimable()
    await survivor.execute(run_id)
    run, items = await read(database, run_id)
    assert run.status == "completed"
    assert run.completed == 40
    keys = [(i.variant, i.position, i.repeat) for i in items]
    assert len(keys) == len(set(keys)) == 40
    assert {i.id for i in kept} <= {i.id for i in items}  # earlier results were kept as is


async def test_cancel_stops_a_running_run(database: Database) -> None:
    await seed(database, items=200, latency_ms=20)
    run_id = await start(database)
    runner = make_runner(database, flush_interval=0.05)
    task = asyncio.create_task(runner.execute(run_id))
    await completed_at_least(database, run_id, 4)
    async with database.transaction() as session:
        await runs.request_cancel(session, run_id=run_id)
    await asyncio.wait_for(task, timeout=10)
    run, items = await read(database, run_id)
    assert run.status == "cancelled"
    assert len(items) < 200
    async with database.transaction() as session:
        with pytest.raises(RunStateError):
            await runs.request_cancel(session, run_id=run_id)


async def test_cached_rerun_makes_no_model_calls(database: Database) -> None:
    await seed(database, suite=suite_yaml(cache="true"))
    first = await start(database)
    await make_runner(database).execute(first)
    second = await start(database)
    await make_runner(database).execute(second)
    run, items = await read(database, second)
    assert run.verdict == "passed"
    assert all(item.is_cached for item in items)
    assert run.summary["cached"] == 12


async def test_baseline_comparison_uses_the_labelled_version(database: Database) -> None:
    suite = suite_yaml(repeats="2") + "baseline: {metric: correct, max_regression: 0.0}\n"
    await seed(database, suite=suite)
    async with database.transaction() as session:
        await prompts.publish_version(
            session, name="triage", data=model_version("offline/echo"), author="tests"
        )
        await labels.move_label(
            session,
            name="triage",
            label="production",
            move=LabelMove(version=1),
            actor=ADMIN,
            policy=_allow_all(),
        )
    run_id = await start(database, version=2)
    await make_runner(database).execute(run_id)
    run, items = await read(database, run_id)
    assert run.total == 12 * 2 * 2
    assert {i.variant for i in items} == {"candidate", "baseline"}
    assert run.manifest["baseline"]["version"] == 1
    assert run.gate["baseline"]["outcome"] == "failed"
    assert run.verdict == "failed"


async def test_resume_refuses_finished_runs(database: Database) -> None:
    await seed(database, items=3)
    run_id = await start(database)
    await make_runner(database).execute(run_id)
    async with database.transaction() as session:
        with pytest.raises(RunStateError):
            await runs.request_resume(session, run_id=run_id)


async def test_a_broken_run_is_marked_failed_with_its_reason(database: Database) -> None:
    await seed(database, items=3)
    run_id = await start(database)
    async with database.transaction() as session:
        await session.execute(sa.update(Run).where(Run.id == run_id).values(manifest={}))
        await session.execute(
            sa.text("UPDATE suite_versions SET spec = :spec"), {"spec": '{"name": "x"}'}
        )
    await make_runner(database).execute(run_id)
    run, _ = await read(database, run_id)
    assert run.status == "failed"
    assert run.error
