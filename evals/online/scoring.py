"""Scoring one production generation: which scorers apply, their scores, its safety flags.

A generation carries what an eval item would: the answer (`output_text`, when the application
recorded content), the input messages, an optional expected value (attribute
`promptlane.expected`) and the call's stats. Scorers that need what the generation lacks are
left out and say so in the reason; a generation nothing can score has failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.trace import Span

from evals.errors import ScorerError
from evals.schemas import ScorerSpec
from evals.scorers.base import Scorer, score_entry
from evals.scorers.registry import needs_expected, needs_output
from evals.scorers.safety import SAFETY_KINDS
from tracing import semconv
from tracing.metrics import Metrics
from tracing.models import Generation

log = logging.getLogger("promptlane.online")

SCORED: Final = "scored"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"
PENDING: Final = "pending"
_REASON_MAX: Final = 500


@dataclass
class Outcome:
    """What scoring one generation produced: its status, scores, flags and why."""

    status: str
    scores: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        """Return the reasons as one line, or None when there are none."""
        text = "; ".join(self.reasons)
        return (text[: _REASON_MAX - 1] + "…" if len(text) > _REASON_MAX else text) or None


def applicable(
    specs: Sequence[ScorerSpec], scorers: Sequence[Scorer], row: Generation
) -> tuple[list[tuple[ScorerSpec, Scorer]], list[str]]:
    """Return the scorers that can score this generation, and why the others cannot."""
    has_output = row.output_text is not None
    has_expected = (row.attributes or {}).get(semconv.EXPECTED) is not None
    kept: list[tuple[ScorerSpec, Scorer]] = []
    left_out: list[str] = []
    for spec, scorer in zip(specs, scorers, strict=True):
        if needs_output(spec) and not has_output:
            left_out.append(f"{spec.name}: no output text recorded")
        elif needs_expected(spec) and not has_expected:
            left_out.append(f"{spec.name}: no {semconv.EXPECTED} attribute")
        else:
            kept.append((spec, scorer))
    return kept, left_out


def _stats(row: Generation) -> dict[str, Any]:
    stats = {
        "latency_ms": row.duration_ms,
        "cost_usd": row.cost_usd,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "model": row.response_model or row.request_model,
    }
    return {"promptlane": {k: v for k, v in stats.items() if v is not None}}


async def _score_one(scorer: Scorer, row: Generation) -> dict[str, Any]:
    """Score with one scorer; a failure is recorded, never raised."""
    try:
        score = await scorer.score(
            output=row.output_text or "",
            expected=(row.attributes or {}).get(semconv.EXPECTED),
            input={"messages": row.input_messages} if row.input_messages else {},
            contexts=(),
            metadata=_stats(row),
        )
    except ScorerError as exc:
        return {"error": exc.detail}
    except Exception as exc:  # a scorer's bug must not stop the others
        log.exception("scorer %s failed on generation %s", scorer.name, row.id)
        return {"error": f"{type(exc).__name__}: {exc}"[:_REASON_MAX]}
    return score_entry(score, scorer)


async def score_generation(
    row: Generation, specs: Sequence[ScorerSpec], scorers: Sequence[Scorer]
) -> Outcome:
    """Run every applicable scorer on a generation and decide its status."""
    kept, left_out = applicable(specs, scorers, row)
    outcome = Outcome(FAILED, reasons=left_out)
    for spec, scorer in kept:
        result = await _score_one(scorer, row)
        outcome.scores[spec.name] = result
        if "error" in result:
            outcome.reasons.append(f"{spec.name}: {result['error']}")
        elif scorer.kind in SAFETY_KINDS and result["passed"] is False:
            outcome.flags.append(scorer.kind)
    if any("value" in result for result in outcome.scores.values()):
        outcome.status = SCORED
    elif not kept:
        outcome.reasons.insert(0, "no configured scorer can score this generation")
    return outcome


def record(metrics: Metrics, span: Span, row: Generation, outcome: Outcome) -> None:
    """Put an outcome's scores and flags in the metrics and on the scoring span."""
    model = row.request_model or row.response_model or ""
    labels = metrics.prompt_labels(model, row.prompt_name, row.prompt_version, row.prompt_label)
    for name, result in outcome.scores.items():
        value = result.get("value")
        if not isinstance(value, int | float):
            continue
        span.set_attribute(semconv.score_attribute(name), float(value))
        if result.get("unit") is None:  # only [0, 1] scores share the histogram's buckets
            metrics.record_score(labels, name, float(value))
    for flag in outcome.flags:
        metrics.record_flag(labels, flag)
    if outcome.flags:
        span.set_attribute(semconv.SAFETY_FLAGS, outcome.flags)
