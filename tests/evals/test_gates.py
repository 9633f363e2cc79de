"""Gate conditions, aggregates and the noise-aware baseline comparison."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from evals.reports import Aggregate, Verdict
from evals.runs.verdict import (
    BOOTSTRAP_CHUNK_INDICES,
    BOOTSTRAP_SEED,
    ItemResult,
    aggregate,
    bootstrap_means,
    check_condition,
    compare_baseline,
    verdict,
)
from evals.schemas import BaselineRule, GateCondition, SuiteSpec


def results(values: list[float | None], *, repeats: int = 1) -> list[ItemResult]:
    """One result per value (None = errored item), `repeats` copies per position."""
    out = []
    for position, value in enumerate(values):
        for repeat in range(repeats):
            metrics: dict[str, Any] = {}
            if value is not None:
                metrics["m"] = {"value": value, "passed": value >= 0.5}
            out.append(ItemResult(position, repeat, value is None, metrics))
    return out


def spec(**overrides: Any) -> SuiteSpec:
    raw: dict[str, Any] = {
        "name": "s",
        "dataset": "d",
        "scorers": [{"name": "m", "type": "exact_match"}],
        "gates": [{"metric": "m", "aggregate": "mean", "op": ">=", "value": 0.5}],
    }
    raw.update(overrides)
    return SuiteSpec.model_validate(raw)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (Aggregate.MEAN, 0.5),
        (Aggregate.MIN, 0.0),
        (Aggregate.MAX, 1.0),
        (Aggregate.SUM, 1.5),
        (Aggregate.P50, 0.5),
        (Aggregate.PASS_RATE, 0.5),  # 2 of 4 items passed; the errored one counts as not passed
        (Aggregate.ERROR_RATE, 0.25),
    ],
)
def test_aggregates(how: Aggregate, expected: float) -> None:
    assert aggregate(results([0.0, 1.0, 0.5, None]), "m", how) == pytest.approx(expected)


def test_p95_and_item_error_rate() -> None:
    values = [float(i) for i in range(100)]
    assert aggregate(results(values), "m", Aggregate.P95) == pytest.approx(94.05)
    assert aggregate(results([1.0, None]), "*", Aggregate.ERROR_RATE) == 0.5


def test_condition_without_values_fails_with_a_reason() -> None:
    report = check_condition(results([None, None]), GateCondition(metric="m", value=0.1))
    assert report.passed is False
    assert report.value is None
    assert "no values" in (report.detail or "")


@pytest.mark.parametrize(
    ("op", "holds"),
    [(">=", True), (">", False), ("<=", True), ("<", False), ("==", True), ("!=", False)],
)
def test_operators(op: str, holds: bool) -> None:
    condition = GateCondition.model_validate({"metric": "m", "op": op, "value": 0.5})
    assert check_condition(results([0.5]), condition).passed is holds


def test_verdict_passes_and_fails_on_conditions() -> None:
    assert verdict(spec(), results([1.0, 1.0]), None).verdict is Verdict.PASSED
    report = verdict(spec(), results([0.0, 0.2]), None)
    assert report.verdict is Verdict.FAILED
    assert report.conditions[0].value == pytest.approx(0.1)
    assert report.baseline is None


RULE = BaselineRule(metric="m", max_regression=0.05)


def test_clear_regression_fails() -> None:
    report = compare_baseline(results([0.0] * 30), results([1.0] * 30), RULE)
    assert report.outcome is Verdict.FAILED
    assert report.difference == pytest.approx(-1.0)


def test_no_regression_passes() -> None:
    report = compare_baseline(results([1.0] * 30), results([1.0] * 30), RULE)
    assert report.outcome is Verdict.PASSED
    assert report.interval == (pytest.approx(0.0), pytest.approx(0.0))


def test_noise_is_inconclusive() -> None:
    # Candidate and baseline disagree on a few items in both directions: the mean difference
    # is small and its interval straddles the allowed regression.
    candidate = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    baseline = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    report = compare_baseline(results(candidate), results(baseline), RULE)
    assert report.outcome is Verdict.INCONCLUSIVE
    assert not report.detail.startswith("inconclusive")  # printed after the outcome
    assert "each item ran once" in report.detail
    assert "add dataset items" in report.detail
    assert report.repeats == 1
    assert report.interval is not None
    low, high = report.interval
    assert low < -RULE.max_regression < high


def test_deterministic_answers_say_that_only_items_narrow_the_interval() -> None:
    # The same answers on every repeat: ten repeats narrow nothing (issue 17, item 6).
    candidate = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    baseline = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    once = compare_baseline(results(candidate), results(baseline), RULE)
    ten = compare_baseline(results(candidate, repeats=10), results(baseline, repeats=10), RULE)
    assert ten.interval == once.interval
    assert ten.repeats == 10
    assert "did not vary over 10 repeats" in ten.detail
    assert "add dataset items" in ten.detail


def _varying(position_scores: list[list[float]]) -> list[ItemResult]:
    return [
        ItemResult(position, repeat, False, {"m": {"value": v, "passed": v >= 0.5}})
        for position, scores in enumerate(position_scores)
        for repeat, v in enumerate(scores)
    ]


def test_noisy_answers_say_that_repeats_narrow_it_most() -> None:
    # Every item scores 1 or 0 at random-looking repeats, alike for both variants: the noise is
    # within items, so repeats are what help.
    noisy = [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]] * 3
    shifted = [[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]] * 3
    report = compare_baseline(_varying(noisy), _varying(shifted), RULE)
    assert report.outcome is Verdict.INCONCLUSIVE
    assert "more repeats narrow it most" in report.detail


def test_baseline_is_deterministic_and_lower_is_better_flips_the_sign() -> None:
    a, b = results([0.2, 0.4, 0.3]), results([0.3, 0.5, 0.4])
    assert compare_baseline(a, b, RULE) == compare_baseline(a, b, RULE)
    lower = BaselineRule(metric="m", max_regression=0.05, higher_is_better=False)
    assert compare_baseline(a, b, lower).outcome is Verdict.PASSED


def test_inconclusive_baseline_makes_a_passing_run_inconclusive() -> None:
    candidate = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    baseline = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    suite = spec(baseline={"metric": "m", "max_regression": 0.05})
    report = verdict(suite, results(candidate), results(baseline))
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.baseline is not None
    assert report.baseline.outcome is Verdict.INCONCLUSIVE


def test_errored_candidate_items_count_as_regressions() -> None:
    report = compare_baseline(results([None] * 20), results([1.0] * 20), RULE)
    assert report.outcome is Verdict.FAILED


def reference_means(diffs: np.ndarray[Any, Any], resamples: int) -> np.ndarray[Any, Any]:
    """The bootstrap as it was first written: the whole resamples x items matrix at once."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    samples = rng.integers(0, len(diffs), size=(resamples, len(diffs)))
    return np.asarray(diffs[samples].mean(axis=1))


