"""Tables of the tracing domain: generations (LLM calls seen by promptlane) and spans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracing.base import JSONType, UTCDateTime, utc_now


def _nullable(type_: Any) -> Any:
    return Field(default=None, sa_column=sa.Column(type_, nullable=True))


class Generation(SQLModel, table=True):
    """One LLM call: made by an eval run, by the gateway, or ingested over OTLP."""

    __tablename__ = "generations"
    __table_args__ = (
        sa.UniqueConstraint("trace_id", "span_id"),
        sa.Index("ix_generations_prompt_name_started_at", "prompt_name", "started_at"),
        # Partial: every range read skips the client spans of gateway calls (tracing/dedupe.py),
        # and so reads and counts a call listing's rows from the index alone.
        sa.Index(
            "ix_generations_counted_started_at",
            "started_at",
            postgresql_where=sa.text("is_duplicate = false"),
            sqlite_where=sa.text("is_duplicate = 0"),
        ),
        # The gateway's twin of a client span is found by the response id both recorded.
        sa.Index("ix_generations_response_id", "response_id"),
        # Partial: only the few rows waiting for online evaluation (crash recovery reads it).
        sa.Index(
            "ix_generations_online_eval_pending",
            "id",
            postgresql_where=sa.text("online_eval = 'pending'"),
            sqlite_where=sa.text("online_eval = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    trace_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    span_id: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    parent_span_id: str | None = _nullable(sa.String(16))
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # run|gateway|ingest
    service_name: str | None = _nullable(sa.String(200))
    operation: str | None = _nullable(sa.String(64))
    provider: str | None = _nullable(sa.String(64))
    request_model: str | None = _nullable(sa.String(200))
    response_model: str | None = _nullable(sa.String(200))
    # The model for analytics: provider prefix and dated snapshot resolved (model_names.py).
    model: str | None = _nullable(sa.String(200))
    prompt_name: str | None = _nullable(sa.String(200))
    prompt_version: int | None = _nullable(sa.Integer)
    prompt_label: str | None = _nullable(sa.String(64))
    content_hash: str | None = _nullable(sa.String(64))
    run_id: int | None = _nullable(sa.Integer)
    started_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    duration_ms: float | None = _nullable(sa.Float)
    input_tokens: int | None = _nullable(sa.Integer)
    output_tokens: int | None = _nullable(sa.Integer)
    cost_usd: float | None = _nullable(sa.Float)
    is_error: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    error_type: str | None = _nullable(sa.String(200))
    finish_reasons: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    input_chars: int | None = _nullable(sa.Integer)
    # Message content, stored only when the caller recorded it (privacy default: absent).
    input_messages: list[dict[str, Any]] | None = _nullable(JSONType)
    output_text: str | None = _nullable(sa.Text)
    # Online evaluation: None (not sampled), "pending", "scored", "skipped" or "failed".
    online_eval: str | None = _nullable(sa.String(16))
    scores: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    safety_flags: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    # The chat completion's `id` (gen_ai.response.id): the gateway's own, or a span's.
    response_id: str | None = _nullable(sa.String(200))
    # The client span of a call the gateway recorded: stored, not counted (tracing/dedupe.py).
    is_duplicate: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class Span(SQLModel, table=True):
    """One ingested span of an application's trace (any kind), kept for the retention window.

    Model-call spans are generations too; this table holds the trace's shape (parents, names,
    timing, status, bounded attributes without message content) and the prompt link the span
    itself carries, which linkage follows down to the generations below it.
    """

    __tablename__ = "spans"
    __table_args__ = (
        sa.PrimaryKeyConstraint("trace_id", "span_id"),
        sa.Index("ix_spans_started_at", "started_at"),
        sa.Index("ix_spans_trace_id_parent_span_id", "trace_id", "parent_span_id"),
    )

    trace_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    span_id: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    parent_span_id: str | None = _nullable(sa.String(16))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    service_name: str | None = _nullable(sa.String(200))
    scope: str | None = _nullable(sa.String(200))
    started_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    ended_at: datetime | None = _nullable(UTCDateTime)
    duration_ms: float | None = _nullable(sa.Float)
    is_error: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    status_message: str | None = _nullable(sa.String(1024))
    is_generation: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    # The prompt link the span carries itself (any convention), not one inherited.
    prompt_name: str | None = _nullable(sa.String(200))
    prompt_version: int | None = _nullable(sa.Integer)
    prompt_label: str | None = _nullable(sa.String(64))
    content_hash: str | None = _nullable(sa.String(64))
    run_id: int | None = _nullable(sa.Integer)
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
