"""A GenAI span as a `generations` row: columns from the attribute dialects, values bounded.

Every value bound for the database is bounded here: strings to their column's length (and
without NUL, which PostgreSQL refuses), integers to the column's range, floats to finite ones,
and the free-form `attributes` to a fixed number of short values. The row is a
`GenerationRow` (tracing/generation.py), the one constructor every source builds rows with.
The insert normalises every row again, whatever built it (`tracing/normalise.py`); what this
module adds is ingest's own policy: how much of a span is kept, and values out of range
dropped rather than clamped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypedDict, cast

import sqlalchemy as sa

from tracing import dialects, semconv
from tracing.generation import GenerationRow
from tracing.models import Generation
from tracing.otlp import STATUS_CODE_ERROR, SpanRecord
from tracing.traces import linkage

SOURCE: Final = "ingest"
TABLE: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
OTHER_ERROR: Final = "_OTHER"  # the GenAI conventions' error.type when none is known
MAX_ATTRIBUTES: Final = 64
MAX_KEY_CHARS: Final = 128
MAX_VALUE_CHARS: Final = 1024
MAX_LIST_ITEMS: Final = 32
MAX_ITEM_CHARS: Final = 256
MAX_NAME_CHARS: Final = 64  # score metrics and safety flags
MAX_SCORES: Final = 32
MAX_FLAGS: Final = 16
MAX_MESSAGES: Final = 200
MAX_CONTENT_CHARS: Final = 100_000
INT32_MAX: Final = 2**31 - 1
DROPPED: Final = "promptlane.attributes_dropped"
# Resource attributes worth keeping on each generation (service.name has its own column).
RESOURCE_KEPT: Final = (
    "service.version",
    "service.namespace",
    "deployment.environment.name",
    "deployment.environment",
)
_LONG_VALUES: Final = frozenset({semconv.EXPECTED})  # compared whole by online scorers
_SKIPPED_PREFIXES: Final = (*dialects.CONTENT_PREFIXES, semconv.SCORE_PREFIX)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SEMCONV_CONTENT: Final = frozenset({semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES})
_PLAIN: Final = frozenset({bool, int})  # stored as they are (floats may be NaN, strings long)
_LENGTHS: Final[Mapping[str, int]] = {
    column.name: column.type.length
    for column in TABLE.columns
    if isinstance(column.type, sa.String) and column.type.length
}


def clean(text: str, limit: int) -> str:
    """Return `text` without NUL characters (PostgreSQL refuses them), cut to `limit`."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:limit]


def _column_text(value: Any, column: str) -> str | None:
    if value is None:
        return None
    return clean(value if isinstance(value, str) else str(value), _LENGTHS[column]) or None


def _int(value: Any, *, low: int = 0) -> int | None:
    """Return an integer attribute within [low, INT32_MAX] (the columns' range), else None."""
    integral = isinstance(value, float) and value.is_integer()
    if integral or (isinstance(value, str) and value.isdecimal() and len(value) <= 10):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= INT32_MAX else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _cost(value: Any) -> float | None:
    cost = None if isinstance(value, bool) else _number(value)
    return cost if cost is not None and cost >= 0 else None


