"""Spans of an eval run: run → item → chat, GenAI and promptlane attributes, content gating."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs.runner import Runner
from tests.conftest import DatabaseFactory
from tests.evals.runner_support import read, seed, start
from tests.tracing.conftest import Traced
from tracing import semconv


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def run_traced(db: Database, traced: Traced, *, items: int = 3, **version: Any) -> int:
    await seed(db, items=items, **version)
    run_id = await start(db)
    telemetry = traced.handle.telemetry
    model = ModelClient(
        retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.002), telemetry=telemetry
    )
    await Runner(db.writer, model=model, owner="test", telemetry=telemetry).execute(run_id)
    return run_id


def by_name(spans: list[Any], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


async def test_a_run_is_one_trace_of_run_item_and_chat_spans(
    database: Database, traced: Traced
) -> None:
    run_id = await run_traced(database, traced)
    spans = traced.spans()
    (run,) = by_name(spans, semconv.SPAN_RUN)
    items = by_name(spans, semconv.SPAN_ITEM)
    chats = by_name(spans, "chat offline/scripted")
    assert (len(items), len(chats)) == (3, 3)
    assert run.attributes is not None
    assert run.attributes[semconv.RUN_ID] == run_id
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}
    assert all(i.parent is not None and i.parent.span_id == run.context.span_id for i in items)
    item_ids = {i.context.span_id for i in items}
    assert all(c.parent is not None and c.parent.span_id in item_ids for c in chats)
    _, rows = await read(database, run_id)
    assert {r.trace_id for r in rows} == {format(run.context.trace_id, "032x")}

    chat = chats[0]
    assert chat.kind == SpanKind.CLIENT
    attrs = dict(chat.attributes or {})
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "offline"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "offline/scripted"
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL]
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert tuple(attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS]) == ("stop",)
    assert attrs[semconv.COST_USD] > 0
    assert attrs[semconv.PROMPT_NAME] == "triage"
    assert attrs[semconv.PROMPT_VERSION] == 1
    assert len(str(attrs[semconv.PROMPT_CONTENT_HASH])) == 64
    assert attrs[semconv.RUN_ID] == run_id
    assert semconv.GEN_AI_INPUT_MESSAGES not in attrs  # privacy default
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in attrs

    item = dict(items[0].attributes or {})
    assert item[semconv.score_attribute("correct")] == 1.0
    assert item[semconv.PROMPT_NAME] == "triage"
    events = [e for e in items[0].events if e.name == semconv.SCORE_EVENT]
    assert events
    assert dict(events[0].attributes or {})[semconv.SCORER_NAME] == "correct"


async def test_content_is_recorded_only_when_enabled(database: Database) -> None:
    traced = Traced(record_content=True)
    try:
        await run_traced(database, traced, items=1)
        (chat,) = by_name(traced.spans(), "chat offline/scripted")
    finally:
        traced.handle.shutdown()
    attrs = dict(chat.attributes or {})
    messages = json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES]))
    assert messages[0]["parts"][0]["type"] == "text"
    assert "ticket 0" in json.dumps(messages)
    output = json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES]))
    assert output[0]["role"] == "assistant"
    assert output[0]["parts"][0]["content"] == "billing"


async def test_a_failed_model_call_marks_its_span_with_the_error_type(
    database: Database, traced: Traced
) -> None:
    await run_traced(database, traced, items=2, fail_rate=1.0, fail_with="server_error", seed=1)
    spans = traced.spans()
    chats = by_name(spans, "chat offline/scripted")
    assert len(chats) == 2
    for chat in chats:
        assert chat.status.status_code == StatusCode.ERROR
        assert (chat.attributes or {})[semconv.ERROR_TYPE]
        assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in (chat.attributes or {})
    assert all(i.status.status_code == StatusCode.ERROR for i in by_name(spans, semconv.SPAN_ITEM))
    text = traced.handle.metrics.exposition().decode()
    assert 'error_type="' + str((chats[0].attributes or {})[semconv.ERROR_TYPE]) in text
