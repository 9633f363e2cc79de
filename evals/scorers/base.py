"""The scorer protocol, the score it returns, and the parameter base every scorer type shares."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from evals.errors import ScorerError
from promptlane_client.hashing import sha256_hex

# Pass thresholds when a suite does not set one: a binary scorer passes only on 1.0.
BINARY_THRESHOLD = 1.0
GRADED_THRESHOLD = 0.5
_FENCE_RE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one item: a value, why, and in what unit (None: [0, 1]).

    `cost_usd` is what scoring cost (a judge's or a ragas metric's model calls), when known.
    """

    value: float
    reason: str | None = None
    unit: str | None = None
    passed: bool | None = None
    cost_usd: float | None = None


class Scorer(Protocol):
    """What the runner calls: a named metric that scores one model output at a time."""

    @property
    def name(self) -> str:
        """Return the metric name from the suite."""
        ...

    @property
    def kind(self) -> str:
        """Return the scorer type (`exact_match`, `llm_judge`, ...)."""
        ...

    @property
    def version(self) -> str:
        """Return what the run manifest records: type, revision and a hash of the params."""
        ...

    @property
    def pass_threshold(self) -> float:
        """Return the value at or above which an item counts as passed."""
        ...

    async def score(
        self,
        *,
        output: str,
        expected: Any,
        input: Mapping[str, Any],
        contexts: Sequence[str],
        metadata: Mapping[str, Any],
    ) -> Score:
        """Score one output; raise ScorerError when it cannot be scored."""
        ...


def score_entry(score: Score, scorer: Scorer) -> dict[str, Any]:
    """Return how a score is stored (run items and generations alike): JSON, pass decided."""
    passed = score.value >= scorer.pass_threshold if score.passed is None else score.passed
    entry = {"value": score.value, "reason": score.reason, "unit": score.unit, "passed": passed}
    if score.cost_usd is not None:
        entry["cost_usd"] = score.cost_usd
    return entry


class ScorerParams(BaseModel):
    """Parameters every scorer type accepts; subclasses add their own (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_threshold: float | None = Field(
        default=None, ge=0, le=1, description="Value at or above which an item passes"
    )


class ContextParamError(Exception):
    """A parameter that validated alone but cannot work with this run's context.

    Internal: build_scorers turns it into InvalidSuiteError with the parameter's pointer.
    """

    def __init__(self, field: str | None, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


P = TypeVar("P", bound=ScorerParams)


class BaseScorer(Generic[P]):
    """Shared plumbing: name, kind, a version derived from the params, the pass threshold."""

    kind: ClassVar[str]
    description: ClassVar[str]
    params_model: ClassVar[type[ScorerParams]]
    revision: ClassVar[int] = 1
    default_threshold: ClassVar[float] = BINARY_THRESHOLD

    def __init__(self, name: str, params: P) -> None:
        """Bind a metric name to validated parameters."""
        self.name = name
        self.params = params
        self.version = f"{self.kind}/{self.revision}:{params_hash(params)}"
        threshold = params.pass_threshold
        self.pass_threshold = self.default_threshold if threshold is None else threshold

    async def score(
        self,
        *,
        output: str,
        expected: Any,
        input: Mapping[str, Any],
        contexts: Sequence[str],
        metadata: Mapping[str, Any],
    ) -> Score:
        """Score one output; raise ScorerError when it cannot be scored."""
        raise NotImplementedError


def params_hash(params: BaseModel) -> str:
    """Return a short, stable hash of a parameter model's values."""
    return sha256_hex(params.model_dump(mode="json"))[:12]


def as_text(value: Any) -> str:
    """Return `value` as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def binary(ok: bool, reason: str | None = None) -> Score:
    """Return 1.0 or 0.0 with a reason (reasons explain failures, so drop them on success)."""
    return Score(1.0 if ok else 0.0, None if ok else reason)


def strip_fences(text: str) -> str:
    """Return the body of a Markdown code fence wrapping the whole text, else the text."""
    found = _FENCE_RE.match(text)
    return found.group(1) if found else text


def clip(text: str, limit: int = 80) -> str:
    """Return `text` shortened to `limit` characters for a reason string."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def need_expected(expected: Any, kind: str) -> Any:
    """Return `expected`, or raise ScorerError when the item has none."""
    if expected is None:
        raise ScorerError(f"{kind} needs the item's `expected` value, and this item has none")
    return expected


def call_stats(metadata: Mapping[str, Any], key: str, kind: str) -> float:
    """Return one of the call's stats the runner put under metadata['promptlane']."""
    stats = metadata.get("promptlane")
    value = stats.get(key) if isinstance(stats, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScorerError(f"{kind} needs metadata.promptlane.{key}, which this call lacks")
    return float(value)
