"""Generations of eval runs with tracing on (the chat span is the generation), judges'
generations, and rows stored whatever their answer holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from api.db import Database
from evals.errors import ModelCallError
from evals.llm.client import Completion, ModelClient, RetryPolicy
from evals.runs import generations as run_generations
from evals.runs.batch import item_row
from evals.runs.generations import judge_rows
from evals.runs.runner import Runner
from evals.scorers.context import JudgeCall
from evals.scorers.judge import BUILTIN_TOXICITY
from prompts.base import utc_now
from tests.evals.generations_support import (
    database,
    generations,
    item_key,
)
from tests.evals.runner_support import (
    read,
    seed,
    start,
)
from tests.tracing.conftest import Traced
from tracing import semconv

__all__ = ["database"]  # the fixture


# --- with tracing on -----------------------------------------------------------------------


@pytest.fixture
def traced() -> Iterator[Traced]:
    t = Traced(record_content=True)
    yield t
    t.handle.shutdown()


async def run_traced(db: Database, traced: Traced, **version: Any) -> int:
    await seed(db, items=4, **version)
    run_id = await start(db)
    telemetry = traced.handle.telemetry
    model = ModelClient(retry=RetryPolicy(attempts=1), telemetry=telemetry)
    await Runner(db.writer, model=model, owner="test", telemetry=telemetry).execute(run_id)
    return run_id


def spans_named(traced: Traced, prefix: str) -> dict[str, ReadableSpan]:
    spans = [s for s in traced.spans() if isinstance(s, ReadableSpan)]
    return {format(s.context.span_id, "016x"): s for s in spans if s.name.startswith(prefix)}


async def test_with_tracing_the_generation_is_its_chat_span(
    database: Database, traced: Traced
) -> None:
    run_id = await run_traced(database, traced)
    chats = spans_named(traced, "chat ")
    items = spans_named(traced, semconv.SPAN_ITEM)
    gens = await generations(database, run_id)
    assert len(gens) == len(chats) == 4
    for g in gens:
        span = chats[g.span_id]
        assert g.trace_id == format(span.context.trace_id, "032x")
        assert span.parent is not None
        assert g.parent_span_id == format(span.parent.span_id, "016x")
        assert g.parent_span_id in items
        attrs = dict(span.attributes or {})
        assert g.input_tokens == attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS]
        assert g.cost_usd == attrs[semconv.COST_USD]
        # record_content is on: the messages and answer are stored with the generation.
        assert g.input_messages is not None
        assert g.input_messages[-1] == {"role": "user", "content": f"ticket {item_key(g)[1]}"}
        assert g.output_text in {"billing", "technical", "account"}


async def test_with_tracing_a_failed_call_keeps_its_span_ids(
    database: Database, traced: Traced
) -> None:
    run_id = await run_traced(database, traced, fail_rate=1.0, fail_with="rate_limit", seed=1)
    chats = spans_named(traced, "chat ")
    gens = await generations(database, run_id)
    assert len(gens) == 4
    for g in gens:
        span = chats[g.span_id]
        assert g.trace_id == format(span.context.trace_id, "032x")
        assert (g.is_error, g.error_type) == (True, "RateLimitError")
        assert dict(span.attributes or {})[semconv.ERROR_TYPE] == g.error_type
        assert g.output_text is None


def test_judge_calls_become_generations_of_the_judge_version() -> None:
    judge = BUILTIN_TOXICITY
    messages = [{"role": "user", "content": "rate this"}]
    answered = Completion(
        text='{"score": 1}',
        model="offline/echo",
        input_tokens=3,
        output_tokens=2,
        cost_usd=0.25,
        latency_ms=1.0,
        finish_reason="stop",
        trace_id="a" * 32,
        span_id="b" * 16,
    )
    calls = [
        JudgeCall("tox", judge, "offline/echo", messages, utc_now(), 5.0, answered),
        JudgeCall("tox", judge, "offline/echo", messages, utc_now(), 7.0, ModelCallError("429")),
        JudgeCall("tox", judge, "fake/judge", messages, utc_now(), 1.0, object()),  # no call
    ]
    ok, failed = judge_rows(calls, ("candidate", 3, 0), run_id=9)
    for row in (ok, failed):
        assert (row["prompt_name"], row["prompt_version"], row["run_id"]) == (
            "promptlane/toxicity",
            0,
            9,
        )
        assert row["content_hash"] == judge.content_hash
        assert row["attributes"][semconv.SCORER_NAME] == "tox"
        assert row["attributes"][semconv.ITEM_POSITION] == 3
    assert (ok["cost_usd"], ok["output_tokens"], ok["is_error"]) == (0.25, 2, False)
    assert (ok["trace_id"], ok["span_id"], ok["duration_ms"]) == ("a" * 32, "b" * 16, 5.0)
    assert ok["output_text"] is None  # content is not recorded unless asked
    assert (failed["is_error"], failed["cost_usd"]) == (True, None)


async def test_a_runs_items_are_stored_whatever_their_answer_or_scores_hold(
    database: Database,
) -> None:
    await seed(database, items=2)
    run_id = await start(database)
    items = [
        {
            **item_row(run_id, "candidate", 0, 0),
            "status": "ok",
            "output": "bill\x00ing",  # a model may answer with NUL
            "scores": {"faithfulness": {"value": float("nan"), "reason": "r\x00"}},
        },
        {**item_row(run_id, "candidate", 1, 0), "status": "ok", "output": "technical"},
    ]
    async with database.transaction() as session:
        assert await run_generations.insert_items(session, items, {}) == []
    _, stored = await read(database, run_id)
    assert [(i.output, i.scores) for i in stored] == [
        ("billing", {"faithfulness": {"value": None, "reason": "r"}}),
        ("technical", {}),
    ]
