"""From stored item results to scores, summaries and the verdict of a run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.errors import ModelCallError, RunStoppedError, ScorerError
from evals.llm.client import Completion
from evals.llm.failures import is_configuration_error
from evals.models import DatasetItem, RunItem
from evals.reports import RunGateReport, RunSummary
from evals.runs import verdict as gates
from evals.schemas import BUILTIN_METRICS, SuiteSpec
from evals.scorers.base import Scorer, score_entry
from evals.scorers.safety.canary import CANARY_KEY

CANDIDATE, BASELINE = "candidate", "baseline"


async def score_item(
    scorers: Sequence[Scorer],
    completion: Completion,
    item: DatasetItem,
    stats: dict[str, Any],
    *,
    canary: str | None = None,
) -> dict[str, Any]:
    """Run every scorer on one answer; a scorer's failure is recorded, not raised.

    `canary` is the token the run inserted into the item's system prompt, if it did.

    A judge model that cannot be called as configured raises RunStoppedError instead: every
    item's scorer would fail alike.
    """
    own = {**stats, "model": completion.model}
    if canary is not None:
        own[CANARY_KEY] = canary
    metadata = {**item.item_metadata, "promptlane": own}
    out: dict[str, Any] = {}
    for scorer in scorers:
        try:
            score = await scorer.score(
                output=completion.text,
                expected=item.expected,
                input=item.input,
                contexts=item.contexts,
                metadata=metadata,
            )
        except ScorerError as exc:
            cause = exc.__cause__
            if isinstance(cause, ModelCallError) and is_configuration_error(cause):
                raise RunStoppedError(f"scorer {scorer.name}: {cause.detail}") from cause
            out[scorer.name] = {"error": exc.detail}
            continue
        out[scorer.name] = score_entry(score, scorer)
    return out


def item_results(
    rows: Sequence[RunItem], variant: str, scorer_names: Sequence[str]
) -> list[gates.ItemResult]:
    """Turn stored rows of one variant into what the gate aggregates."""
    results = []
    for row in rows:
        if row.variant != variant:
            continue
        metrics: dict[str, dict[str, Any]] = dict(row.scores)
        if row.status != "ok":
            # An item that produced no answer scores the worst on every scorer: a model that
            # fails 20% of calls must not pass a quality gate on the other 80%.
            metrics = {name: {"value": 0.0, "passed": False} for name in scorer_names}
        for name in BUILTIN_METRICS:
            value = getattr(row, name)
            if value is not None:
                metrics[name] = {"value": value}
        results.append(gates.ItemResult(row.position, row.repeat, row.status != "ok", metrics))
    return results


def run_verdict(
    spec: SuiteSpec, rows: Sequence[RunItem], *, has_baseline: bool
) -> tuple[RunSummary, RunGateReport]:
    """Return the summary and the gate report (its verdict included) of a finished run."""
    names = [s.name for s in spec.scorers]
    candidate = item_results(rows, CANDIDATE, names)
    baseline = item_results(rows, BASELINE, names) if has_baseline else None
    metrics = [*names, *sorted(BUILTIN_METRICS)]
    own = [r for r in rows if r.variant == CANDIDATE]
    totals = gates.summarize(candidate, metrics)
    summary = RunSummary(
        items=totals.items,
        errors=totals.errors,
        metrics=totals.metrics,
        cost_usd=sum(r.cost_usd or 0.0 for r in own),
        scoring_cost_usd=scoring_cost(own),
        input_tokens=sum(r.input_tokens or 0 for r in own),
        output_tokens=sum(r.output_tokens or 0 for r in own),
        cached=sum(1 for r in own if r.is_cached),
        baseline=gates.summarize(baseline, metrics) if baseline is not None else None,
    )
    return summary, gates.verdict(spec, candidate, baseline)


def scoring_cost(rows: Sequence[RunItem]) -> float:
    """Return what scoring `rows` cost in USD (judge and ragas calls; not the model calls)."""
    return sum(
        entry.get("cost_usd") or 0.0
        for row in rows
        for entry in row.scores.values()
        if isinstance(entry, dict)
    )
