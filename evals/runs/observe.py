"""Spans and metrics of eval runs: one span per run, one per item, scores on the item span."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span, StatusCode

from evals.scorers.base import Scorer
from evals.scorers.safety import SAFETY_KINDS
from tracing import semconv
from tracing.telemetry import PromptRef, Telemetry, trace_id_of


@contextmanager
def run_span(telemetry: Telemetry, run_id: int) -> Iterator[Span]:
    """Open the span of one run's execution (a resumed run gets a new one)."""
    with telemetry.span(semconv.SPAN_RUN, {semconv.RUN_ID: run_id}) as span:
        yield span


@contextmanager
def item_span(
    telemetry: Telemetry, prompt: PromptRef, *, variant: str, position: int, repeat: int
) -> Iterator[Span]:
    """Open the span of one item: its model call and scorers are its children."""
    attributes = prompt.attributes()
    attributes.update(
        {
            semconv.RUN_VARIANT: variant,
            semconv.ITEM_POSITION: position,
            semconv.ITEM_REPEAT: repeat,
        }
    )
    with telemetry.span(semconv.SPAN_ITEM, attributes) as span:
        yield span


def finish_item(
    telemetry: Telemetry,
    span: Span,
    row: dict[str, Any],
    prompt: PromptRef,
    *,
    model: str,
    scorers: Sequence[Scorer],
) -> list[str]:
    """Close out an item: its trace id on the row, outcome and scores on the span; flags out."""
    row["trace_id"] = trace_id_of(span)
    span.set_attribute(semconv.CACHED, bool(row["is_cached"]))
    if row["status"] != "ok":
        span.set_status(StatusCode.ERROR, str(row["error"]))
    scores = row["scores"]
    return record_scores(
        telemetry, span, prompt=prompt, model=model, scorers=scorers, scores=scores
    )


def record_scores(
    telemetry: Telemetry,
    span: Span,
    *,
    prompt: PromptRef,
    model: str,
    scorers: Sequence[Scorer],
    scores: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Put each score on the item span and in the metrics; return the safety flags raised."""
    metrics = telemetry.metrics
    labels = metrics.prompt_labels(model, prompt.name, prompt.version, prompt.label)
    flags: list[str] = []
    for scorer in scorers:
        result = scores.get(scorer.name) or {}
        value = result.get("value")
        if not isinstance(value, int | float):
            continue
        span.set_attribute(semconv.score_attribute(scorer.name), float(value))
        span.add_event(
            semconv.SCORE_EVENT,
            {
                semconv.SCORER_NAME: scorer.name,
                semconv.SCORER_KIND: scorer.kind,
                "value": float(value),
                "passed": bool(result.get("passed")),
            },
        )
        if result.get("unit") is None:  # only [0, 1] scores share the histogram's buckets
            metrics.record_score(labels, scorer.name, float(value))
        if scorer.kind in SAFETY_KINDS and result.get("passed") is False:
            flags.append(scorer.kind)
            metrics.record_flag(labels, scorer.kind)
    if flags:
        span.set_attribute(semconv.SAFETY_FLAGS, flags)
    return flags
