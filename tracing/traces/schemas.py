"""Read models of whole traces: the trace list, and one trace as a tree of spans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tracing.schemas import GenerationSummary


class TraceSummary(BaseModel):
    """One trace in the list: its root, service, timing, size, errors, tokens and cost."""

    trace_id: str
    name: str | None = Field(description="The root span's name; null until the root arrives")
    service_name: str | None
    started_at: datetime
    duration_ms: float | None = Field(description="The root span's, else first start to last end")
    spans: int
    errors: int = Field(description="Spans with an error status")
    generations: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class TracePage(BaseModel):
    """One page of traces, newest first."""

    items: list[TraceSummary]
    total: int
    limit: int
    offset: int


class SpanNode(BaseModel):
    """A span of the trace, its generation (a model call) if it is one, and its children.

    A generation whose span was never ingested (a gateway or eval-run call) is a node of its
    own, with `name` and `kind` null. A node whose parent never arrived is a root.
    """

    span_id: str
    parent_span_id: str | None
    name: str | None
    kind: str | None
    service_name: str | None
    scope: str | None = None
    started_at: datetime
    duration_ms: float | None
    is_error: bool
    status_message: str | None = None
    prompt: str | None = Field(default=None, description="The prompt link the span carries")
    version: int | None = None
    label: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    generation: GenerationSummary | None = None
    children: list[SpanNode] = Field(default_factory=list)


class TraceRead(BaseModel):
    """One trace as a tree: spans nested by parent, generations in place, orphans at the root.

    Message content is not part of it: `GET /v1/generations/{id}` (writer) has a call's.
    """

    trace_id: str
    started_at: datetime
    duration_ms: float | None
    spans: int
    generations: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    truncated: bool = Field(description="True if the trace has more spans than one answer holds")
    roots: list[SpanNode]
