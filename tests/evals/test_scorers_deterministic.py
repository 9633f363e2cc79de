"""Deterministic scorers: matching, structure, similarity, numbers and bounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from evals.errors import ScorerError
from evals.schemas import ScorerSpec
from evals.scorers.base import Score, Scorer
from evals.scorers.registry import ScorerContext, build_scorers


def make(kind: str, **params: Any) -> Scorer:
    [scorer] = build_scorers([ScorerSpec(type=kind, params=params)], ScorerContext())
    return scorer


async def run(
    scorer: Scorer,
    output: str,
    expected: Any = None,
    *,
    input: Mapping[str, Any] | None = None,
    contexts: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Score:
    return await scorer.score(
        output=output,
        expected=expected,
        input=input or {},
        contexts=contexts,
        metadata=metadata or {},
    )


# --- exact match ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("normalize", "output", "expected", "value"),
    [
        ([], "billing", "billing", 1.0),
        ([], "Billing", "billing", 0.0),
        (["case"], "Billing", "billing", 1.0),
        (["whitespace"], "  billing \n", "billing", 1.0),
        (["case", "whitespace", "punctuation"], " Billing.\n", "billing", 1.0),
        (["unicode", "case"], "ＢＩＬＬＩＮＧ", "billing", 1.0),
        (["case", "punctuation"], "bill-ing", "billing", 1.0),
        (["case", "whitespace", "punctuation"], "technical", "billing", 0.0),
    ],
)
async def test_exact_match_normalisation(
    normalize: list[str], output: str, expected: str, value: float
) -> None:
    score = await run(make("exact_match", normalize=normalize), output, expected)
    assert score.value == value
    assert (score.reason is None) == (value == 1.0)


async def test_exact_match_reason_shows_both_sides() -> None:
    score = await run(make("exact_match"), "technical", "billing")
    assert score.reason == "expected 'billing', got 'technical'"


async def test_exact_match_field_of_expected_object() -> None:
    scorer = make("exact_match", field="label", normalize=["case"])
    assert (await run(scorer, "Billing", {"label": "billing", "why": "x"})).value == 1.0
    assert (
        await run(scorer, '{"label": "billing", "other": 1}', {"label": "billing"})
    ).value == 1.0
    assert (await run(scorer, '{"label": "account"}', {"label": "billing"})).value == 0.0
    with pytest.raises(ScorerError, match="no field 'label'"):
        await run(scorer, "billing", {"category": "billing"})


async def test_exact_match_compares_json_values() -> None:
    scorer = make("exact_match")
    assert (await run(scorer, "42.0", 42)).value == 1.0
    assert (await run(scorer, '{"b": 2, "a": 1}', {"a": 1, "b": 2})).value == 1.0
    assert (await run(scorer, "[1, 2]", [2, 1])).value == 0.0


async def test_exact_match_needs_expected() -> None:
    with pytest.raises(ScorerError, match="expected"):
        await run(make("exact_match"), "billing", None)


# --- contains -----------------------------------------------------------------------------


async def test_contains_from_params_and_expected() -> None:
    assert (await run(make("contains", value="refund"), "We will refund you")).value == 1.0
    assert (await run(make("contains", values=["a1", "b2"]), "has b2")).value == 1.0
    assert (await run(make("contains"), "Paris is lovely", "Paris")).value == 1.0
    assert (await run(make("contains"), "Paris is lovely", ["Rome", "Paris"])).value == 1.0
    miss = await run(make("contains", value="Refund"), "we will refund you")
    assert miss.value == 0.0
    assert miss.reason == "none of ['Refund'] found"
    hit = await run(make("contains", value="Refund", ignore_case=True), "we will refund you")
    assert hit.value == 1.0


async def test_contains_all_is_the_share_found() -> None:
    scorer = make("contains_all", values=["alpha", "beta", "gamma", "delta"])
    assert scorer.pass_threshold == 1.0
    score = await run(scorer, "alpha and gamma")
    assert score.value == 0.5
    assert score.reason == "missing ['beta', 'delta']"
    assert (await run(scorer, "alpha beta gamma delta")).value == 1.0


async def test_not_contains() -> None:
    scorer = make("not_contains", values=["password", "secret"], ignore_case=True)
    assert (await run(scorer, "all clear")).value == 1.0
    score = await run(scorer, "the SECRET is out")
    assert score.value == 0.0
    assert score.reason == "found ['secret']"


async def test_contains_without_needles_is_a_scorer_error() -> None:
    with pytest.raises(ScorerError, match="value/values"):
        await run(make("contains"), "text", None)


# --- regex --------------------------------------------------------------------------------


async def test_regex_search_and_full_match() -> None:
    assert (await run(make("regex", pattern=r"\bINV-\d{4}\b"), "see INV-2024 ok")).value == 1.0
    full = make("regex", pattern=r"INV-\d{4}", full_match=True)
    assert (await run(full, "see INV-2024 ok")).value == 0.0
    assert (await run(full, "INV-2024")).value == 1.0
    assert (await run(make("regex", pattern="^yes$", ignore_case=True), "YES")).value == 1.0


async def test_regex_from_expected() -> None:
    assert (await run(make("regex"), "order 123", r"order \d+")).value == 1.0
    with pytest.raises(ScorerError, match="invalid pattern"):
        await run(make("regex"), "order 123", "order (")


# --- JSON ---------------------------------------------------------------------------------


async def test_json_valid() -> None:
    assert (await run(make("json_valid"), '{"a": [1, 2]}')).value == 1.0
    bad = await run(make("json_valid"), "{'a': 1}")
    assert bad.value == 0.0
    assert bad.reason is not None
    assert bad.reason.startswith("not JSON: Expecting property name")
    fenced = '```json\n{"a": 1}\n```'
    assert (await run(make("json_valid"), fenced)).value == 0.0
    assert (await run(make("json_valid", strip_fences=True), fenced)).value == 1.0


SCHEMA = {
    "type": "object",
    "required": ["category", "confidence"],
    "properties": {
        "category": {"enum": ["billing", "technical", "account"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}


async def test_json_schema_valid_and_first_error_path() -> None:
    scorer = make("json_schema", schema=SCHEMA)
    ok = await run(scorer, '{"category": "billing", "confidence": 0.9}')
    assert ok == Score(1.0)
    bad = await run(scorer, '{"category": "billing", "confidence": 0.9, "tags": ["a", 3]}')
    assert bad.value == 0.0
    assert bad.reason == "$.tags[1]: 3 is not of type 'string'"
    assert (await run(scorer, "nope")).reason == "not JSON"


# --- similarity and numbers ---------------------------------------------------------------


async def test_similarity_methods_in_unit_range() -> None:
    ratio = make("similarity")
    assert ratio.pass_threshold == 0.8
    assert (await run(ratio, "hello world", "hello world")).value == 1.0
    near = await run(ratio, "hello wrld", "hello world")
    assert 0.9 < near.value < 1.0
    token_set = make("similarity", method="token_set_ratio", normalize=["case"])
    assert (await run(token_set, "World hello", "hello world")).value == 1.0
    partial = make("similarity", method="partial_ratio")
    assert (await run(partial, "the answer is Paris, France", "Paris")).value == 1.0


@pytest.mark.parametrize(
    ("params", "output", "expected", "value"),
    [
        ({}, "The total is 42.", 42, 1.0),
        ({}, "The total is 42.", "42", 1.0),
        ({}, "about 1,234.5 units", 1234.5, 1.0),
        ({"abs_tol": 0.5}, "41.6", 42, 1.0),
        ({"abs_tol": 0.1}, "41.6", 42, 0.0),
        ({"rel_tol": 0.01}, "99.5", 100, 1.0),
        ({"pick": "last"}, "Step 1: 6 x 7 gives 42", 42, 1.0),
        ({}, "Step 1: 6 x 7 gives 42", 42, 0.0),
        ({}, "-3.5e2 kelvin", -350, 1.0),
    ],
)
async def test_numeric(params: dict[str, Any], output: str, expected: Any, value: float) -> None:
    assert (await run(make("numeric", **params), output, expected)).value == value


async def test_numeric_reasons_and_errors() -> None:
    assert (await run(make("numeric"), "no digits here", 3)).reason == "no number in the output"
    assert (await run(make("numeric"), "4", 3)).reason == "got 4, expected 3"
    with pytest.raises(ScorerError, match="not a number"):
        await run(make("numeric"), "4", "four")
    with pytest.raises(ScorerError, match="not a number"):
        await run(make("numeric"), "1", True)


# --- bounds -------------------------------------------------------------------------------


async def test_length_chars_and_words() -> None:
    scorer = make("length", max_chars=20, min_words=2)
    assert (await run(scorer, "two words")).value == 1.0
    long = await run(scorer, "one " * 10)
    assert long.value == 0.0
    assert long.reason == "40 chars > max 20"
    short = await run(scorer, "one")
    assert short.reason == "1 words < min 2"


STATS = {"promptlane": {"latency_ms": 850.0, "cost_usd": 0.0021, "model": "m"}}


async def test_latency_and_cost_are_raw_values_with_units() -> None:
    fast = await run(make("latency", max_ms=1000), "x", metadata=STATS)
    assert fast == Score(850.0, None, unit="ms", passed=True)
    slow = await run(make("latency", max_ms=500), "x", metadata=STATS)
    assert slow.passed is False
    assert slow.reason == "850 ms > max 500 ms"
    cheap = await run(make("cost", max_usd=0.01), "x", metadata=STATS)
    assert cheap == Score(0.0021, None, unit="usd", passed=True)
    dear = await run(make("cost", max_usd=0.001), "x", metadata=STATS)
    assert dear.passed is False


async def test_bounds_without_call_stats_raise() -> None:
    with pytest.raises(ScorerError, match=r"metadata\.promptlane\.latency_ms"):
        await run(make("latency", max_ms=10), "x")
    unknown = {"promptlane": {"latency_ms": 1.0, "cost_usd": None}}
    with pytest.raises(ScorerError, match=r"metadata\.promptlane\.cost_usd"):
        await run(make("cost", max_usd=1), "x", metadata=unknown)


# --- versions -----------------------------------------------------------------------------


def test_version_hashes_the_params() -> None:
    a = make("exact_match", normalize=["case"])
    b = make("exact_match", normalize=["case"])
    c = make("exact_match", normalize=["case", "whitespace"])
    assert a.version == b.version
    assert a.version != c.version
    assert a.version.startswith("exact_match/1:")
    assert len(a.version.split(":")[1]) == 12
    assert make("exact_match", pass_threshold=0.5).pass_threshold == 0.5