@pytest.mark.parametrize(
    ("items", "resamples", "budget"),
    [
        (1, 100, BOOTSTRAP_CHUNK_INDICES),
        (7, 1_000, 50),  # 7 resamples a chunk: the last chunk is short
        (30, 2_000, 30 * 64),
        (50, 300, 10),  # a budget below the item count still draws one resample at a time
        (1_500, 2_001, BOOTSTRAP_CHUNK_INDICES),  # 666 a chunk at the default budget
    ],
)
def test_chunked_bootstrap_draws_exactly_the_unchunked_numbers(
    items: int, resamples: int, budget: int
) -> None:
    diffs = np.random.default_rng(items).normal(size=items)
    chunked = bootstrap_means(diffs, resamples, budget=budget)
    assert np.array_equal(chunked, reference_means(diffs, resamples))


def test_baseline_report_is_that_of_the_unchunked_bootstrap() -> None:
    draws = np.random.default_rng(3)
    candidate, baseline = draws.random(1_200).tolist(), draws.random(1_200).tolist()
    rule = BaselineRule(metric="m", max_regression=0.05, resamples=3_000)
    report = compare_baseline(results(candidate), results(baseline), rule)
    diffs = np.asarray(candidate) - np.asarray(baseline)
    alpha = (1 - rule.confidence) / 2
    expected = np.quantile(reference_means(diffs, 3_000), [alpha, 1 - alpha])
    assert report.interval == tuple(float(x) for x in expected)


def test_bootstrap_memory_stays_bounded_at_large_sizes() -> None:
    # 100,000 resamples (the maximum) of 2,000 items: drawn at once, the index matrix and its
    # gathered values took 3.2 GB.
    diffs = np.random.default_rng(0).normal(size=2_000)
    tracemalloc.start()
    try:
        means = bootstrap_means(diffs, 100_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    assert means.shape == (100_000,)
    assert abs(float(means.mean()) - float(diffs.mean())) < 0.01
