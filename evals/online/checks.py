"""Whether an online evaluation's scorers can run on production calls, checked when it is set.

A production call has an input, an answer and its stats, but no expected value, no
retrieved contexts, no inserted canary and no attack goal, and a judge needs a model it can
reach. A config whose scorer can never produce a score would fail every sampled call one by
one; `check_runnable` refuses it at `PUT /v1/online-evaluations` instead, each problem
pointing at the field to change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from evals.connections.resolver import ConnectionSource, route
from evals.errors import InvalidOnlineEvaluationError, ModelConfigurationError
from evals.llm.client import known_providers
from evals.schemas import ScorerSpec
from evals.scorers.base import Scorer
from evals.scorers.judge import JudgeScorer
from evals.scorers.registry import (
    needs_contexts,
    needs_expected,
    online_goal_param,
    own_expected_param,
)
from promptlane_client.errors import FieldProblem
from promptlane_client.params import OFFLINE_PREFIX


def _data_problem(index: int, spec: ScorerSpec) -> FieldProblem | None:
    """Return why a scorer needs what a production call lacks (expected, contexts), if it does."""
    if needs_expected(spec):
        own = own_expected_param(spec)
        if own is not None:
            return FieldProblem(
                f"#/scorers/{index}/params/{own}",
                f"{spec.type} compares with an expected value when params.{own} is not set, "
                f"and production calls have none: set params.{own}",
            )
        return FieldProblem(
            f"#/scorers/{index}/type",
            f"{spec.type} compares the answer with an expected value, and production calls "
            "have none: score it in an eval suite, or use a scorer that needs no reference",
        )
    goal = online_goal_param(spec)
    if goal is not None:
        what = (
            "the canary a run inserts into the system prompt"
            if spec.type == "canary"
            else "the attack goal an eval item states in metadata.attack"
        )
        return FieldProblem(
            f"#/scorers/{index}/params/{goal}",
            f"{spec.type} checks {what}, and production calls have none: set params.{goal} "
            + ("to the canary your prompt embeds" if spec.type == "canary" else "(or pattern)"),
        )
    if needs_contexts(spec):
        return FieldProblem(
            f"#/scorers/{index}/type",
            f"{spec.type} reads retrieved contexts, and production calls carry none: "
            "score it in an eval suite",
        )
    return None


async def _judge_problem(
    index: int, scorer: JudgeScorer, connections: ConnectionSource
) -> FieldProblem | None:
    """Return why a judge's model cannot be called (no connection, an unusable key), if so."""
    config = scorer.call_config
    model = str(config["model"])
    if model.startswith(OFFLINE_PREFIX):
        return None
    # litellm's provider list: imported off the event loop (the import takes seconds).
    providers = await asyncio.to_thread(known_providers)
    try:
        await route(
            connections, model=model, connection=config.get("connection"), providers=providers
        )
    except ModelConfigurationError as exc:
        return FieldProblem(f"#/scorers/{index}/params/model", f"judge model: {exc.detail}")
    return None


async def check_runnable(
    specs: Sequence[ScorerSpec],
    scorers: Sequence[Scorer],
    *,
    connections: ConnectionSource | None = None,
) -> None:
    """Raise InvalidOnlineEvaluationError listing every scorer that cannot score a call.

    Judges' models are checked against `connections` when given.
    """
    problems: list[FieldProblem] = []
    for index, (spec, scorer) in enumerate(zip(specs, scorers, strict=True)):
        problem = _data_problem(index, spec)
        if problem is None and connections is not None and isinstance(scorer, JudgeScorer):
            problem = await _judge_problem(index, scorer, connections)
        if problem is not None:
            problems.append(problem)
    if problems:
        first = problems[0]
        raise InvalidOnlineEvaluationError(f"{first.pointer}: {first.detail}", errors=problems)
