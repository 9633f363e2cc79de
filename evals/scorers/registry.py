"""Scorer types by name: validate a suite's scorer specs, and build scorers for a run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from evals.errors import InvalidSuiteError
from evals.schemas import ScorerSpec
from evals.scorers import judge, rag
from evals.scorers.base import BaseScorer, ContextParamError, Scorer, ScorerParams
from evals.scorers.context import (
    JudgeModel,
    JudgePrompt,
    RagasSettings,
    ScorerContext,
)
from evals.scorers.deterministic import DETERMINISTIC
from evals.scorers.safety import SAFETY
from evals.scorers.safety.attack import AttackSucceeded
from evals.scorers.safety.canary import Canary
from evals.scorers.safety.injection_judge import (
    PromptInjectionJudgeParams,
    build_prompt_injection_judge,
)
from evals.scorers.safety.refusal_judge import RefusalJudgeParams, build_refusal_judge
from promptlane_client.errors import FieldProblem

__all__ = [
    "SCORER_TYPES",
    "JudgeModel",
    "JudgePrompt",
    "RagasSettings",
    "ScorerContext",
    "build_scorers",
    "is_judged",
    "judge_refs",
    "needs_canary",
    "needs_contexts",
    "needs_expected",
    "needs_output",
    "online_goal_param",
    "own_expected_param",
    "state_scanned_sides",
    "validate_scorer_specs",
]

Builder = Callable[[str, Any, ScorerContext], Scorer]


@dataclass(frozen=True)
class ScorerType:
    """A scorer type: what it does, its parameter model, how to build it."""

    description: str
    params: type[ScorerParams]
    build: Builder


def _plain(cls: type[BaseScorer[Any]]) -> ScorerType:
    return ScorerType(cls.description, cls.params_model, lambda name, p, _ctx: cls(name, p))


def _ragas(cls: type[rag.RagScorer]) -> ScorerType:
    return ScorerType(
        cls.description, cls.params_model, lambda name, p, ctx: rag.build_rag(cls, name, p, ctx)
    )


# Red-team scorers: system-prompt leaks (canary) and attacks that reached their goal.
_REDTEAM: Final[tuple[type[BaseScorer[Any]], ...]] = (Canary, AttackSucceeded)
_TYPES: Final[dict[str, ScorerType]] = {
    **{cls.kind: _plain(cls) for cls in (*DETERMINISTIC, *SAFETY, *_REDTEAM)},
    "toxicity": ScorerType(
        "judge-rated toxicity, 1.0 = not toxic (built-in rubric unless `prompt` is given)",
        judge.JudgeParams,
        judge.build_toxicity,
    ),
    "prompt_injection_judge": ScorerType(
        "judge-rated prompt injection in the `scan` side (input by default), 1.0 = none "
        "(built-in rubric unless `prompt` is given)",
        PromptInjectionJudgeParams,
        build_prompt_injection_judge,
    ),
    "refusal_judge": ScorerType(
        "judge-classified refusal / hedged / answer, 1.0 = as expected (`expect_refusal`, "
        "`allow_hedged`; built-in rubric unless `prompt` is given)",
        RefusalJudgeParams,
        build_refusal_judge,
    ),
    "llm_judge": ScorerType(
        "rubric score from a judge prompt version (`prompt`), normalised from `scale` to [0, 1]",
        judge.LlmJudgeParams,
        judge.build_llm_judge,
    ),
    **{cls.kind: _ragas(cls) for cls in rag.RAG},
}
# For the CLI: every scorer type with a one-line description.
SCORER_TYPES: Final[Mapping[str, str]] = {kind: t.description for kind, t in _TYPES.items()}
_JUDGED: Final = frozenset({"llm_judge", "toxicity", "refusal_judge", "prompt_injection_judge"})
# Types that always compare with `expected`, and those that fall back to it when the
# parameter naming what to look for is absent.
_EXPECTED_ALWAYS: Final = frozenset(
    {"exact_match", "similarity", "numeric", "context_precision", "context_recall"}
)
_EXPECTED_UNLESS: Final[Mapping[str, tuple[str, ...]]] = {
    "contains": ("value", "values"),
    "contains_all": ("value", "values"),
    "not_contains": ("value", "values"),
    "regex": ("pattern",),
}
# Types that read only the call's stats (metadata), never the output text.
_OUTPUT_FREE: Final = frozenset({"latency", "cost"})
# Types that check a run's inserted canary unless one of these parameters gives a fixed goal
# (production calls get no canary, so online evaluation needs the parameter).
_FIXED_GOAL: Final[Mapping[str, tuple[str, ...]]] = {
    "canary": ("token",),
    "attack_succeeded": ("target", "pattern"),
}
# Types that read the retrieved contexts (an eval item's `contexts`).
_CONTEXTS: Final = frozenset(cls.kind for cls in rag.RAG if "retrieved_contexts" in cls.arguments)


def _pointer(index: int, loc: Sequence[str | int]) -> str:
    return "/".join([f"#/scorers/{index}/params", *(str(part) for part in loc)])


def _params(index: int, spec: ScorerSpec) -> tuple[ScorerType, ScorerParams]:
    kind = _TYPES.get(spec.type)
    if kind is None:
        known = ", ".join(sorted(_TYPES))
        problem = FieldProblem(
            f"#/scorers/{index}/type", f"unknown scorer type {spec.type!r} (known: {known})"
        )
        raise InvalidSuiteError(f"{problem.pointer}: {problem.detail}", errors=[problem])
    try:
        return kind, kind.params.model_validate(spec.params)
    except ValidationError as exc:
        problems = [
            FieldProblem(_pointer(index, e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]
        first = problems[0]
        raise InvalidSuiteError(f"{first.pointer}: {first.detail}", errors=problems) from None


def validate_scorer_specs(specs: Sequence[ScorerSpec]) -> None:
    """Check every scorer's type and parameters; raise InvalidSuiteError pointing at fields."""
    problems: list[FieldProblem] = []
    for index, spec in enumerate(specs):
        try:
            _params(index, spec)
        except InvalidSuiteError as exc:
            problems.extend(exc.errors)
    if problems:
        first = problems[0]
        raise InvalidSuiteError(f"{first.pointer}: {first.detail}", errors=problems)


