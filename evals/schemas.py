"""Request/response models of the evaluation domain, and the suite specification."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import BaseModel, Field, Strict, field_validator, model_validator
from pydantic_core import PydanticCustomError

from evals.reports import Aggregate, Op, VersionRef
from prompts.schemas import LABEL_RE, name_problem
from tracing.validation import Flag, Number, PositiveInt, StrictModel

METRIC_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Metrics every run records per item, besides the scorers' own.
BUILTIN_METRICS: Final = frozenset({"latency_ms", "cost_usd", "input_tokens", "output_tokens"})


class _Strict(StrictModel):
    """A request model of the evaluation domain (unknown fields, control characters refused)."""


def _check_name(value: str, what: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem.replace("prompt name", f"{what} name"))
    return value


# --- datasets -----------------------------------------------------------------------------


class DatasetItemIn(_Strict):
    """One dataset item as uploaded."""

    # Items are text from elsewhere (tickets, documents): only NUL, which PostgreSQL cannot
    # store in text or JSONB, is refused in them.
    user_data: ClassVar[frozenset[str]] = frozenset({"input", "expected", "contexts", "metadata"})

    input: dict[str, Any] = Field(default_factory=dict, description="Template variables")
    expected: Any = Field(default=None, description="Reference output for the scorers")
    contexts: list[str] = Field(
        default_factory=list, max_length=256, description="Retrieved passages (RAG)"
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form; `id` keys the item in diffs"
    )


class DatasetVersionCreate(_Strict):
    """A new dataset version: its items and a commit message."""

    items: list[DatasetItemIn] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=2_000)
    message: str = Field(default="", max_length=2_000)


class DatasetItemRead(BaseModel):
    """One stored item."""

    position: int
    input: dict[str, Any]
    expected: Any
    contexts: list[str]
    metadata: dict[str, Any]


class DatasetVersionRead(BaseModel):
    """A dataset version's metadata (items are fetched separately or embedded)."""

    name: str
    version: int
    item_count: int
    content_hash: str
    message: str
    author: str
    created_at: datetime
    items: list[DatasetItemRead] | None = None


class DatasetRead(BaseModel):
    """A dataset with its newest and current version numbers."""

    name: str
    description: str
    latest_version: int | None
    current_version: int | None = Field(
        description="The version last pushed (suites naming no version pin it)"
    )
    item_count: int | None = Field(default=None, description="Items in the current version")
    created_at: datetime
    updated_at: datetime = Field(
        description="When its newest version was published (created_at before any)"
    )
    archived_at: datetime | None = Field(default=None, description="Set while archived")


class DatasetItemChange(BaseModel):
    """An item present in both versions whose content differs."""

    key: str | int = Field(description="metadata.id, or the position")
    fields: list[str] = Field(description="Which of input, expected, contexts, metadata differ")
    before: DatasetItemRead
    after: DatasetItemRead


class DatasetDiffCounts(BaseModel):
    """How many items were added, removed, changed and left alone."""

    added: int
    removed: int
    changed: int
    unchanged: int


class DatasetDiffRead(BaseModel):
    """The difference between two versions of one dataset (item lists capped at `limit`)."""

    name: str
    from_version: int
    to_version: int
    matched_by: Literal["metadata.id", "position"]
    counts: DatasetDiffCounts
    added: list[DatasetItemRead]
    removed: list[DatasetItemRead]
    changed: list[DatasetItemChange]
    limit: int


# --- curation: recorded calls into dataset items -------------------------------------------

MAX_CURATED: Final = 1_000  # generations one curation request may select
CurationLimit = Annotated[int, Strict(), Field(ge=1, le=MAX_CURATED)]


class ScoreBelow(_Strict):
    """Only calls whose score `name` (online evaluation's or the application's) is below `value`."""

    name: str = Field(min_length=1, max_length=64, description="Score (metric) name")
    below: Number = Field(allow_inf_nan=False, description="Selected when the score is below this")


