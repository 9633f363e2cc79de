"""Typed run reports: what the runner stores reads back the same, and older rows still read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import col

from api.db import Database
from evals.models import Run, RunItem
from evals.reports import (
    Aggregate,
    BaselineComparison,
    ConditionReport,
    RunGateReport,
    RunManifest,
    RunStatus,
    RunSummary,
    ScoreEntry,
    ScoreFailure,
    Verdict,
)
from evals.runs import compare
from evals.runs import service as runs
from promptlane_client.hashing import sha256_hex
from prompts import labels
from prompts import service as prompts
from prompts.base import utc_now
from prompts.schemas import LabelMove
from tests.conftest import DatabaseFactory
from tests.evals.runner_support import (
    ADMIN,
    _allow_all,
    make_runner,
    model_version,
    read,
    seed,
    start,
    suite_yaml,
)

STATS = {"mean": 1.0, "p50": 1.0, "p95": 1.0, "pass_rate": 1.0, "error_rate": 0.0}
# A summary and a gate report as the first versions stored them: no scoring cost, no
# baseline summary, conditions without `detail`, a baseline comparison with no shared items.
OLD_SUMMARY: dict[str, Any] = {
    "items": 2,
    "errors": 0,
    "metrics": {"correct": STATS},
    "cost_usd": 0.25,
    "input_tokens": 10,
    "output_tokens": 2,
    "cached": 0,
}
OLD_GATE: dict[str, Any] = {
    "conditions": [
        {
            "metric": "correct",
            "aggregate": "mean",
            "op": ">=",
            "threshold": 0.9,
            "value": 1.0,
            "passed": True,
        }
    ],
    "baseline": {
        "metric": "correct",
        "max_regression": 0.0,
        "confidence": 0.95,
        "items": 0,
        "outcome": "inconclusive",
        "detail": "no shared items",
    },
    "verdict": "inconclusive",
    "retired_member": "ignored",  # whatever a version stored that this one no longer knows
}


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def _store(db: Database, run_id: int, **values: Any) -> None:
    async with db.transaction() as session:
        await session.execute(sa.update(Run).where(col(Run.id) == run_id).values(**values))


async def _item(db: Database, run_id: int, position: int, scores: dict[str, Any]) -> None:
    row = {"variant": "candidate", "position": position, "repeat": 0, "status": "ok"}
    async with db.transaction() as session:
        session.add(RunItem(run_id=run_id, scores=scores, created_at=utc_now(), **row))


async def test_what_the_runner_stores_reads_back_as_it_was_stored(database: Database) -> None:
    suite = suite_yaml(repeats="2") + "baseline: {metric: correct, max_regression: 0.0}\n"
    await seed(database, items=6, suite=suite)
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
    run, _ = await read(database, run_id)
    # The stored JSON is the models' JSON: every member, nothing else, and it reads back equal.
    summary, gate = RunSummary.model_validate(run.summary), RunGateReport.model_validate(run.gate)
    assert summary.model_dump(mode="json") == run.summary
    assert gate.model_dump(mode="json") == run.gate
    assert RunManifest.model_validate(run.manifest).model_dump(mode="json") == run.manifest
    assert sha256_hex(run.manifest) == run.manifest_hash
    assert set(run.summary) == {
        "items",
        "errors",
        "metrics",
        "cost_usd",
        "scoring_cost_usd",
        "input_tokens",
        "output_tokens",
        "cached",
        "baseline",
    }
    assert summary.baseline is not None
    assert summary.baseline.items == summary.items == 12
    assert gate.verdict is Verdict.FAILED
    assert gate.baseline is not None
    assert gate.baseline.outcome is Verdict.FAILED
    assert gate.baseline.interval is not None
    assert run.gate["baseline"]["interval"] == list(gate.baseline.interval)
    assert run.verdict == gate.verdict.value


async def test_rows_stored_by_older_versions_still_read(database: Database) -> None:
    await seed(database, items=2)
    run_id = await start(database)
    await _store(
        database, run_id, summary=OLD_SUMMARY, gate=OLD_GATE, status="completed", verdict="passed"
    )
    await _item(database, run_id, 0, {"correct": {"value": 1.0, "reason": None, "passed": True}})
    await _item(database, run_id, 1, {"correct": {"error": "judge unreachable"}, "x": {"value": 0}})
    async with database.reader() as session:
        found = await runs.get_run(session, run_id=run_id)
        items = (await runs.run_items(session, run_id=run_id)).items
    assert found.summary is not None
    assert found.summary.scoring_cost_usd is None  # not recorded then
    assert found.summary.baseline is None
    assert found.summary.metrics["correct"].mean == 1.0
    assert found.gate is not None
    condition = found.gate.conditions[0]
    assert (condition.aggregate, condition.detail) == (Aggregate.MEAN, None)
    assert found.gate.baseline is not None
    assert found.gate.baseline.interval is None
    assert found.gate.baseline.difference is None
    assert isinstance(items[0].scores["correct"], ScoreEntry)
    assert items[0].failed_scores() == {}
    failure = items[1].scores["correct"]
    assert isinstance(failure, ScoreFailure)
    assert failure.error == "judge unreachable"
    assert set(items[1].failed_scores()) == {"correct"}


async def test_a_run_without_a_verdict_has_no_summary_or_gate(database: Database) -> None:
    await seed(database, items=2)
    run_id = await start(database)
    async with database.reader() as session:
        queued = await runs.get_run(session, run_id=run_id)
    assert queued.status is RunStatus.QUEUED
    assert (queued.summary, queued.gate) == (None, None)
    assert queued.model_dump(mode="json")["summary"] is None


async def test_comparison_is_typed_and_counts_changed_items(database: Database) -> None:
    await seed(database, items=3)
    first, second = await start(database), await start(database)
    await _store(database, first, summary=OLD_SUMMARY, gate=OLD_GATE, status="completed")
    worse = {**OLD_SUMMARY, "metrics": {"correct": {**STATS, "mean": 0.5}, "new": STATS}}
    await _store(database, second, summary=worse, gate=OLD_GATE, status="completed")
    for position, value in enumerate((1.0, 0.0, 1.0)):
        await _item(database, first, position, {"correct": {"value": 1.0}})
        await _item(database, second, position, {"correct": {"value": value}})
    async with database.reader() as session:
        compared = await compare.compare_runs(session, a=first, b=second)
    assert compared.same_dataset is True
    assert (compared.a.id, compared.b.id) == (first, second)
    assert compared.metrics["correct"].delta == pytest.approx(-0.5)
    assert (compared.metrics["new"].a, compared.metrics["new"].delta) == (None, None)
    assert compared.changed_items == 1
    assert [item.metrics["correct"].delta for item in compared.items] == [0.0, -1.0, 0.0]


def test_reports_refuse_what_is_not_a_report() -> None:
    with pytest.raises(ValidationError):
        ConditionReport.model_validate({**OLD_GATE["conditions"][0], "aggregate": "median"})
    with pytest.raises(ValidationError):
        BaselineComparison.model_validate({**OLD_GATE["baseline"], "outcome": "maybe"})
    with pytest.raises(ValidationError):
        BaselineComparison.model_validate({**OLD_GATE["baseline"], "interval": [0.1]})
    with pytest.raises(ValidationError):
        RunSummary.model_validate({"items": 1})