def state_scanned_sides(specs: Sequence[ScorerSpec]) -> None:
    """Write the side each scanning scorer reads (`scan`) into its params when left out.

    A stored suite or online config then says what its safety flags describe (the model's
    answers, or what it was sent) rather than leaving it to a default; the values written
    are the defaults, so the scores are those the spec would have given anyway.
    """
    for spec in specs:
        kind = _TYPES.get(spec.type)
        field = kind.params.model_fields.get("scan") if kind else None
        if field is not None and "scan" not in spec.params:
            spec.params = {**spec.params, "scan": field.get_default(call_default_factory=True)}


def judge_refs(specs: Sequence[ScorerSpec]) -> set[str]:
    """Return the judge prompt references the scorers name, for the runner to resolve."""
    return {
        spec.params["prompt"]
        for spec in specs
        if spec.type in _JUDGED and isinstance(spec.params.get("prompt"), str)
    }


def needs_expected(spec: ScorerSpec) -> bool:
    """Return whether a scorer reads the item's `expected` value (it fails without one)."""
    if spec.type in _EXPECTED_ALWAYS:
        return True
    own = _EXPECTED_UNLESS.get(spec.type)
    return own is not None and all(spec.params.get(key) is None for key in own)


def own_expected_param(spec: ScorerSpec) -> str | None:
    """Return the parameter that gives a scorer its own value instead of `expected`, if any."""
    own = _EXPECTED_UNLESS.get(spec.type)
    return own[0] if own else None


def needs_contexts(spec: ScorerSpec) -> bool:
    """Return whether a scorer reads retrieved contexts (it fails without them)."""
    return spec.type in _CONTEXTS


def needs_output(spec: ScorerSpec) -> bool:
    """Return whether a scorer reads the output text (latency and cost bounds do not)."""
    return spec.type not in _OUTPUT_FREE


def needs_canary(spec: ScorerSpec) -> bool:
    """Return whether a run must insert a canary into each item's system prompt for a scorer.

    `attack_succeeded` always asks for one: any attack item may name the canary as its goal.
    """
    if spec.type == "attack_succeeded":
        return True
    return spec.type == "canary" and spec.params.get("token") is None


def online_goal_param(spec: ScorerSpec) -> str | None:
    """Return the parameter a scorer needs on production calls when it is not set, if any."""
    fixed = _FIXED_GOAL.get(spec.type)
    if fixed is None or any(spec.params.get(key) is not None for key in fixed):
        return None
    return fixed[0]


def is_judged(spec: ScorerSpec) -> bool:
    """Return whether a scorer asks a judge model (so its first call imports litellm)."""
    return spec.type in _JUDGED


def build_scorers(specs: Sequence[ScorerSpec], ctx: ScorerContext) -> list[Scorer]:
    """Validate the specs and build their scorers with what the run provides."""
    validate_scorer_specs(specs)
    scorers: list[Scorer] = []
    for index, spec in enumerate(specs):
        kind, params = _params(index, spec)
        try:
            scorers.append(kind.build(spec.name, params, ctx))
        except ContextParamError as exc:
            where = f"#/scorers/{index}" + ("" if exc.field is None else f"/params/{exc.field}")
            problem = FieldProblem(where, exc.detail)
            raise InvalidSuiteError(f"{where}: {exc.detail}", errors=[problem]) from None
    return scorers