class CurationCreate(_Strict):
    """Which recorded calls become items of a new dataset version: by id, or one prompt's."""

    ids: list[PositiveInt] | None = Field(
        default=None, min_length=1, max_length=MAX_CURATED, description="Generation ids"
    )
    prompt: str | None = Field(default=None, max_length=200, description="Calls of this prompt")
    version: PositiveInt | None = Field(default=None, description="Only this version's calls")
    label: str | None = Field(default=None, description="Only calls made through this label")
    errors: Flag | None = Field(default=None, description="Only failed (true) or good calls")
    start: datetime | None = Field(default=None, description="ISO 8601; default end - 7 days")
    end: datetime | None = Field(default=None, description="ISO 8601; default now")
    score: ScoreBelow | None = None
    safety_flag: str | None = Field(
        default=None, min_length=1, max_length=64, description="Only calls with this flag"
    )
    limit: CurationLimit = Field(default=100, description="Calls to add at most (newest first)")
    message: str = Field(default="", max_length=2_000, description="Commit message")
    description: str | None = Field(
        default=None, max_length=2_000, description="Replaces the dataset's description"
    )
    dry_run: Flag = Field(default=False, description="Say what would be added; store nothing")

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        return value if value is None else _check_name(value, "prompt")

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_RE.fullmatch(value):
            raise ValueError(f"invalid label {value!r}")
        return value

    @model_validator(mode="after")
    def _selection(self) -> CurationCreate:
        if self.ids is None and self.prompt is None:
            raise ValueError("give 'ids' or 'prompt' (which calls to add)")
        if self.prompt is None and (self.version is not None or self.label is not None):
            raise ValueError("'version' and 'label' select calls of a 'prompt': give it")
        return self


class CurationSkip(BaseModel):
    """A selected call that was not added, and why."""

    generation_id: int
    reason: str


class CurationResult(BaseModel):
    """What adding recorded calls to a dataset did (or, in a dry run, would do)."""

    name: str
    version: int | None = Field(
        description="The version created; else the current one (null: no dataset yet)"
    )
    created: bool = Field(description="Whether a new version was published")
    dry_run: bool
    selected: int = Field(description="Calls the selection matched")
    added: int = Field(description="Items added (or that would be)")
    generation_ids: list[int] = Field(description="The calls added, in item order")
    skipped: list[CurationSkip]


# --- suites -------------------------------------------------------------------------------


class ScorerSpec(_Strict):
    """A scorer in a suite: its metric name, its type and the type's parameters."""

    name: str = Field(default="", description="Metric name; defaults to the type")
    type: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _default_name(self) -> ScorerSpec:
        if not self.name:
            self.name = self.type
        if not METRIC_RE.fullmatch(self.name):
            raise ValueError(
                f"invalid metric name {self.name!r}: lowercase letters, digits and '_'"
            )
        return self


class GateCondition(_Strict):
    """One gate condition: aggregate(metric) op value."""

    metric: str = Field(min_length=1, max_length=64)
    aggregate: Aggregate = Aggregate.MEAN
    op: Op = ">="
    value: Number


class BaselineRule(_Strict):
    """Must not regress against the version the label holds now by more than `max_regression`."""

    metric: str = Field(min_length=1, max_length=64)
    max_regression: Number = Field(default=0.0, ge=0)
    higher_is_better: Flag = True
    confidence: Number = Field(default=0.95, gt=0.5, lt=1)
    resamples: PositiveInt = Field(default=2_000, ge=100, le=100_000)


class DatasetRef(_Strict):
    """A dataset by name, pinned to a version or following the latest."""

    name: str
    version: PositiveInt | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "dataset")


def _field_error(pointer: str, detail: str) -> PydanticCustomError:
    """Return a cross-field error that carries the pointer of the field it is about."""
    # A model validator's errors are located at the model itself ("#/"); the pointer in the
    # context lets evals.suites.validate_suite point at the offending field instead.
    return PydanticCustomError("suite_field", "{detail}", {"pointer": pointer, "detail": detail})


