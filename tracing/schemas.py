"""Read models of the tracing domain: usage analytics and drift reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

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

    start: datetime
    end: datetime
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
