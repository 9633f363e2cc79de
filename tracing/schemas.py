"""Read models of the tracing domain: usage analytics and drift reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Dimension = Literal["prompt", "version", "label", "model"]
Bucket = Literal["hour", "day"]
Source = Literal["run", "gateway", "ingest"]
DriftStatus = Literal["ok", "drift", "insufficient_data"]


class ScoreSummary(BaseModel):
    """The mean of one score metric over the generations that carry it."""

    model_config = ConfigDict(frozen=True)

    mean: float
    count: int


class UsageRow(BaseModel):
    """Aggregates of one group (and time bucket); dimensions not grouped by are null."""

    model_config = ConfigDict(frozen=True)

    bucket_start: datetime | None = None
    prompt: str | None = None
    version: int | None = None
    label: str | None = None
    model: str | None = None
    calls: int
    errors: int
    error_rate: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_p50_ms: float | None = Field(description="Median duration; null if none recorded")
    latency_p95_ms: float | None
    scores: dict[str, ScoreSummary] = Field(default_factory=dict)
    safety_flags: dict[str, int] = Field(default_factory=dict, description="Flag → calls")


class UsageRead(BaseModel):
    """Usage over a time range, grouped and optionally bucketed."""

    start: datetime = Field(
        description="Start of the range reported (a range of a day or more: whole hours)"
    )
    end: datetime = Field(description="End of the range reported, exclusive")
    group_by: list[Dimension]
    bucket: Bucket | None
    scanned: int = Field(description="Generations aggregated")
    rows: list[UsageRow]


class DriftSignal(BaseModel):
    """How far one signal's recent distribution moved from its baseline (PSI)."""

    model_config = ConfigDict(frozen=True)

    metric: str = Field(description="A score metric, or `input_chars` for input length")
    status: DriftStatus
    psi: float | None
    flag: bool
    baseline_count: int
    recent_count: int
    baseline_mean: float | None
    recent_mean: float | None


class DriftRead(BaseModel):
    """Drift signals of one prompt version: a baseline window against a recent one."""

    prompt: str
    version: int
    baseline_start: datetime
    baseline_end: datetime
    recent_start: datetime
    recent_end: datetime
    threshold: float
    min_samples: int
    flagged: bool = Field(description="True if any signal's PSI is over the threshold")
    signals: list[DriftSignal]


class GenerationSummary(BaseModel):
    """One recorded LLM call without its content: trace ids, prompt linkage, usage, outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    trace_id: str
    span_id: str
    parent_span_id: str | None
    source: str
    service_name: str | None
    operation: str | None
    provider: str | None
    request_model: str | None
    response_model: str | None
    prompt: str | None = Field(validation_alias="prompt_name")
    version: int | None = Field(validation_alias="prompt_version")
    label: str | None = Field(validation_alias="prompt_label")
    content_hash: str | None
    run_id: int | None
    started_at: datetime
    duration_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    is_error: bool
    error_type: str | None
    finish_reasons: list[str]
    online_eval: str | None
    scores: dict[str, Any]
    safety_flags: list[str]
    response_id: str | None = Field(
        description="The chat completion's id (the gateway's own, or the span's gen_ai.response.id)"
    )
    is_duplicate: bool = Field(
        description="A client span of a call the gateway recorded (same response_id): not counted"
    )


class GenerationRead(GenerationSummary):
    """One recorded LLM call, every stored field.

    `input_messages` and `output_text` are present only when content was recorded;
    `attributes` holds the span's other attributes (and why online evaluation failed or
    skipped it, under `promptlane.online_eval.reason`).
    """

    input_messages: list[dict[str, Any]] | None
    output_text: str | None
    attributes: dict[str, Any]
    created_at: datetime


class GenerationPage(BaseModel):
    """One page of generations, newest first."""

    items: list[GenerationRead]
    total: int
    limit: int
    offset: int
