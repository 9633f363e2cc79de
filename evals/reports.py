"""What a run reports, as clients and CI parse it: status, summary, gate report, scores, deltas.

Pydantic only, so the CLI validates the server's answers into these without the server stack.
The runner builds the summary and gate report as these models and stores their JSON
(`runs.summary`, `runs.gate`); reading a stored row goes back through them. Rows stored by
older versions read too: unknown keys are ignored and members added since have defaults.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RunStatus(StrEnum):
    """Lifecycle of a run."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # the run itself broke (not the gate): see `error`
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    """The gate's overall answer."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


class Aggregate(StrEnum):
    """How a gate condition folds per-item values into one number."""

    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    P50 = "p50"
    P95 = "p95"
    SUM = "sum"
    PASS_RATE = "pass_rate"  # noqa: S105  (an aggregate name, not a password)
    ERROR_RATE = "error_rate"


Op = Literal[">=", ">", "<=", "<", "==", "!="]


class _Stored(BaseModel):
    """A report stored as JSON: what older versions stored besides these members is ignored."""

    model_config = ConfigDict(extra="ignore")


# --- scores -------------------------------------------------------------------------------


class ScoreEntry(_Stored):
    """One scorer's score of one item: its value, whether it passed, and why."""

    value: float
    reason: str | None = None
    unit: str | None = Field(default=None, description="Unit of a raw value (none: in [0, 1])")
    passed: bool | None = None
    cost_usd: float | None = Field(
        default=None, description="What scoring cost (judge and ragas calls), when known"
    )


class ScoreFailure(_Stored):
    """A scorer that could not score the item, and why."""

    error: str


ItemScore = ScoreEntry | ScoreFailure


# --- the gate report ----------------------------------------------------------------------


class ConditionReport(_Stored):
    """One gate condition checked: aggregate(metric) op threshold, its value and outcome."""

    metric: str
    aggregate: Aggregate
    op: Op
    threshold: float
    value: float | None = Field(description="None: nothing to aggregate")
    passed: bool
    detail: str | None = None


class BaselineComparison(_Stored):
    """The candidate against the baseline, item by item, with a paired bootstrap interval."""

    metric: str
    max_regression: float
    confidence: float
    items: int = Field(description="Dataset items both variants have")
    candidate_mean: float | None = None
    baseline_mean: float | None = None
    difference: float | None = Field(
        default=None, description="Mean of candidate minus baseline (negated: lower is better)"
    )
    interval: tuple[float, float] | None = Field(
        default=None, description="Confidence interval of the difference: [low, high]"
    )
    repeats: int | None = Field(
        default=None, description="Most results an item has per variant (absent: older runs)"
    )
    outcome: Verdict
    detail: str


class RunGateReport(_Stored):
    """A finished run's gate: every condition, the baseline comparison, and the verdict."""

    conditions: list[ConditionReport]
    baseline: BaselineComparison | None = None
    verdict: Verdict


# --- the summary --------------------------------------------------------------------------


class MetricStats(_Stored):
    """One metric over a variant's items (None: no values)."""

    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    pass_rate: float | None = None
    error_rate: float | None = None


class VariantSummary(_Stored):
    """Item totals and per-metric statistics of one variant of a run."""

    items: int
    errors: int
    metrics: dict[str, MetricStats]


class RunSummary(VariantSummary):
    """The candidate's totals and statistics, what the run cost, and the baseline's summary."""

    cost_usd: float = Field(description="The model calls' cost")
    scoring_cost_usd: float | None = Field(
        default=None, description="Judge and ragas calls (none: stored before it was recorded)"
    )
    input_tokens: int
    output_tokens: int
    cached: int = Field(description="Items answered from the response cache")
    baseline: VariantSummary | None = None


# --- the manifest -------------------------------------------------------------------------


class VersionRef(_Stored):
    """A versioned thing a run used, by name, version and content hash."""

    name: str
    version: int
    content_hash: str


class ScorerRef(_Stored):
    """A scorer a run used: its metric name, type and a hash of its parameters."""

    name: str
    type: str
    params_hash: str


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class RunOverrides(_Stored):
    """What one run changed of its suite's settings (`eval run --concurrency/--repeats`)."""

    concurrency: int | None = None
    repeats: int | None = None
    suite_repeats: int = Field(description="The suite's own repeats, for comparison")

    @property
    def fewer_repeats(self) -> bool:
        """Say whether the run measured less than its suite asks (then it is no gate evidence)."""
        return self.repeats is not None and self.repeats < self.suite_repeats


class RunCanary(_Stored):
    """How a run derives each item's canary (evals/runs/canary.py), to reproduce it.

    HMAC-SHA256 keyed by `secret` (hex) over `variant/position/repeat`, in base32, lowercased,
    the first 20 letters in groups of five.
    """

    scheme: str = Field(description="Derivation scheme (hmac-sha256/v1)")
    secret: str = Field(description="The run's random key (hex); never shown to the model")


