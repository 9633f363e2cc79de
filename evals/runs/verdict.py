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

from evals.schemas import Aggregate, BaselineRule, GateCondition, SuiteSpec, Verdict

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


def check_condition(results: Sequence[ItemResult], condition: GateCondition) -> dict[str, Any]:
    """Return one condition's report: its value, threshold and whether it holds."""
    value = aggregate(results, condition.metric, condition.aggregate)
    passed = value is not None and OPS[condition.op](value, condition.value)
    report: dict[str, Any] = {
        "metric": condition.metric,
        "aggregate": condition.aggregate.value,
        "op": condition.op,
        "threshold": condition.value,
        "value": value,
        "passed": passed,
    }
    if value is None:
        report["detail"] = "no values: every item errored or the metric was never scored"
    return report


def summarize(results: Sequence[ItemResult], metrics: Sequence[str]) -> dict[str, Any]:
    """Return per-metric mean, pass rate and error rate, plus item totals."""
    out: dict[str, Any] = {
        "items": len(results),
        "errors": sum(1 for r in results if r.is_error),
        "metrics": {},
    }
    for metric in metrics:
        out["metrics"][metric] = {
            "mean": aggregate(results, metric, Aggregate.MEAN),
            "p50": aggregate(results, metric, Aggregate.P50),
            "p95": aggregate(results, metric, Aggregate.P95),
            "pass_rate": aggregate(results, metric, Aggregate.PASS_RATE),
            "error_rate": aggregate(results, metric, Aggregate.ERROR_RATE),
        }
    return out


def _per_position(results: Sequence[ItemResult], metric: str) -> dict[int, float]:
    by_position: dict[int, list[float]] = defaultdict(list)
    for r in results:
        value = r.metrics.get(metric, {}).get("value")
        # An errored item scores the worst possible 0 here: errors are regressions too.
        by_position[r.position].append(0.0 if r.is_error or value is None else float(value))
    return {pos: math.fsum(v) / len(v) for pos, v in by_position.items()}


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
) -> dict[str, Any]:
    """Compare candidate and baseline item by item with a paired bootstrap interval.

    CPU-bound at large sizes (resamples x items draws): call it off the event loop.
    """
    cand = _per_position(candidate, rule.metric)
    base = _per_position(baseline, rule.metric)
    shared = sorted(set(cand) & set(base))
    report: dict[str, Any] = {
        "metric": rule.metric,
        "max_regression": rule.max_regression,
        "confidence": rule.confidence,
        "items": len(shared),
    }
    if not shared:
        return {**report, "outcome": Verdict.INCONCLUSIVE.value, "detail": "no shared items"}
    sign = 1.0 if rule.higher_is_better else -1.0
    diffs = np.asarray([sign * (cand[p] - base[p]) for p in shared], dtype=float)
    means = bootstrap_means(diffs, rule.resamples)
    alpha = (1 - rule.confidence) / 2
    low, high = (float(x) for x in np.quantile(means, [alpha, 1 - alpha]))
    report.update(
        candidate_mean=math.fsum(cand[p] for p in shared) / len(shared),
        baseline_mean=math.fsum(base[p] for p in shared) / len(shared),
        difference=float(diffs.mean()),
        interval=[low, high],
    )
    floor = -rule.max_regression
    if low >= floor - 1e-12:
        return {
            **report,
            "outcome": Verdict.PASSED.value,
            "detail": "no regression beyond the limit",
        }
    if high < floor:
        return {**report, "outcome": Verdict.FAILED.value, "detail": "regressed beyond the limit"}
    return {
        **report,
        "outcome": Verdict.INCONCLUSIVE.value,
        "detail": "inconclusive — the interval straddles the limit: run more repeats",
    }


def verdict(
    spec: SuiteSpec,
    candidate: Sequence[ItemResult],
    baseline: Sequence[ItemResult] | None,
) -> tuple[Verdict, dict[str, Any]]:
    """Return the overall verdict and the gate report for a finished run."""
    conditions = [check_condition(candidate, c) for c in spec.gates]
    report: dict[str, Any] = {"conditions": conditions, "baseline": None}
    outcome = Verdict.PASSED
    if any(not c["passed"] for c in conditions):
        outcome = Verdict.FAILED
    if spec.baseline is not None and baseline is not None:
        compared = compare_baseline(candidate, baseline, spec.baseline)
        report["baseline"] = compared
        if compared["outcome"] == Verdict.FAILED.value:
            outcome = Verdict.FAILED
        elif compared["outcome"] == Verdict.INCONCLUSIVE.value and outcome is Verdict.PASSED:
            outcome = Verdict.INCONCLUSIVE
    report["verdict"] = outcome.value
    return outcome, report
