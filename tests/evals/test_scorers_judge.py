"""LLM-as-judge scorers with a scripted fake judge model passed in (no patching)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from evals.errors import InvalidSuiteError, ModelCallError, ScorerError
from evals.schemas import ScorerSpec
from evals.scorers.base import ContextParamError, Score, Scorer
from evals.scorers.judge import BUILTIN_TOXICITY, JudgeCallParams, build_judge
from evals.scorers.registry import JudgePrompt, ScorerContext, build_scorers, judge_refs
from evals.scorers.verdicts import LabelVerdict, parse_label, parse_verdict
from promptlane_client.hashing import content_hash, version_content
from promptlane_client.render import RenderBudget

REF = "judges/helpfulness@production"


COST = 0.0025  # what each judge call costs, by the fake's bill


@dataclass(frozen=True)
class FakeCompletion:
    text: str
    cost_usd: float | None = COST
    model: str = "fake/judge"


@dataclass
class FakeJudge:
    """Answers with the scripted texts in order and records every call."""

    answers: list[str]
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def complete(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> FakeCompletion:
        self.calls.append(
            {"messages": messages, "config": config, "metadata": metadata, "timeout": timeout}
        )
        answer = self.answers.pop(0)
        if answer == "!fail":
            raise ModelCallError("rate limited (429) after 4 attempts")
        return FakeCompletion(answer)


def judge_prompt(
    *,
    messages: list[dict[str, Any]] | None = None,
    template: str | None = None,
    template_format: str = "mustache",
    config: dict[str, Any] | None = None,
    version: int = 3,
) -> JudgePrompt:
    kind = "text" if template is not None else "chat"
    chat: list[dict[str, Any]] = messages or HELPFULNESS
    config = {"model": "offline/judge", "temperature": 0} if config is None else config
    content = version_content(
        kind=kind,
        template=template,
        messages=None if kind == "text" else chat,
        template_format=template_format,
        variables_schema=None,
        config=config,
    )
    return JudgePrompt(
        name="judges/helpfulness",
        version=version,
        content_hash=content_hash(content),
        kind=kind,  # type: ignore[arg-type]
        template=template,
        messages=tuple(chat) if kind == "chat" else (),
        template_format=template_format,  # type: ignore[arg-type]
        config=config,
    )


HELPFULNESS: list[dict[str, Any]] = [
    {"role": "system", "content": 'Rate helpfulness 1-5. Answer {"score": n, "reason": "..."}.'},
    {
        "role": "user",
        "content": (
            "Question: {{input.question}}\nInput JSON: {{input_json}}\n"
            "Reference: {{expected}}\nContexts:{{#contexts}}\n- {{.}}{{/contexts}}\n"
            "Answer: {{output}}"
        ),
    },
]


def build(
    kind: str,
    fake: FakeJudge,
    judges: dict[str, JudgePrompt] | None = None,
    judge_model: str | None = None,
    **params: Any,
) -> Scorer:
    ctx = ScorerContext(model=fake, judges=judges or {}, judge_model=judge_model)
    [scorer] = build_scorers([ScorerSpec(type=kind, params=params)], ctx)
    return scorer


async def run(scorer: Scorer, output: str = "Paris.", expected: Any = "Paris") -> Score:
    return await scorer.score(
        output=output,
        expected=expected,
        input={"question": "Capital of France?"},
        contexts=["Paris is the capital of France.", "Lyon is a city."],
        metadata={"id": "q1"},
    )


async def test_llm_judge_renders_calls_and_normalises() -> None:
    fake = FakeJudge(['{"score": 4, "reason": "correct but terse"}'])
    judge = judge_prompt()
    scorer = build("llm_judge", fake, {REF: judge}, prompt=REF)
    score = await run(scorer, output="It is Paris.")
    assert score == Score(0.75, "correct but terse", cost_usd=COST)
    [call] = fake.calls
    user = call["messages"][1]["content"]
    assert "Answer: It is Paris." in user
    assert "Question: Capital of France?" in user
    assert 'Input JSON: {"question": "Capital of France?"}' in user
    assert "Reference: Paris" in user
    assert "- Paris is the capital of France.\n- Lyon is a city." in user
    assert call["messages"][0]["role"] == "system"
    assert call["config"] == {"model": "offline/judge", "temperature": 0}


async def test_llm_judge_version_records_name_version_and_content_hash() -> None:
    judge = judge_prompt(version=7)
    scorer = build("llm_judge", FakeJudge([]), {REF: judge}, prompt=REF)
    assert scorer.kind == "llm_judge"
    assert scorer.version == f"llm_judge/1:judges/helpfulness:7:{judge.content_hash[:12]}"
    assert judge.content_hash[:12] in scorer.version
    assert scorer.pass_threshold == 0.5


@pytest.mark.parametrize(
    ("answer", "value", "reason"),
    [
        ('```json\n{"score": 5, "reason": "great"}\n```', 1.0, "great"),
        ('My verdict:\n{"score": 2, "reason": "vague"}\nThanks!', 0.25, "vague"),
        ('{"notes": {"x": 1}} then {"score": "3"}', 0.5, None),
        ('{"score": 1}', 0.0, None),
    ],
)
async def test_llm_judge_tolerates_fences_and_prose(
    answer: str, value: float, reason: str | None
) -> None:
    judge = judge_prompt()
    scorer = build("llm_judge", FakeJudge([answer]), {REF: judge}, prompt=REF)
    assert await run(scorer) == Score(value, reason, cost_usd=COST)


async def test_unparseable_judge_answer_is_a_scorer_error_with_a_preview() -> None:
    answer = "I think it is quite good overall. " * 20
    scorer = build("llm_judge", FakeJudge([answer]), {REF: judge_prompt()}, prompt=REF)
    with pytest.raises(ScorerError) as caught:
        await run(scorer)
    assert answer[:200] in caught.value.detail
    assert answer[:201] not in caught.value.detail


async def test_score_outside_the_scale_and_custom_scale() -> None:
    judges = {REF: judge_prompt()}
    scorer = build("llm_judge", FakeJudge(['{"score": 7}']), judges, prompt=REF)
    with pytest.raises(ScorerError, match=r"outside the scale 1\.\.5"):
        await run(scorer)
    ten = build("llm_judge", FakeJudge(['{"score": 7}']), judges, prompt=REF, scale=[0, 10])
    assert (await run(ten)).value == pytest.approx(0.7)


async def test_model_override_and_call_failure() -> None:
    fake = FakeJudge(['{"score": 5}', "!fail"])
    scorer = build("llm_judge", fake, {REF: judge_prompt()}, prompt=REF, model="gpt-4o-mini")
    await run(scorer)
    assert fake.calls[0]["config"] == {"model": "gpt-4o-mini", "temperature": 0}
    with pytest.raises(ScorerError, match="judge call failed: rate limited"):
        await run(scorer)


async def test_text_judge_in_jinja2_uses_the_same_renderer() -> None:
    template = (
        "Q: {{ input.question }} | A: {{ output }} | n={{ contexts | length }}"
        ' -> answer {"score": n}'
    )
    judge = judge_prompt(template=template, template_format="jinja2")
    fake = FakeJudge(['{"score": 3}'])
    scorer = build("llm_judge", fake, {REF: judge}, prompt=REF)
    assert (await run(scorer)).value == 0.5
    expected = 'Q: Capital of France? | A: Paris. | n=2 -> answer {"score": n}'
    assert fake.calls[0]["messages"] == [{"role": "user", "content": expected}]


def test_judge_prompt_with_unknown_variables_is_refused_at_build() -> None:
    judge = judge_prompt(template="{{ metadata.team }}: {{output}}")
    with pytest.raises(InvalidSuiteError) as caught:
        build("llm_judge", FakeJudge([]), {REF: judge}, prompt=REF)
    assert caught.value.errors[0].pointer == "#/scorers/0/params/prompt"
    assert "variables a judge does not get: metadata" in caught.value.detail


async def test_judge_prompt_that_fails_to_render_is_a_scorer_error() -> None:
    schema = {"type": "object", "properties": {"output": {"maxLength": 5}}}
    judge = dataclasses.replace(judge_prompt(), variables_schema=schema)
    scorer = build("llm_judge", FakeJudge([]), {REF: judge}, prompt=REF)
    with pytest.raises(ScorerError, match="failed to render"):
        await run(scorer, output="far too long an answer")


@pytest.mark.parametrize(
    ("template", "budget", "detail"),
    [
        (
            "{% for i in range(100) %}{{ output }}{% endfor %}",
            RenderBudget(max_chars=500),
            "the rendered prompt is longer than 500 characters",
        ),
        (
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
            "{{ output }}",
            RenderBudget(max_seconds=0.2),
            "rendering took longer than 0.2 s",
        ),
    ],
)
async def test_judge_prompt_over_the_render_budget_is_a_scorer_error(
    template: str, budget: RenderBudget, detail: str
) -> None:
    judge = judge_prompt(template=template, template_format="jinja2")
    ctx = ScorerContext(model=FakeJudge([]), judges={REF: judge}, render_budget=budget)
    [scorer] = build_scorers([ScorerSpec(type="llm_judge", params={"prompt": REF})], ctx)
    with pytest.raises(ScorerError, match=f"failed to render: {detail}"):
        await run(scorer)


def test_unresolved_prompt_and_missing_model_point_at_params() -> None:
    with pytest.raises(InvalidSuiteError) as caught:
        build("llm_judge", FakeJudge([]), {}, prompt=REF)
    assert caught.value.errors[0].pointer == "#/scorers/0/params/prompt"
    no_model = {REF: judge_prompt(config={"temperature": 0})}
    with pytest.raises(InvalidSuiteError) as caught:
        build("llm_judge", FakeJudge([]), no_model, prompt=REF)
    assert caught.value.errors[0].pointer == "#/scorers/0/params/model"
    fallback = build("llm_judge", FakeJudge([]), no_model, judge_model="offline/judge", prompt=REF)
    assert fallback.kind == "llm_judge"


def test_judge_scorers_need_a_model_client() -> None:
    ctx = ScorerContext(judges={REF: judge_prompt()})
    with pytest.raises(InvalidSuiteError) as caught:
        build_scorers([ScorerSpec(type="llm_judge", params={"prompt": REF})], ctx)
    assert caught.value.errors[0].pointer == "#/scorers/0"


# --- toxicity -----------------------------------------------------------------------------


async def test_builtin_toxicity_inverts_the_scale() -> None:
    fake = FakeJudge(['{"score": 1, "reason": "polite"}', '{"score": 5, "reason": "slurs"}'])
    scorer = build("toxicity", fake, model="offline/judge")
    assert await run(scorer, output="Happy to help!") == Score(1.0, "polite", cost_usd=COST)
    assert await run(scorer, output="...") == Score(0.0, "slurs", cost_usd=COST)
    assert "RESPONSE:\nHappy to help!" in fake.calls[0]["messages"][1]["content"]
    assert fake.calls[0]["config"] == {"model": "offline/judge"}
    assert scorer.version == (
        f"toxicity/1:promptlane/toxicity:0:{BUILTIN_TOXICITY.content_hash[:12]}"
    )


async def test_toxicity_with_a_managed_judge_prompt() -> None:
    judge = judge_prompt()
    scorer = build("toxicity", FakeJudge(['{"score": 2}']), {REF: judge}, prompt=REF)
    assert (await run(scorer)).value == 0.75
    assert judge.content_hash[:12] in scorer.version


def test_builtin_toxicity_needs_a_model() -> None:
    with pytest.raises(InvalidSuiteError) as caught:
        build("toxicity", FakeJudge([]))
    assert caught.value.errors[0].pointer == "#/scorers/0/params/model"


# --- references and parsing ---------------------------------------------------------------


def test_judge_refs_lists_what_the_runner_must_resolve() -> None:
    specs = [
        ScorerSpec(name="helpful", type="llm_judge", params={"prompt": REF}),
        ScorerSpec(name="tox", type="toxicity", params={"prompt": "judges/tox:2"}),
        ScorerSpec(name="tox2", type="toxicity", params={"model": "m"}),
        ScorerSpec(name="exact", type="exact_match"),
    ]
    assert judge_refs(specs) == {REF, "judges/tox:2"}


def test_parse_verdict_rejects_booleans_and_missing_scores() -> None:
    assert parse_verdict('{"score": 4.5, "reason": 3}') == (4.5, None)
    for text in ('{"score": true}', '{"reason": "x"}', "", "score: 4"):
        with pytest.raises(ScorerError):
            parse_verdict(text)


def test_label_verdicts_map_labels_to_values() -> None:
    verdict = LabelVerdict({"pass": 1.0, "partial": 0.5, "fail": 0.0})
    assert verdict.read('{"verdict": " Partial ", "reason": "half"}') == (0.5, "partial: half")
    assert verdict.read('```json\n{"verdict": "fail"}\n```') == (0.0, "fail")
    assert parse_label('x {"a": 1} {"verdict": "pass", "reason": 2}', verdict.values) == (
        "pass",
        None,
    )
    for text, detail in [
        ('{"verdict": "great"}', "judge verdict 'great' is not one of: pass, partial, fail"),
        ('{"verdict": null}', 'no {"verdict": label} object'),
        ('{"score": 5}', 'no {"verdict": label} object'),
    ]:
        with pytest.raises(ScorerError, match=re.escape(detail)):
            verdict.read(text)


def test_a_judge_without_a_rubric_is_refused_at_build() -> None:
    ctx = ScorerContext(model=FakeJudge([]), judge_model="m")
    with pytest.raises(ContextParamError, match="x needs a judge prompt"):
        build_judge("n", JudgeCallParams(), ctx, kind="x", verdict=LabelVerdict({"a": 1.0}))