class RunManifest(_Stored):
    """The hashes of everything that decides a run's verdict (its `manifest_hash` covers it)."""

    prompt: VersionRef
    baseline: VersionRef | None
    suite: VersionRef
    dataset: VersionRef
    scorers: list[ScorerRef]
    judges: dict[str, VersionRef] = Field(description="Judge prompt reference -> pinned version")
    overrides: RunOverrides | None = Field(
        default=None, description="Suite settings this run overrode (absent: none)"
    )
    repeats: int | None = Field(
        default=None, description="Times each item ran per variant (absent: an older run)"
    )
    canary: RunCanary | None = Field(
        default=None, description="Canaries inserted into system prompts (absent: none)"
    )

    def counts(self, total: int) -> str:
        """Say in words what a run's `total` counts: items x repeats x variants."""
        variants = 2 if self.baseline is not None else 1
        if not self.repeats or total % (self.repeats * variants):
            return f"{total} results"
        items = total // (self.repeats * variants)
        words = [_count(items, "dataset item"), _count(self.repeats, "repeat")]
        if variants == 2:
            words.append("2 variants (candidate and baseline)")
        return f"{total} results: " + " × ".join(words)


# --- runs ---------------------------------------------------------------------------------


class RunRead(BaseModel):
    """A run: what ran, how far it got, its summary, verdict and manifest."""

    id: int
    suite: str
    suite_version: int
    prompt: str
    version: int
    content_hash: str
    label: str | None
    baseline_version: int | None
    dataset: str
    dataset_version: int
    status: RunStatus
    verdict: Verdict | None
    total: int
    completed: int
    errors: int
    summary: RunSummary | None = Field(description="None until the run completes")
    gate: RunGateReport | None = Field(description="None until the run completes")
    manifest: RunManifest
    manifest_hash: str
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @field_validator("summary", "gate", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # Servers before these reports were typed answered `{}` for a run without a verdict.
        return value or None


class RunProgress(BaseModel):
    """A `progress` event of a run's event stream."""

    id: int
    status: RunStatus
    completed: int
    total: int
    errors: int


class RunItemRead(BaseModel):
    """One item result."""

    variant: str
    position: int
    repeat: int
    item_id: str | None = Field(
        default=None, description="The dataset item's `metadata.id`, when it has one"
    )
    status: str
    input: dict[str, Any] | None = None
    expected: Any = None
    output: str | None
    error: str | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    is_cached: bool
    scores: dict[str, ItemScore] = Field(description="Metric -> its score or why there is none")

    def failed_scores(self) -> dict[str, ItemScore]:
        """Return the scores that did not pass or could not be computed."""
        return {
            name: score
            for name, score in self.scores.items()
            if isinstance(score, ScoreFailure) or score.passed is False
        }

    def label(self) -> str:
        """Return how reports name the item: its `metadata.id`, else its position."""
        return self.item_id or f"item {self.position}"


# --- comparison ---------------------------------------------------------------------------


class MetricDelta(BaseModel):
    """One metric in two runs, and b minus a (None when either is missing)."""

    a: float | None
    b: float | None
    delta: float | None


class ItemSide(BaseModel):
    """One item's result in one of the two runs: its first repeat's answer and scores."""

    status: str = Field(description="`ok`, else the status of the first repeat that was not")
    passed: bool = Field(description="Every repeat answered and no score failed or errored")
    repeats: int
    output: str | None
    error: str | None
    scores: dict[str, ItemScore] = Field(description="The first repeat's scores")


class ItemDelta(BaseModel):
    """One dataset item in two runs: its mean scores, and both results (on a page of items)."""

    position: int
    item_id: str | None = Field(
        default=None, description="The dataset item's `metadata.id`, when it has one"
    )
    metrics: dict[str, MetricDelta]
    input: dict[str, Any] | None = Field(default=None, description="As run b's dataset has it")
    expected: Any = None
    a: ItemSide | None = Field(default=None, description="None: no result in run a")
    b: ItemSide | None = Field(default=None, description="None: no result in run b")
    pass_changed: bool = Field(default=False, description="Passed in one run, failed in the other")

    def label(self) -> str:
        """Return how reports name the item: its `metadata.id`, else its position."""
        return self.item_id or f"item {self.position}"


class RunComparison(BaseModel):
    """Two runs side by side: per-metric means and per-item deltas (b minus a)."""

    a: RunRead
    b: RunRead
    same_dataset: bool
    metrics: dict[str, MetricDelta]
    items: list[ItemDelta] = Field(description="The items asked for (`changed`, `limit`, `offset`)")
    changed_items: int = Field(
        description="Items whose scores changed (a delta, or a score in one run only) or that "
        "passed in one run and failed in the other"
    )
    compared_items: int = Field(default=0, description="Items with a result in either run")
    item_total: int = Field(default=0, description="Items that match the filter, before paging")
    offset: int = 0
    limit: int | None = Field(default=None, description="None: every item that matches")
