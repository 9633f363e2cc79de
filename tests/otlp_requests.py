"""Factories of OTLP trace export requests (protobuf messages, OTLP/JSON bytes, span records)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tracing.otlp import SpanRecord

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def genai(**overrides: Any) -> dict[str, Any]:
    """Return the attributes of a chat call in the current OTel GenAI conventions."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.response.finish_reasons": ["stop"],
        "promptlane.prompt.name": "support/triage",
        "promptlane.prompt.version": 2,
        "promptlane.prompt.label": "production",
    }
    attributes.update(overrides)
    return {k: v for k, v in attributes.items() if v is not None}


def any_value(value: Any) -> AnyValue:
    """Return a Python value as an OTLP AnyValue."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list | tuple):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    if isinstance(value, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(key_values(value))
        return out
    return AnyValue(string_value=str(value))


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    """Return attributes as OTLP KeyValue pairs."""
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def span(
    attributes: Mapping[str, Any] | None = None,
    *,
    trace_id: str | None = None,
    span_id: str | None = None,
    parent_span_id: str = "",
    name: str = "chat gpt-4o-mini",
    start_ns: int | None = None,
    duration_ms: float = 250.0,
    status: int = 0,
    status_message: str = "",
) -> Span:
    """Return one protobuf span (random ids unless given; started a minute ago)."""
    start = start_ns if start_ns is not None else time.time_ns() - 60 * 10**9
    return Span(
        trace_id=bytes.fromhex(trace_id or uuid.uuid4().hex),
        span_id=bytes.fromhex(span_id or uuid.uuid4().hex[:16]),
        parent_span_id=bytes.fromhex(parent_span_id),
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + int(duration_ms * 1e6),
        attributes=key_values(attributes or {}),
        status=Status(code=status, message=status_message),  # type: ignore[arg-type]
    )


def request(
    spans: Iterable[Span], *, resource: Mapping[str, Any] | None = None
) -> ExportTraceServiceRequest:
    """Return an export request holding `spans` under one resource and scope."""
    message = ExportTraceServiceRequest()
    resource_spans = message.resource_spans.add()
    resource_spans.resource.attributes.extend(
        key_values(resource if resource is not None else {"service.name": "support-bot"})
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "tests"
    scope_spans.spans.extend(spans)
    return message


def protobuf(*spans: Span, resource: Mapping[str, Any] | None = None) -> bytes:
    """Return a binary protobuf export request body."""
    return request(spans, resource=resource).SerializeToString()


def to_otlp_json(message: ExportTraceServiceRequest) -> dict[str, Any]:
    """Return a request as OTLP/JSON: protobuf's JSON mapping with hex trace and span ids."""
    document = json_format.MessageToDict(message)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for item in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in item:
                        item[key] = base64.b64decode(item[key]).hex()
    return document


def otlp_json(*spans: Span, resource: Mapping[str, Any] | None = None) -> bytes:
    """Return an OTLP/JSON export request body."""
    return json.dumps(to_otlp_json(request(spans, resource=resource))).encode()


def record(
    attributes: Mapping[str, Any] | None = None,
    *,
    status_code: int = 0,
    resource: Mapping[str, Any] | None = None,
    start_ns: int = 1_700_000_000_000_000_000,
    end_ns: int = 1_700_000_000_250_000_000,
) -> SpanRecord:
    """Return a decoded span record (for mapping tests that need no wire format)."""
    return SpanRecord(
        trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16],
        parent_span_id=None,
        name="chat",
        kind=3,
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=dict(attributes or {}),
        status_code=status_code,
        status_message="",
        resource=dict(resource if resource is not None else {"service.name": "support-bot"}),
        scope="tests",
    )
