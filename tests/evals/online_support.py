"""Online evaluation tests' fakes, helpers and the `prompt` fixture."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.db import Database
from evals.online import configs as online_configs
from evals.online.evaluator import OnlineEvaluator
from evals.online.schemas import OnlineEvaluationPut, OnlineEvaluationRead
from prompts import service as prompts
from tests.factories import chat_version, generation, store_generations
from tracing.metrics import Metrics
from tracing.models import Generation
from tracing.telemetry import Telemetry

PROMPT = "support/triage"
EMAIL = "Write to jane.doe@example.com for a refund."
# Generous bound against a hang (a broken worker); no test asserts how fast anything is.
HANG_GUARD = 60.0
SKIPPED_TOTAL = "promptlane_online_eval_skipped_total"


@dataclass(frozen=True)
class FakeCompletion:
    text: str
    cost_usd: float | None = 0.0004
    model: str = "fake/judge"


@dataclass
class GatedJudge:
    """A judge model that answers `answer` once `gate` is open, and says when it was called."""

    answer: str = '{"score": 1, "reason": "polite"}'
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0

    @classmethod
    def open(cls, answer: str = '{"score": 1, "reason": "polite"}') -> GatedJudge:
        judge = cls(answer)
        judge.gate.set()
        return judge

    async def complete(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> FakeCompletion:
        self.calls += 1
        self.started.set()
        await self.gate.wait()
        return FakeCompletion(self.answer)


@pytest.fixture
async def prompt(db: Database) -> str:
    async with db.transaction() as session:
        await prompts.publish_version(session, name=PROMPT, data=chat_version(), author="t")
    return PROMPT


async def configure(
    db: Database,
    *,
    label: str | None = None,
    rate: float = 1.0,
    scorers: list[dict[str, Any]] | None = None,
    enabled: bool = True,
    judge_model: str | None = None,
) -> OnlineEvaluationRead:
    data = OnlineEvaluationPut.model_validate(
        {
            "prompt": PROMPT,
            "label": label,
            "sample_rate": rate,
            "scorers": scorers or [{"type": "pii"}],
            "enabled": enabled,
        }
    )
    async with db.transaction() as session:
        return await online_configs.put_online_evaluation(
            session, data=data, actor="tests", judge_model=judge_model
        )


async def store(db: Database, count: int = 1, **overrides: Any) -> list[Generation]:
    values: dict[str, Any] = {"source": "ingest", "output_text": "Happy to help."}
    values.update(overrides)
    rows = [generation(**values) for _ in range(count)]
    async with db.transaction() as session:
        await store_generations(session, *rows)
    return rows


async def reload(db: Database, rows: list[Generation]) -> list[Generation]:
    async with db.reader() as session:
        found = [await session.get(Generation, row.id) for row in rows]
    assert all(row is not None for row in found)
    return [row for row in found if row is not None]


def sample(text: str, name: str, **labels: str) -> float | None:
    """Return the value of one series in Prometheus text, or None when it is absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


def evaluator(db: Database, **options: Any) -> OnlineEvaluator:
    options.setdefault("telemetry", Telemetry(metrics=Metrics()))
    options.setdefault("concurrency", 1)  # tests share one connection: one worker at a time
    return OnlineEvaluator(db.writer, **options)


async def run(ev: OnlineEvaluator, rows: list[Generation]) -> None:
    await ev.start()
    try:
        await ev.submit(rows)
        await asyncio.wait_for(ev.join(), HANG_GUARD)
    finally:
        await ev.stop()
