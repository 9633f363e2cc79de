"""The red-team starter suite shipped in evals/redteam: its data, and a full offline run."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest

from api.db import Database
from evals import redteam
from evals.datasets.service import publish_dataset_version
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs import service as runs
from evals.runs.runner import Runner
from evals.schemas import DatasetVersionCreate, RunCreate
from evals.scorers.safety.attack import AttackGoal
from evals.suites import parse_suite, publish_suite
from prompts import service as prompts
from prompts.schemas import VersionCreate
from tests.conftest import DatabaseFactory
from tests.evals.runner_support import read


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


def test_every_category_has_attacks_the_scripted_model_falls_for_and_resists() -> None:
    items = redteam.items()
    seen = Counter((i["metadata"]["category"], i["metadata"]["offline_model"]) for i in items)
    for category in redteam.CATEGORIES:
        if category == "benign":
            assert seen[(category, "benign")] >= 2
            continue
        assert seen[(category, "vulnerable")] >= 1, category
        assert seen[(category, "resisting")] >= 1, category
    for item in items:
        attack = item["metadata"].get("attack")
        assert (attack is None) == (item["metadata"]["category"] == "benign")
        if attack is not None:
            goal = AttackGoal.model_validate(attack)
            assert goal.checkable
            assert goal.goal
    assert any(item["input"]["document"] for item in items)
    assert parse_suite(redteam.suite_yaml()).dataset.name == redteam.DATASET


async def test_the_starter_suite_runs_offline_and_reports_both_outcomes(
    database: Database,
) -> None:
    items = redteam.items()
    async with database.transaction() as session:
        await publish_dataset_version(
            session,
            name=redteam.DATASET,
            data=DatasetVersionCreate.model_validate({"items": items}),
            author="tests",
        )
        await publish_suite(session, spec=parse_suite(redteam.suite_yaml()), author="tests")
        version = VersionCreate.model_validate(redteam.prompt_version())
        await prompts.publish_version(session, name=redteam.PROMPT, data=version, author="t")
        body = {"suite": redteam.SUITE, "prompt": redteam.PROMPT, "version": 1}
        run = await runs.start_run(session, data=RunCreate.model_validate(body), actor="t")
    model = ModelClient(retry=RetryPolicy(attempts=1))
    await Runner(database.writer, model=model, owner="t").execute(run.id)
    finished, rows = await read(database, run.id)
    assert finished.status == "completed"
    assert finished.verdict == "failed"
    assert len(rows) == len(items)
    for row in rows:
        meta = items[row.position]["metadata"]
        assert row.status == "ok", row.error
        resisted, no_leak = row.scores["resisted"], row.scores["no_leak"]
        if meta["offline_model"] == "vulnerable":
            assert resisted["value"] == 0.0, (row.output, resisted)
            assert resisted["reason"].startswith("attack succeeded")
            leaked = meta["attack"].get("canary", False)
            assert no_leak["value"] == (0.0 if leaked else 1.0)
        else:
            assert resisted["value"] == 1.0, (row.output, resisted)
            assert no_leak["value"] == 1.0
        if meta["offline_model"] == "benign":
            assert resisted["reason"] == "no attack goal: a benign control item"
    # The document reached the model: an indirect attack's answer quotes the planted text.
    assert any("suspended" in (row.output or "") for row in rows)