class SuiteSpec(_Strict):
    """A suite as written in YAML ("suites as code") and stored by content hash."""

    name: str
    description: str = Field(default="", max_length=2_000)
    dataset: DatasetRef
    scorers: list[ScorerSpec] = Field(min_length=1, max_length=64)
    gates: list[GateCondition] = Field(default_factory=list, max_length=64)
    baseline: BaselineRule | None = None
    repeats: PositiveInt = Field(default=1, le=100)
    concurrency: PositiveInt = Field(default=8, le=256)
    timeout_seconds: Number = Field(default=60.0, gt=0, le=3_600)
    cache: Flag = Field(default=False, description="Reuse cached model responses")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "suite")

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            # `name@x` must fail on `x`, not quietly follow the latest version.
            name, at, version = value.partition("@")
            number: Any = int(version) if version.isascii() and version.isdigit() else version
            return {"name": name, "version": number if at else None}
        return value

    @model_validator(mode="after")
    def _metrics_exist(self) -> SuiteSpec:
        names = [scorer.name for scorer in self.scorers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _field_error(
                    f"#/scorers/{i}/name", f"scorer names must be unique; repeated: {name}"
                )
        known = set(names) | BUILTIN_METRICS | {"*"}
        for i, gate in enumerate(self.gates):
            if gate.metric not in known:
                raise _field_error(
                    f"#/gates/{i}/metric",
                    f"{gate.metric!r} is not a scorer of this suite "
                    f"(known: {', '.join(sorted(known))})",
                )
        if self.baseline and self.baseline.metric not in known - {"*"}:
            raise _field_error(
                "#/baseline/metric", f"{self.baseline.metric!r} is not a scorer of this suite"
            )
        return self


class SuiteVersionRead(BaseModel):
    """A stored suite version with the dataset version and judge versions it pins."""

    name: str
    version: int
    content_hash: str = Field(description="Hash of the spec and the versions it pins")
    spec: SuiteSpec
    dataset_version: int | None = Field(
        description="The pinned dataset version (none: stored before suites pinned datasets)"
    )
    dataset_content_hash: str | None
    judges: dict[str, VersionRef] = Field(
        description="Judge prompt reference -> the version it was pinned to"
    )
    is_current: bool = Field(description="Whether this is the suite's current version")
    author: str
    created_at: datetime


class SuiteRead(BaseModel):
    """A suite with its newest and current versions."""

    name: str
    description: str
    latest_version: int
    current_version: int = Field(description="The version last pushed (runs use it by default)")
    created_at: datetime
    archived_at: datetime | None = Field(default=None, description="Set while archived")


# --- runs (what a run reports, clients parse: evals/reports.py) ----------------------------


class RunCreate(_Strict):
    """Start a run: a suite (name, optionally a version) on a prompt version or label."""

    suite: str = Field(max_length=200)
    suite_version: PositiveInt | None = None
    prompt: str = Field(max_length=200)
    version: PositiveInt | None = None
    label: str | None = None
    baseline_label: str | None = Field(
        default=None, description="Label whose version is the baseline; default: `label`"
    )
    concurrency: PositiveInt | None = Field(
        default=None, le=256, description="This run only: items in flight (default: the suite's)"
    )
    repeats: PositiveInt | None = Field(
        default=None,
        le=100,
        description="This run only: times each item runs (default: the suite's); a run with "
        "fewer repeats than its suite is not evidence for a promotion gate",
    )

    @model_validator(mode="after")
    def _one_target(self) -> RunCreate:
        if (self.version is None) == (self.label is None):
            raise ValueError("give exactly one of 'version' or 'label'")
        for value in (self.label, self.baseline_label):
            if value is not None and not LABEL_RE.fullmatch(value):
                raise ValueError(f"invalid label {value!r}")
        return self