def _flags(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    out: list[str] = []
    for item in items[:MAX_FLAGS]:
        flag = clean(item.strip(), MAX_NAME_CHARS) if isinstance(item, str) else ""
        if flag and flag not in out:
            out.append(flag)
    return out


def _item(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return clean(value, limit)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean(json.dumps(value, default=str), limit)


def bounded(key: str, value: Any) -> Any:
    """Return an attribute value bounded as stored: lists and text cut, NaN as text."""
    if isinstance(value, list):
        return [_item(item, MAX_ITEM_CHARS) for item in value[:MAX_LIST_ITEMS]]
    return _item(value, MAX_CONTENT_CHARS if key in _LONG_VALUES else MAX_VALUE_CHARS)


def _add_score(scores: dict[str, float], key: str, value: Any) -> None:
    metric = clean(key[len(semconv.SCORE_PREFIX) :], MAX_NAME_CHARS)
    score = _number(value)
    if metric and score is not None and len(scores) < MAX_SCORES:
        scores[metric] = score


def split_attributes(span: SpanRecord) -> tuple[dict[str, Any], dict[str, float]]:
    """Return the span's free-form attributes (bounded) and its `promptlane.score.*` scores."""
    kept: dict[str, Any] = {}
    scores: dict[str, float] = {}
    dropped = 0
    for key, value in span.attributes.items():
        if key in dialects.MAPPED:
            continue
        if key.startswith(_SKIPPED_PREFIXES):  # content (mapped elsewhere) or a score
            if key.startswith(semconv.SCORE_PREFIX):
                _add_score(scores, key, value)
            continue
        if len(kept) >= MAX_ATTRIBUTES or len(key) > MAX_KEY_CHARS:
            dropped += 1
        elif type(value) in _PLAIN:  # the common case, without a call per attribute
            kept[key if "\x00" not in key else clean(key, MAX_KEY_CHARS)] = value
        else:
            kept[clean(key, MAX_KEY_CHARS)] = bounded(key, value)
    for key in RESOURCE_KEPT:
        if key in span.resource and key not in kept:
            kept[key] = bounded(key, span.resource[key])
    if dropped:
        kept[DROPPED] = dropped
    return kept, scores


class _ModelFields(TypedDict):
    operation: str | None
    provider: str | None
    request_model: str | None
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    finish_reasons: list[str]
    cost_usd: float | None


class _PromptFields(TypedDict):
    prompt_name: str | None
    prompt_version: int | None
    prompt_label: str | None
    content_hash: str | None
    run_id: int | None


class _ContentFields(TypedDict):
    input_chars: int | None
    input_messages: list[dict[str, Any]] | None
    output_text: str | None


class _ErrorFields(TypedDict):
    is_error: bool
    error_type: str | None


def _model_fields(attributes: Mapping[str, Any], flat: dialects.Flattened) -> _ModelFields:
    first = dialects.first
    request_model = (
        first(attributes, dialects.REQUEST_MODEL)
        or dialects.invocation_model(attributes)
        or first(attributes, (dialects.LLM_MODEL_NAME,))
    )
    return {
        "operation": _column_text(dialects.operation(attributes), "operation"),
        "provider": _column_text(first(attributes, dialects.PROVIDER), "provider"),
        "request_model": _column_text(request_model, "request_model"),
        "response_model": _column_text(
            first(attributes, dialects.RESPONSE_MODEL), "response_model"
        ),
        "input_tokens": _int(first(attributes, dialects.INPUT_TOKENS)),
        "output_tokens": _int(first(attributes, dialects.OUTPUT_TOKENS)),
        "finish_reasons": [
            clean(reason, MAX_NAME_CHARS)
            for reason in dialects.finish_reasons(attributes, flat)[:MAX_FLAGS]
        ],
        "cost_usd": _cost(attributes.get(semconv.COST_USD)),
    }


def _prompt_fields(attributes: Mapping[str, Any]) -> _PromptFields:
    link = linkage.link_of(attributes) or linkage.NO_LINK
    return {
        "prompt_name": link.prompt_name,
        "prompt_version": link.prompt_version,
        "prompt_label": link.prompt_label,
        "content_hash": link.content_hash,
        "run_id": link.run_id,
    }


def _content_fields(attributes: Mapping[str, Any], flat: dialects.Flattened) -> _ContentFields:
    if not flat and _SEMCONV_CONTENT.isdisjoint(attributes):
        return {"input_chars": None, "input_messages": None, "output_text": None}  # privacy default
    limit = MAX_CONTENT_CHARS
    messages = dialects.input_messages(attributes, flat)
    output = dialects.output_text(attributes, flat)
    if messages is not None:
        chars = sum(len(m["content"]) for m in messages)
        messages = [
            {"role": clean(m["role"], MAX_NAME_CHARS), "content": clean(m["content"], limit)}
            for m in messages[:MAX_MESSAGES]
        ]
    return {
        "input_chars": min(chars, INT32_MAX) if messages is not None else None,
        "input_messages": messages,
        "output_text": clean(output, MAX_CONTENT_CHARS) if output is not None else None,
    }


def _error_fields(span: SpanRecord) -> _ErrorFields:
    error_type = span.attributes.get(semconv.ERROR_TYPE)
    if error_type is not None:
        text = _column_text(error_type, "error_type")
        return {"is_error": True, "error_type": text or OTHER_ERROR}
    is_error = span.status_code == STATUS_CODE_ERROR
    return {"is_error": is_error, "error_type": OTHER_ERROR if is_error else None}


def generation_row(span: SpanRecord, *, created_at: datetime) -> dict[str, Any] | None:
    """Return the generations row of a GenAI span (unpriced), or None for any other span."""
    attributes = span.attributes
    if not dialects.is_genai(attributes):
        return None
    kept, scores = split_attributes(span)
    flat = dialects.flattened(attributes)
    ended = span.end_ns >= span.start_ns > 0
    return GenerationRow(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        source=SOURCE,
        service_name=_column_text(span.service_name, "service_name"),
        **_model_fields(attributes, flat),
        **_prompt_fields(attributes),
        started_at=_EPOCH + timedelta(microseconds=span.start_ns // 1000),
        duration_ms=(span.end_ns - span.start_ns) / 1e6 if ended else None,
        **_error_fields(span),
        **_content_fields(attributes, flat),
        online_eval=None,
        scores=scores,
        safety_flags=_flags(attributes.get(semconv.SAFETY_FLAGS)),
        attributes=kept,
        created_at=created_at,
    ).as_insert()
