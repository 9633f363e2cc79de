"""The scorer registry: types, parameter validation with pointers, building, lazy ragas."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from evals.errors import InvalidSuiteError
from evals.schemas import ScorerSpec
from evals.scorers.registry import (
    SCORER_TYPES,
    RagasSettings,
    ScorerContext,
    build_scorers,
    validate_scorer_specs,
)

ISSUE_TYPES = {
    "exact_match", "contains", "contains_all", "not_contains", "regex", "json_valid",
    "json_schema", "similarity", "numeric", "length", "latency", "cost", "llm_judge",
    "faithfulness", "response_relevancy", "context_precision", "context_recall",
    "pii", "prompt_injection", "refusal", "toxicity", "canary", "attack_succeeded",
    "refusal_judge", "prompt_injection_judge",
}  # fmt: skip


def spec(kind: str, **params: Any) -> ScorerSpec:
    return ScorerSpec(type=kind, params=params)


def problems(*specs: ScorerSpec) -> list[tuple[str, str]]:
    with pytest.raises(InvalidSuiteError) as caught:
        validate_scorer_specs(list(specs))
    return [(p.pointer, p.detail) for p in caught.value.errors]


def test_scorer_types_cover_the_issue_with_descriptions() -> None:
    assert set(SCORER_TYPES) == ISSUE_TYPES
    for kind, description in SCORER_TYPES.items():
        assert description, kind
        assert "\n" not in description


def test_unknown_type_points_at_type() -> None:
    [(pointer, detail)] = problems(spec("exact_match"), spec("bleu"))
    assert pointer == "#/scorers/1/type"
    assert detail.startswith("unknown scorer type 'bleu' (known: attack_succeeded, canary, ")


@pytest.mark.parametrize(
    ("scorer", "pointer", "detail"),
    [
        (spec("exact_match", bogus=1), "#/scorers/0/params/bogus", "Extra inputs"),
        (spec("exact_match", normalize=["case", "emoji"]), "#/scorers/0/params/normalize/1", ""),
        (spec("latency", max_ms="fast"), "#/scorers/0/params/max_ms", "valid number"),
        (spec("latency"), "#/scorers/0/params/max_ms", "Field required"),
        (spec("cost", max_usd=-1), "#/scorers/0/params/max_usd", "greater than or equal"),
        (spec("regex", pattern="a("), "#/scorers/0/params/pattern", "invalid regular expression"),
        (spec("json_schema", schema={"type": 5}), "#/scorers/0/params/schema", "not a valid"),
        (spec("json_schema"), "#/scorers/0/params/schema", "Field required"),
        (spec("length"), "#/scorers/0/params", "give at least one of"),
        (spec("length", min_chars=5, max_chars=2), "#/scorers/0/params", "min_chars is larger"),
        (spec("contains", value="a", values=["b"]), "#/scorers/0/params", "not both"),
        (spec("similarity", method="jaro"), "#/scorers/0/params/method", ""),
        (spec("similarity", pass_threshold=1.5), "#/scorers/0/params/pass_threshold", ""),
        (spec("pii", kinds=["fingerprint"]), "#/scorers/0/params/kinds/0", ""),
        (spec("pii", scan=["both"]), "#/scorers/0/params/scan/0", ""),
        (spec("prompt_injection", extra_markers=["(("]), "#/scorers/0/params/extra_markers", ""),
        (spec("llm_judge"), "#/scorers/0/params/prompt", "Field required"),
        (spec("llm_judge", prompt="Judges/X"), "#/scorers/0/params/prompt", "invalid judge"),
        (spec("llm_judge", prompt="j:0"), "#/scorers/0/params/prompt", "invalid version"),
        (spec("llm_judge", prompt="j@Prod"), "#/scorers/0/params/prompt", "invalid label"),
        (spec("llm_judge", prompt="j", scale=[5, 1]), "#/scorers/0/params/scale", "min < max"),
        (spec("toxicity", temperature=0), "#/scorers/0/params/temperature", "Extra inputs"),
        (spec("prompt_injection_judge", scan="both"), "#/scorers/0/params/scan", "'input'"),
        (spec("prompt_injection_judge", prompt="J"), "#/scorers/0/params/prompt", "invalid"),
        (spec("refusal", allow_hedged="maybe"), "#/scorers/0/params/allow_hedged", "boolean"),
        (spec("refusal_judge", scale=[1, 5]), "#/scorers/0/params/scale", "Extra inputs"),
        (spec("refusal_judge", expect_refusal=3), "#/scorers/0/params/expect_refusal", ""),
        (spec("refusal_judge", prompt="j:0"), "#/scorers/0/params/prompt", "invalid version"),
        (spec("faithfulness", strictness=2), "#/scorers/0/params/strictness", "Extra inputs"),
        (spec("response_relevancy", strictness=0), "#/scorers/0/params/strictness", ""),
        # A suite cannot name a server variable or an endpoint: connections are an admin's.
        (
            spec("context_recall", api_key_env="OPENAI_API_KEY"),
            "#/scorers/0/params/api_key_env",
            "Extra inputs",
        ),
        (spec("faithfulness", api_base="http://x/v1"), "#/scorers/0/params/api_base", "Extra"),
        (spec("faithfulness", connection="local\n"), "#/scorers/0/params/connection", ""),
    ],
)
def test_bad_params_point_at_the_field(scorer: ScorerSpec, pointer: str, detail: str) -> None:
    found = problems(scorer)
    assert found[0][0] == pointer
    assert detail in found[0][1]


def test_every_bad_scorer_is_reported_and_the_message_names_the_first() -> None:
    specs = [spec("exact_match"), spec("regex", pattern="("), spec("nope"), spec("cost")]
    with pytest.raises(InvalidSuiteError) as caught:
        validate_scorer_specs(specs)
    pointers = [p.pointer for p in caught.value.errors]
    assert pointers == [
        "#/scorers/1/params/pattern",
        "#/scorers/2/type",
        "#/scorers/3/params/max_usd",
    ]
    assert caught.value.detail.startswith("#/scorers/1/params/pattern: invalid regular")


def test_valid_specs_pass_without_a_context() -> None:
    validate_scorer_specs(
        [
            spec("exact_match", normalize=["case"]),
            spec("llm_judge", prompt="judges/helpfulness@production", scale=[0, 10]),
            spec("toxicity"),
            spec("prompt_injection_judge", scan="output", model="offline/scripted"),
            spec("refusal", expect_refusal=True, allow_hedged=False),
            spec("refusal_judge", expect_refusal=True, model="offline/scripted", timeout=30),
            spec("faithfulness", model="gpt-4o-mini", connection="local"),
            spec("json_schema", schema={"type": "object"}),
        ]
    )


def test_build_returns_scorers_with_names_kinds_and_thresholds() -> None:
    specs = [
        ScorerSpec(name="correct", type="exact_match"),
        ScorerSpec(name="close", type="similarity"),
        ScorerSpec(name="grounded", type="faithfulness", params={"pass_threshold": 0.7}),
    ]
    ctx = ScorerContext(ragas=RagasSettings(model="m", connection="local"))
    scorers = build_scorers(specs, ctx)
    assert [(s.name, s.kind, s.pass_threshold) for s in scorers] == [
        ("correct", "exact_match", 1.0),
        ("close", "similarity", 0.8),
        ("grounded", "faithfulness", 0.7),
    ]


def test_rag_model_comes_from_params_or_the_context() -> None:
    with pytest.raises(InvalidSuiteError) as caught:
        build_scorers([spec("context_recall")], ScorerContext())
    assert caught.value.errors[0].pointer == "#/scorers/0/params/model"
    one = build_scorers([spec("context_recall", model="a")], ScorerContext())[0]
    other = build_scorers([spec("context_recall", model="b")], ScorerContext())[0]
    assert one.version != other.version  # the effective endpoint is part of the version
    ctx = ScorerContext(ragas=RagasSettings(model="a"))
    assert build_scorers([spec("context_recall")], ctx)[0].version == one.version


def test_registry_and_building_do_not_import_ragas() -> None:
    code = (
        "import sys\n"
        "from evals.schemas import ScorerSpec\n"
        "from evals.scorers.registry import ScorerContext, build_scorers\n"
        "specs = [ScorerSpec(type=t, params={'model': 'm'}) for t in\n"
        "         ('faithfulness', 'response_relevancy', 'context_precision', 'context_recall')]\n"
        "build_scorers(specs, ScorerContext())\n"
        "heavy = ('ragas', 'openai', 'litellm', 'instructor')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
