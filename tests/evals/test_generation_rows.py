"""The generation rows of the gateway and of eval runs, column by column.

Each source's row is pinned whole (every column and its value), answered and failed, so a
change to how rows are built cannot change what is stored unnoticed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evals.errors import ModelCallError
from evals.gateway.calls import PreparedCall
from evals.gateway.calls import generation_row as gateway_row
from evals.llm.client import Completion
from evals.runs.generations import Call, call_row, judge_rows
from evals.scorers.context import JudgeCall
from evals.scorers.judge import BUILTIN_TOXICITY
from prompts.base import utc_now
from tracing import semconv
from tracing.dedupe import is_gateway_response
from tracing.models import Generation
from tracing.telemetry import PromptRef

STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLUMNS = set(Generation.__table__.columns.keys()) - {"id"}  # type: ignore[attr-defined]
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
TRACE, SPAN = "a" * 32, "b" * 16


def answer(**overrides: Any) -> Completion:
    values: dict[str, Any] = {
        "text": "hi there",
        "model": "offline/echo",
        "input_tokens": 7,
        "output_tokens": 2,
        "cost_usd": 0.25,
        "latency_ms": 1.0,
        "finish_reason": "stop",
        "raw": {"model": "echo-2026-01-01"},
        "trace_id": TRACE,
        "span_id": SPAN,
    }
    values.update(overrides)
    return Completion(**values)


def created(row: dict[str, Any], before: datetime) -> dict[str, Any]:
    """Check the row holds every column and was made now; return it without `created_at`."""
    assert set(row) == COLUMNS, "a row holds every column"
    assert before <= row["created_at"] <= utc_now()
    return {k: v for k, v in row.items() if k != "created_at"}


def gateway_call(parent: tuple[str, str] | None = None) -> PreparedCall:
    prompt = PromptRef("support/triage", 3, "production", "c" * 64)
    return PreparedCall(
        "offline/echo", MESSAGES, {"model": "offline/echo"}, prompt, STARTED, parent
    )


GATEWAY_ANSWERED = {
    "trace_id": TRACE,
    "span_id": SPAN,
    "parent_span_id": "d" * 16,
    "source": "gateway",
    "service_name": None,
    "operation": "chat",
    "provider": "offline",
    "request_model": "offline/echo",
    "response_model": "echo-2026-01-01",
    "prompt_name": "support/triage",
    "prompt_version": 3,
    "prompt_label": "production",
    "content_hash": "c" * 64,
    "run_id": None,
    "started_at": STARTED,
    "duration_ms": 12.5,
    "input_tokens": 7,
    "output_tokens": 2,
    "cost_usd": 0.25,
    "is_error": False,
    "error_type": None,
    "finish_reasons": ["stop"],
    "input_chars": len("Be brief.") + len("hello"),
    "input_messages": MESSAGES,
    "output_text": "hi there",
    "online_eval": None,
    "scores": {},
    "safety_flags": [],
    "attributes": {},
    "response_id": None,
    "is_duplicate": False,
    "model": None,  # normalised as the row is inserted (tracing/inserts.py)
}


def test_a_gateway_call_that_answered_is_a_full_row() -> None:
    before = utc_now()
    call = gateway_call(parent=(TRACE, "d" * 16))
    row = gateway_row(call, answer(), duration_ms=12.5, record_content=True)
    assert created(row, before) == GATEWAY_ANSWERED | {"response_id": call.response_id}
    assert is_gateway_response(call.response_id)  # the id the caller got back
    assert row["input_messages"] is not MESSAGES  # copied, never the caller's list


def test_a_gateway_call_without_content_or_raw_model_or_prompt() -> None:
    before = utc_now()
    call = PreparedCall("offline/echo", MESSAGES, {}, None, STARTED, ("e" * 32, "d" * 16))
    row = gateway_row(
        call, answer(raw=None, finish_reason=None), duration_ms=1.0, record_content=False
    )
    assert created(row, before) == GATEWAY_ANSWERED | {
        "parent_span_id": None,  # the parent is in another trace
        "response_model": "offline/echo",
        "prompt_name": None,
        "prompt_version": None,
        "prompt_label": None,
        "content_hash": None,
        "duration_ms": 1.0,
        "finish_reasons": [],
        "input_messages": None,
        "output_text": None,
        "response_id": call.response_id,
    }


# What a failed call's row holds instead of an answer's (3 ms to fail; content is recorded).
FAILED = {
    "response_model": None,
    "duration_ms": 3.0,
    "input_tokens": None,
    "output_tokens": None,
    "cost_usd": None,
    "is_error": True,
    "error_type": "ModelCallError",
    "finish_reasons": [],
    "output_text": None,
}


def failed() -> ModelCallError:
    failure = ModelCallError("boom")
    failure.trace_id, failure.span_id = TRACE, SPAN
    return failure


def test_a_gateway_call_that_failed_is_a_full_row() -> None:
    before = utc_now()
    call = gateway_call(parent=(TRACE, "d" * 16))
    row = gateway_row(call, failed(), duration_ms=3.0, record_content=True)
    assert created(row, before) == GATEWAY_ANSWERED | FAILED


RUN_ANSWERED = GATEWAY_ANSWERED | {
    "parent_span_id": None,
    "source": "run",
    "prompt_label": None,
    "run_id": 9,
    "attributes": {
        semconv.RUN_VARIANT: "candidate",
        semconv.ITEM_POSITION: 4,
        semconv.ITEM_REPEAT: 1,
    },
}


def run_call() -> Call:
    return Call(
        PromptRef("support/triage", 3, None, "c" * 64, 9), "offline/echo", MESSAGES, STARTED
    )


def test_a_run_call_that_answered_is_a_full_row() -> None:
    before = utc_now()
    row = call_row(run_call(), ("candidate", 4, 1), answer(), duration_ms=12.5, record_content=True)
    assert created(row, before) == RUN_ANSWERED
    bare = call_row(run_call(), ("candidate", 4, 1), answer(raw=None), duration_ms=12.5)
    assert created(bare, before) == RUN_ANSWERED | {
        "response_model": "offline/echo",
        "input_messages": None,
        "output_text": None,
    }


def test_a_run_call_that_failed_is_a_full_row() -> None:
    before = utc_now()
    row = call_row(run_call(), ("candidate", 4, 1), failed(), duration_ms=3.0, record_content=True)
    assert created(row, before) == RUN_ANSWERED | FAILED


def test_a_judge_call_is_a_full_row_of_the_judge_version() -> None:
    before = utc_now()
    judged = JudgeCall("tox", BUILTIN_TOXICITY, "offline/echo", MESSAGES, STARTED, 5.0, answer())
    (row,) = judge_rows([judged], ("candidate", 4, 1), run_id=9, record_content=True)
    assert created(row, before) == RUN_ANSWERED | {
        "prompt_name": BUILTIN_TOXICITY.name,
        "prompt_version": BUILTIN_TOXICITY.version,
        "content_hash": BUILTIN_TOXICITY.content_hash,
        "duration_ms": 5.0,
        "attributes": RUN_ANSWERED["attributes"] | {semconv.SCORER_NAME: "tox"},
    }
