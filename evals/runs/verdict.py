"""Gate verdicts: aggregate per-item results, check conditions, compare with a baseline.

The baseline comparison is noise-aware: a paired bootstrap over dataset items gives a
confidence interval of the score difference, and the verdict is `inconclusive` when the
interval straddles the allowed regression, so a gate never passes or fails on noise.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from evals.reports import (
    Aggregate,
    BaselineComparison,
    ConditionReport,
    MetricStats,
    RunGateReport,
    VariantSummary,
    Verdict,
)
from evals.schemas import BaselineRule, GateCondition, SuiteSpec

OPS: Final[Mapping[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
BOOTSTRAP_SEED: Final = 20261124  # fixed, so the same results always give the same verdict
# Indices drawn per bootstrap chunk: ~8 MB of int64 (and as much gathered), whatever the sizes.
BOOTSTRAP_CHUNK_INDICES: Final = 1_000_000


@dataclass(frozen=True)
class ItemResult:
    """What the gate needs of one run item."""

    position: int
    repeat: int
    is_error: bool
    metrics: Mapping[str, Mapping[str, Any]]  # metric -> {"value", "passed"} or {"error"}


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def aggregate(results: Sequence[ItemResult], metric: str, how: Aggregate) -> float | None:
    """Fold one metric over every item result; None when there is nothing to fold."""
    if not results:
        return None
    if how is Aggregate.ERROR_RATE:
        failed = sum(1 for r in results if r.is_error or "error" in r.metrics.get(metric, {}))
        return failed / len(results) if metric != "*" else _item_error_rate(results)
    if how is Aggregate.PASS_RATE:
        judged = [r.metrics.get(metric, {}).get("passed") for r in results]
        if all(flag is None for flag in judged):
            return None  # a raw measurement (latency, tokens) has no notion of passing
        return sum(1 for flag in judged if flag is True) / len(results)
    values = [
        float(r.metrics[metric]["value"])
        for r in results
        if metric in r.metrics and r.metrics[metric].get("value") is not None
    ]
    if not values:
        return None
    folds: Mapping[Aggregate, Callable[[Sequence[float]], float]] = {
        Aggregate.MEAN: lambda v: math.fsum(v) / len(v),
        Aggregate.MIN: min,
        Aggregate.MAX: max,
        Aggregate.SUM: math.fsum,
        Aggregate.P50: lambda v: _percentile(v, 50),
        Aggregate.P95: lambda v: _percentile(v, 95),
    }
    return folds[how](values)


def _item_error_rate(results: Sequence[ItemResult]) -> float:
    return sum(1 for r in results if r.is_error) / len(results)


def check_condition(results: Sequence[ItemResult], condition: GateCondition) -> ConditionReport:
    """Return one condition's report: its value, threshold and whether it holds."""
    value = aggregate(results, condition.metric, condition.aggregate)
    return ConditionReport(
        metric=condition.metric,
        aggregate=condition.aggregate,
        op=condition.op,
        threshold=condition.value,
        value=value,
        passed=value is not None and OPS[condition.op](value, condition.value),
        detail=(
            "no values: every item errored or the metric was never scored"
            if value is None
            else None
        ),
    )


def _stats(results: Sequence[ItemResult], metric: str) -> MetricStats:
    return MetricStats(
        mean=aggregate(results, metric, Aggregate.MEAN),
        p50=aggregate(results, metric, Aggregate.P50),
        p95=aggregate(results, metric, Aggregate.P95),
        pass_rate=aggregate(results, metric, Aggregate.PASS_RATE),
        error_rate=aggregate(results, metric, Aggregate.ERROR_RATE),
    )


def summarize(results: Sequence[ItemResult], metrics: Sequence[str]) -> VariantSummary:
    """Return per-metric mean, percentiles, pass rate and error rate, plus item totals."""
    return VariantSummary(
        items=len(results),
        errors=sum(1 for r in results if r.is_error),
        metrics={metric: _stats(results, metric) for metric in metrics},
    )


