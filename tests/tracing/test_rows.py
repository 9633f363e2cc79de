"""GenAI spans of every dialect become generation rows; values are bounded for the database."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.otlp_requests import genai, record
from tracing import rows
from tracing.models import Generation
from tracing.rows import generation_row

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def row_of(attributes: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    row = generation_row(record(attributes, **kwargs), created_at=NOW)
    assert row is not None
    return row


def test_a_semconv_chat_span_maps_to_every_column() -> None:
    span = record(
        genai(
            **{
                "promptlane.prompt.content_hash": "ab" * 32,
                "promptlane.run.id": 9,
                "promptlane.cost_usd": 0.0125,
                "promptlane.score.helpfulness": 0.75,
                "promptlane.score.exact": True,
                "promptlane.safety.flags": ["pii", "pii", "refusal"],
                "server.address": "api.openai.com",
            }
        ),
        resource={"service.name": "support-bot", "deployment.environment.name": "prod"},
    )
    row = generation_row(span, created_at=NOW)
    assert row is not None
    assert set(row) | {"id"} == set(rows.TABLE.columns.keys()), "a row holds every column"
    assert row | {"trace_id": None, "span_id": None} == {
        "trace_id": None,
        "span_id": None,
        "parent_span_id": None,
        "source": "ingest",
        "service_name": "support-bot",
        "operation": "chat",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "model": None,  # filled by insert_rows
        "input_tokens": 120,
        "output_tokens": 30,
        "finish_reasons": ["stop"],
        "cost_usd": 0.0125,
        "prompt_name": "support/triage",
        "prompt_version": 2,
        "prompt_label": "production",
        "content_hash": "ab" * 32,
        "run_id": 9,
        "started_at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
        "duration_ms": 250.0,
        "is_error": False,
        "error_type": None,
        "input_chars": None,
        "input_messages": None,
        "output_text": None,
        "online_eval": None,
        "response_id": None,
        "is_duplicate": False,
        "scores": {"helpfulness": 0.75, "exact": 1.0},
        "safety_flags": ["pii", "refusal"],
        "attributes": {
            "gen_ai.request.temperature": 0.2,
            "server.address": "api.openai.com",
            "deployment.environment.name": "prod",
        },
        "created_at": NOW,
    }
    assert (row["trace_id"], row["span_id"]) == (span.trace_id, span.span_id)


def test_a_failed_span_with_content_and_a_parent_maps_to_every_column() -> None:
    span = dataclasses.replace(
        record(
            genai(
                **{
                    "gen_ai.response.model": None,
                    "gen_ai.usage.output_tokens": None,
                    "gen_ai.response.finish_reasons": None,
                    "gen_ai.prompt.0.role": "user",
                    "gen_ai.prompt.0.content": "Hello",
                    "error.type": "RateLimitError",
                }
            ),
            status_code=2,
            resource={},
        ),
        parent_span_id="c" * 16,
    )
    row = generation_row(span, created_at=NOW)
    assert row == {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": "c" * 16,
        "source": "ingest",
        "service_name": None,
        "operation": "chat",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "response_model": None,
        "model": None,
        "input_tokens": 120,
        "output_tokens": None,
        "finish_reasons": [],
        "cost_usd": None,
        "prompt_name": "support/triage",
        "prompt_version": 2,
        "prompt_label": "production",
        "content_hash": None,
        "run_id": None,
        "started_at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
        "duration_ms": 250.0,
        "is_error": True,
        "error_type": "RateLimitError",
        "input_chars": 5,
        "input_messages": [{"role": "user", "content": "Hello"}],
        "output_text": None,
        "online_eval": None,
        "response_id": None,
        "is_duplicate": False,
        "scores": {},
        "safety_flags": [],
        "attributes": {"gen_ai.request.temperature": 0.2},
        "created_at": NOW,
    }


def test_legacy_gen_ai_system_and_openllmetry_names() -> None:
    row = row_of(
        {
            "gen_ai.system": "anthropic",
            "llm.request.type": "completion",
            "gen_ai.request.model": "claude-3-haiku",
            "gen_ai.usage.prompt_tokens": 11,
            "gen_ai.usage.completion_tokens": 4,
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be brief.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Hi there",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Hello!",
            "gen_ai.completion.0.finish_reason": "stop",
            "traceloop.entity.name": "greet",
        }
    )
    assert (row["provider"], row["operation"], row["request_model"]) == (
        "anthropic",
        "text_completion",
        "claude-3-haiku",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (11, 4)
    assert row["input_messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi there"},
    ]
    assert row["input_chars"] == len("Be brief.") + len("Hi there")
    assert row["output_text"] == "Hello!"
    assert row["finish_reasons"] == ["stop"]
    assert row["attributes"] == {"traceloop.entity.name": "greet"}


def test_openllmetry_llm_usage_names() -> None:
    row = row_of(
        {"llm.request.type": "chat", "llm.usage.prompt_tokens": 5, "llm.usage.completion_tokens": 6}
    )
    assert (row["operation"], row["input_tokens"], row["output_tokens"]) == ("chat", 5, 6)


def test_openinference_llm_span() -> None:
    row = row_of(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.provider": "openai",
            "llm.token_count.prompt": 40,
            "llm.token_count.completion": 8,
            "llm.token_count.total": 48,
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "What is 2+2?",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "You do math.",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "4",
            "llm.invocation_parameters": '{"temperature": 0}',
        }
    )
    assert (row["operation"], row["provider"], row["request_model"]) == ("chat", "openai", "gpt-4o")
    assert (row["input_tokens"], row["output_tokens"]) == (40, 8)
    assert row["input_messages"] == [
        {"role": "system", "content": "You do math."},
        {"role": "user", "content": "What is 2+2?"},
    ]
    assert row["output_text"] == "4"
    assert row["attributes"] == {
        "llm.token_count.total": 48,
        "llm.invocation_parameters": '{"temperature": 0}',
    }


def test_openinference_requested_and_answering_models_are_kept_apart() -> None:
    row = row_of(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini-2024-07-18",  # what answered
            "llm.invocation_parameters": '{"model": "gpt-4o-mini"}',  # what was asked for
        }
    )
    assert (row["request_model"], row["response_model"]) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )


def test_openinference_model_may_come_from_the_invocation_parameters() -> None:
    row = row_of(
        {
            "openinference.span.kind": "LLM",
            "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0}',
        }
    )
    assert row["request_model"] == "gpt-4o-mini"
    assert row_of({"openinference.span.kind": "llm"})["request_model"] is None


def test_current_semconv_content_and_system_instructions() -> None:
    inputs = [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "name": "f"}]},
        {
            "role": "user",
            "parts": [{"type": "text", "content": "a"}, {"type": "text", "content": "b"}],
        },
    ]
    outputs = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hi!"}],
            "finish_reason": "stop",
        }
    ]
    row = row_of(
        genai(
            **{
                "gen_ai.input.messages": json.dumps(inputs),
                "gen_ai.output.messages": json.dumps(outputs),
                "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be kind"}]),
            }
        )
    )
    assert row["input_messages"] == [
        {"role": "system", "content": "Be kind"},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "a\nb"},
    ]
    assert row["input_chars"] == len("Be kind") + len("Hello") + len("a\nb")
    assert row["output_text"] == "Hi!"
    assert not any(key.startswith("gen_ai.input") for key in row["attributes"])


def test_content_is_absent_unless_the_span_carries_it() -> None:
    row = row_of(genai(**{"gen_ai.input.messages": "not json"}))
    assert (row["input_messages"], row["input_chars"], row["output_text"]) == (None, None, None)


@pytest.mark.parametrize(
    "attributes",
    [
        {"http.method": "GET"},
        {},
        {"openinference.span.kind": "CHAIN", "llm.model_name": "gpt-4o"},
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o"},
        {"gen_ai.operation.name": "execute_tool"},
    ],
)
def test_other_spans_are_not_generations(attributes: dict[str, Any]) -> None:
    assert generation_row(record(attributes), created_at=NOW) is None


@pytest.mark.parametrize(
    "marker",
    [
        {"gen_ai.operation.name": "embeddings"},
        {"gen_ai.request.model": "m"},
        {"gen_ai.provider.name": "openai"},
        {"gen_ai.system": "openai"},
        {"llm.model_name": "m"},
        {"llm.request.type": "chat"},
        {"openinference.span.kind": "LLM"},
    ],
)
def test_any_marker_makes_a_genai_span(marker: dict[str, Any]) -> None:
    assert generation_row(record(marker), created_at=NOW) is not None


def test_errors_from_status_or_error_type() -> None:
    failed = row_of(genai(), status_code=2)
    assert (failed["is_error"], failed["error_type"]) == (True, "_OTHER")
    typed = row_of(genai(**{"error.type": "RateLimitError"}))
    assert (typed["is_error"], typed["error_type"]) == (True, "RateLimitError")
    assert row_of(genai(), status_code=1)["is_error"] is False


def test_values_are_bounded_for_the_database() -> None:
    attributes = genai(
        **{
            "promptlane.prompt.name": "p\x00" + "x" * 500,
            "promptlane.prompt.version": 2**40,
            "promptlane.run.id": "12",
            "gen_ai.usage.input_tokens": -3,
            "gen_ai.usage.output_tokens": 7.0,
            "promptlane.cost_usd": math.nan,
            "promptlane.score.nan": math.inf,
            "promptlane.safety.flags": "pii",
            "huge": "v" * 5000,
            "nan": math.nan,
            "nested": {"a": [1, 2]},
            "list": ["y" * 1000] * 100,
            "nul\x00key": "a\x00b",
        }
    )
    row = row_of(attributes)
    assert row["prompt_name"] == "p" + "x" * 199
    assert row["prompt_version"] is None
    assert row["run_id"] == 12
    assert (row["input_tokens"], row["output_tokens"]) == (None, 7)
    assert row["cost_usd"] is None
    assert row["scores"] == {}
    assert row["safety_flags"] == ["pii"]
    kept = row["attributes"]
    assert kept["huge"] == "v" * rows.MAX_VALUE_CHARS
    assert kept["nan"] == "nan"
    assert kept["nested"] == '{"a": [1, 2]}'
    assert kept["list"] == ["y" * rows.MAX_ITEM_CHARS] * rows.MAX_LIST_ITEMS
    assert kept["nulkey"] == "ab"
    json.dumps(row, default=str, allow_nan=False)  # storable as JSON on PostgreSQL


def test_attributes_are_capped_and_the_rest_counted() -> None:
    many = {f"app.attr.{i}": i for i in range(rows.MAX_ATTRIBUTES + 10)}
    kept = row_of(genai(**many, **{"k" * 200: 1}))["attributes"]
    assert len(kept) == rows.MAX_ATTRIBUTES + 1
    # 75 free-form attributes (the temperature first): 11 past the cap, and one key too long.
    assert kept[rows.DROPPED] == 11 + 1
    assert "gen_ai.request.temperature" in kept


def test_the_expected_answer_is_kept_whole_for_online_scorers() -> None:
    expected = "z" * 5000
    assert (
        row_of(genai(**{"promptlane.expected": expected}))["attributes"]["promptlane.expected"]
        == expected
    )


def test_a_span_that_did_not_end_has_no_duration() -> None:
    assert row_of(genai(), start_ns=10, end_ns=5)["duration_ms"] is None
    assert row_of(genai(), start_ns=0, end_ns=5)["duration_ms"] is None


def test_loaded_generations_equal_constructed_ones() -> None:
    from tracing.ingest import loaded

    row = row_of(genai(**{"promptlane.score.q": 0.5}))
    (fast,) = loaded([(row, 41)])
    assert isinstance(fast, Generation)
    assert fast.model_dump() == Generation(**row, id=41).model_dump()
    fast.online_eval = "pending"  # still an instrumented, writable instance
    assert fast.online_eval == "pending"
