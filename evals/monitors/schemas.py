"""Monitor and incident requests and responses; a cron expression is checked with croniter."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, Field, Strict, field_validator, model_validator

from evals.connections.schemas import slug_problem
from evals.monitors.cadence import cron_problem
from prompts.schemas import LATEST, label_problem, name_problem
from tracing.validation import StrictModel

Trigger = Literal["schedule", "signal", "dataset"]
Metric = Literal["score_mean", "error_rate", "cost_per_call", "drift_psi", "safety_flag_rate"]
Op = Literal["<", "<=", ">", ">="]
EventStatus = Literal["running", "fired", "ok", "insufficient", "superseded", "error", "timed_out"]
EVENT_STATUSES: Final = (
    "running",
    "fired",
    "ok",
    "insufficient",
    "superseded",
    "error",
    "timed_out",
)
WINDOW_MAX: Final = 30 * 24 * 3600  # the drift baseline and the window must fit in 90 days
THRESHOLD_MAX: Final = 1e12
SAMPLES_MAX: Final = 10**9


def _check(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


class SignalSpec(StrictModel):
    """A production signal over a window: fire when `metric op threshold` holds."""

    metric: Metric
    op: Op
    threshold: float = Field(ge=-THRESHOLD_MAX, le=THRESHOLD_MAX, allow_inf_nan=False)
    window_seconds: Annotated[int, Strict()] = Field(
        ge=60,
        le=WINDOW_MAX,
        description="The window the metric is read over (and, without a "
        "cron expression, how often it is read)",
    )
    min_samples: Annotated[int, Strict()] = Field(
        default=20,
        ge=1,
        le=SAMPLES_MAX,
        description="Fewer calls (or scores) than this: `insufficient`, never a firing",
    )
    score: str | None = Field(
        default=None,
        max_length=200,
        description="score_mean: the score's name (required); drift_psi: the score whose "
        "distribution drifts (default: input length); safety_flag_rate: one flag (default: "
        "the most frequent)",
    )

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):  # pragma: no cover - allow_inf_nan refuses it first
            raise ValueError("threshold must be a finite number")
        return value

    @model_validator(mode="after")
    def _score_named(self) -> SignalSpec:
        if self.metric == "score_mean" and not self.score:
            raise ValueError("metric score_mean needs `score`: the score's name")
        return self


def _target(prompt: str | None, label: str | None) -> None:
    if prompt is not None:
        _check(name_problem(prompt))
    if label is not None:
        _check(label_problem(label))
        if label == LATEST:
            raise ValueError("'latest' is not a label a monitor can watch: it never moves")


class MonitorUpdate(StrictModel):
    """Change a monitor's timing, signal, description, or pause it."""

    cron: str | None = Field(default=None, max_length=200, description="A cron expression")
    signal: SignalSpec | None = None
    enabled: Annotated[bool, Strict()] | None = None
    description: str | None = Field(default=None, max_length=2_000)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            _check(cron_problem(value))
        return value


class MonitorCreate(MonitorUpdate):
    """A new monitor: what it watches and what makes it check."""

    name: str = Field(max_length=64)
    prompt: str | None = Field(
        default=None, max_length=200, description="One prompt; default: every prompt"
    )
    label: str | None = Field(
        default=None, max_length=64, description="One label; default: every gated label"
    )
    trigger: Trigger

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        _check(slug_problem(value, "monitor name"))
        return value

    @model_validator(mode="after")
    def _trigger_fields(self) -> MonitorCreate:
        _target(self.prompt, self.label)
        if self.trigger == "schedule":
            if self.cron is None:
                raise ValueError("a schedule monitor needs `cron` (e.g. '0 * * * *')")
            if self.signal is not None:
                raise ValueError("a schedule monitor takes no `signal`")
        elif self.trigger == "dataset":
            if self.cron is not None or self.signal is not None:
                raise ValueError(
                    "a dataset monitor takes no `cron` or `signal`: it checks when a dataset "
                    "its label's pinned suites use gets a new version"
                )
        elif self.signal is None:
            raise ValueError("a signal monitor needs `signal`")
        return self


class MonitorRead(BaseModel):
    """A stored monitor."""

    name: str
    prompt: str | None
    label: str | None
    trigger: Trigger
    cron: str | None
    signal: SignalSpec | None
    enabled: bool
    next_due_at: datetime
    description: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class MonitorEventRead(BaseModel):
    """One check of one label for one period, with its evidence."""

    id: int
    monitor: str
    prompt: str
    label: str
    version: int | None
    period_key: str = Field(description="The period (its scheduled time), or manual:<time>")
    status: EventStatus
    evidence: dict[str, Any] = Field(
        description="Runs and their verdicts, metric values and window, incident, rollback"
    )
    started_at: datetime
    finished_at: datetime | None


class IncidentRead(BaseModel):
    """A label a monitor found failing; open until resolved."""

    id: int
    prompt: str
    label: str
    is_open: bool
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    reason: str | None
    first_event_id: int | None
    last_event_id: int | None
    firings: int


class IncidentResolve(StrictModel):
    """Close an incident, saying why."""

    reason: str = Field(min_length=1, max_length=2_000, description="Why it is resolved")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value