def _by_position(results: Sequence[ItemResult], metric: str) -> dict[int, list[float]]:
    by_position: dict[int, list[float]] = defaultdict(list)
    for r in results:
        value = r.metrics.get(metric, {}).get("value")
        # An errored item scores the worst possible 0 here: errors are regressions too.
        by_position[r.position].append(0.0 if r.is_error or value is None else float(value))
    return by_position


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _advice(
    cand: Mapping[int, list[float]], base: Mapping[int, list[float]], shared: Sequence[int]
) -> str:
    """Say what would narrow the interval: more items, or more repeats.

    The variance of the mean difference is (between-item variance + within-item variance /
    repeats) / items: repeats shrink only the part that comes from answers varying per call.
    """
    repeats = min(min(len(cand[p]), len(base[p])) for p in shared)
    if repeats < 2:
        return (
            "each item ran once, so how much answers vary between calls is unknown: add dataset "
            "items (more repeats help only if the model answers the same item differently)"
        )
    within = _mean([float(np.var(cand[p]) + np.var(base[p])) for p in shared])
    if within == 0:
        return (
            f"the answers did not vary over {repeats} repeats, so more repeats cannot narrow "
            "it: add dataset items"
        )
    diffs = [_mean(cand[p]) - _mean(base[p]) for p in shared]
    between = max(float(np.var(diffs)) - within / repeats, 0.0)
    if within / repeats > between:
        return "answers vary between calls more than items differ: more repeats narrow it most"
    return "items differ more than answers vary between calls: more dataset items narrow it most"


def bootstrap_means(
    diffs: np.ndarray[Any, np.dtype[np.float64]],
    resamples: int,
    *,
    budget: int = BOOTSTRAP_CHUNK_INDICES,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Return the means of `resamples` resamples (with replacement) of `diffs`, seeded.

    Resamples are drawn `budget // len(diffs)` at a time: the numbers are those of drawing the
    whole `resamples x items` index matrix at once (the generator draws sequentially, and each
    row's mean is its own), but memory stays O(budget) instead of GBs at the allowed maxima.
    """
    n = len(diffs)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    rows = max(1, budget // n)
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        means[start : start + count] = diffs[rng.integers(0, n, size=(count, n))].mean(axis=1)
    return means


def compare_baseline(
    candidate: Sequence[ItemResult], baseline: Sequence[ItemResult], rule: BaselineRule
) -> BaselineComparison:
    """Compare candidate and baseline item by item with a paired bootstrap interval.

    CPU-bound at large sizes (resamples x items draws): call it off the event loop.
    """
    cand_values = _by_position(candidate, rule.metric)
    base_values = _by_position(baseline, rule.metric)
    cand = {p: _mean(v) for p, v in cand_values.items()}
    base = {p: _mean(v) for p, v in base_values.items()}
    shared = sorted(set(cand) & set(base))
    report = BaselineComparison(
        metric=rule.metric,
        max_regression=rule.max_regression,
        confidence=rule.confidence,
        items=len(shared),
        outcome=Verdict.INCONCLUSIVE,
        detail="no shared items",
    )
    if not shared:
        return report
    sign = 1.0 if rule.higher_is_better else -1.0
    diffs = np.asarray([sign * (cand[p] - base[p]) for p in shared], dtype=float)
    means = bootstrap_means(diffs, rule.resamples)
    alpha = (1 - rule.confidence) / 2
    low, high = (float(x) for x in np.quantile(means, [alpha, 1 - alpha]))
    report.candidate_mean = math.fsum(cand[p] for p in shared) / len(shared)
    report.baseline_mean = math.fsum(base[p] for p in shared) / len(shared)
    report.difference = float(diffs.mean())
    report.interval = (low, high)
    report.repeats = max(max(len(cand_values[p]), len(base_values[p])) for p in shared)
    floor = -rule.max_regression
    if low >= floor - 1e-12:
        report.outcome, report.detail = Verdict.PASSED, "no regression beyond the limit"
    elif high < floor:
        report.outcome, report.detail = Verdict.FAILED, "regressed beyond the limit"
    else:
        report.detail = f"the interval straddles the allowed regression ({floor:g}); " + _advice(
            cand_values, base_values, shared
        )
    return report


def verdict(
    spec: SuiteSpec,
    candidate: Sequence[ItemResult],
    baseline: Sequence[ItemResult] | None,
) -> RunGateReport:
    """Return the gate report of a finished run, its overall verdict included."""
    conditions = [check_condition(candidate, c) for c in spec.gates]
    outcome = Verdict.FAILED if any(not c.passed for c in conditions) else Verdict.PASSED
    compared = None
    if spec.baseline is not None and baseline is not None:
        compared = compare_baseline(candidate, baseline, spec.baseline)
        if compared.outcome is Verdict.FAILED:
            outcome = Verdict.FAILED
        elif compared.outcome is Verdict.INCONCLUSIVE and outcome is Verdict.PASSED:
            outcome = Verdict.INCONCLUSIVE
    return RunGateReport(conditions=conditions, baseline=compared, verdict=outcome)
