"""Online evaluation configs: the service behind the API, and the snapshot the evaluator reads.

A config belongs to a prompt and either one label or any label (stored as `*`, so the unique
constraint holds on every database). A generation takes its label's config when there is one
(enabled or not: a disabled label config switches scoring off for that label), else the
prompt's any-label config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.resolver import ConnectionSource
from evals.errors import (
    InvalidOnlineEvaluationError,
    InvalidSuiteError,
    ModelCallError,
    OnlineEvaluationNotFoundError,
)
from evals.models import OnlineEvaluation
from evals.online.checks import check_runnable
from evals.online.schemas import OnlineEvaluationPut, OnlineEvaluationRead
from evals.schemas import ScorerSpec
from evals.scorers.base import Scorer
from evals.scorers.context import JudgeCompletion, JudgeModel, JudgePrompt, ScorerContext
from evals.scorers.registry import (
    build_scorers,
    judge_refs,
    state_scanned_sides,
    validate_scorer_specs,
)
from promptlane_client.errors import FieldProblem
from promptlane_client.render import DEFAULT_BUDGET, RenderBudget
from prompts import service as prompts
from prompts.archive import check_active
from prompts.base import utc_now
from prompts.errors import PromptNotFoundError, PromptsError
from prompts.models import Prompt
from prompts.schemas import parse_prompt_ref

ANY_LABEL: Final = "*"


@dataclass(frozen=True)
class OnlineConfig:
    """One config as the evaluator uses it (detached from any session)."""

    id: int
    prompt: str
    label: str | None
    sample_rate: float
    scorers: tuple[ScorerSpec, ...]
    enabled: bool


@dataclass(frozen=True)
class ConfigSnapshot:
    """Every config at one moment, by (prompt, label or `*`)."""

    configs: Mapping[tuple[str, str], OnlineConfig]

    def match(self, prompt: str | None, label: str | None) -> OnlineConfig | None:
        """Return the config for a generation: its label's, else the prompt's any-label one."""
        if prompt is None:
            return None
        if label is not None:
            found = self.configs.get((prompt, label))
            if found is not None:
                return found
        return self.configs.get((prompt, ANY_LABEL))


class _Uncalled:
    """A judge model for building scorers that are only validated, never called."""

    async def complete(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's signature
    ) -> JudgeCompletion:
        raise ModelCallError("scorers built for validation make no model calls")


def _read(row: OnlineEvaluation, prompt: str) -> OnlineEvaluationRead:
    assert row.id is not None
    return OnlineEvaluationRead(
        id=row.id,
        prompt=prompt,
        label=None if row.label == ANY_LABEL else row.label,
        sample_rate=row.sample_rate,
        scorers=[ScorerSpec.model_validate(spec) for spec in row.scorers],
        enabled=row.is_enabled,
        updated_by=row.updated_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _invalid(pointer: str, detail: str) -> InvalidOnlineEvaluationError:
    return InvalidOnlineEvaluationError(
        f"{pointer}: {detail}", errors=[FieldProblem(pointer, detail)]
    )


async def _judges(session: AsyncSession, specs: Sequence[ScorerSpec]) -> dict[str, JudgePrompt]:
    """Resolve every judge prompt reference to the version it names now."""
    judges: dict[str, JudgePrompt] = {}
    for ref in sorted(judge_refs(specs)):
        name, label, number = parse_prompt_ref(ref)
        try:
            _, version = await prompts.find_version(session, name=name, label=label, version=number)
        except PromptsError as exc:
            index = next(i for i, s in enumerate(specs) if s.params.get("prompt") == ref)
            raise _invalid(f"#/scorers/{index}/params/prompt", exc.detail) from None
        judges[ref] = JudgePrompt.from_version(name, version)
    return judges


async def build_online_scorers(
    session: AsyncSession,
    *,
    specs: Sequence[ScorerSpec],
    model: JudgeModel | None = None,
    judge_model: str | None = None,
    connections: ConnectionSource | None = None,
    render_budget: RenderBudget = DEFAULT_BUDGET,
) -> list[Scorer]:
    """Validate the specs, resolve their judge prompts and build the scorers.

    Raises InvalidOnlineEvaluationError pointing at the offending field (`#/scorers/...`).
    """
    try:
        validate_scorer_specs(specs)
        judges = await _judges(session, specs)
        ctx = ScorerContext(
            model=model or _Uncalled(),
            judges=judges,
            judge_model=judge_model,
            connections=connections,
            render_budget=render_budget,
        )
        return build_scorers(specs, ctx)
    except InvalidSuiteError as exc:
        raise InvalidOnlineEvaluationError(exc.detail, errors=exc.errors) from None


async def put_online_evaluation(
    session: AsyncSession,
    *,
    data: OnlineEvaluationPut,
    actor: str,
    judge_model: str | None,
    connections: ConnectionSource | None = None,
) -> OnlineEvaluationRead:
    """Create or replace the online evaluation of a prompt for one label or any label.

    A scorer that could never score a production call (it needs an expected value or
    contexts, or its judge model has no usable connection in `connections`) is refused here.
    """
    prompt = await session.scalar(select(Prompt).where(Prompt.name == data.prompt))
    if prompt is None or prompt.id is None:
        raise PromptNotFoundError(f"no prompt named {data.prompt!r}")
    check_active("prompt", prompt, doing="evaluating it online")
    scorers = await build_online_scorers(session, specs=data.scorers, judge_model=judge_model)
    await check_runnable(data.scorers, scorers, connections=connections)
    state_scanned_sides(data.scorers)
    label = data.label or ANY_LABEL
    row = await session.scalar(
        select(OnlineEvaluation)
        .where(OnlineEvaluation.prompt_id == prompt.id, OnlineEvaluation.label == label)
        .with_for_update()
    )
    now = utc_now()
    if row is None:
        row = OnlineEvaluation(prompt_id=prompt.id, label=label, sample_rate=0.0, scorers=[])
        row.created_at = now
        session.add(row)
    row.sample_rate = data.sample_rate
    row.scorers = [spec.model_dump(mode="json") for spec in data.scorers]
    row.is_enabled = data.enabled
    row.updated_by, row.updated_at = actor, now
    await session.flush()
    return _read(row, prompt.name)


async def list_online_evaluations(
    session: AsyncSession, *, prompt: str | None = None
) -> list[OnlineEvaluationRead]:
    """Return the online evaluations (of one prompt, or all) by prompt and label."""
    stmt = select(OnlineEvaluation, Prompt.name).join(
        Prompt, col(Prompt.id) == col(OnlineEvaluation.prompt_id)
    )
    if prompt is not None:
        stmt = stmt.where(Prompt.name == prompt)
    rows = await session.execute(stmt.order_by(col(Prompt.name), col(OnlineEvaluation.label)))
    return [_read(row, name) for row, name in rows.tuples()]


async def delete_online_evaluation(session: AsyncSession, *, evaluation_id: int) -> None:
    """Remove an online evaluation; generations already scored keep their scores."""
    row = await session.get(OnlineEvaluation, evaluation_id)
    if row is None:
        raise OnlineEvaluationNotFoundError(f"no online evaluation with id {evaluation_id}")
    await session.delete(row)
    await session.flush()


async def load_snapshot(session: AsyncSession) -> ConfigSnapshot:
    """Read every config (one query) for the evaluator's cache."""
    rows = await session.execute(
        select(OnlineEvaluation, Prompt.name).join(
            Prompt, col(Prompt.id) == col(OnlineEvaluation.prompt_id)
        )
    )
    configs: dict[tuple[str, str], OnlineConfig] = {}
    for row, name in rows.tuples():
        assert row.id is not None
        configs[(name, row.label)] = OnlineConfig(
            id=row.id,
            prompt=name,
            label=None if row.label == ANY_LABEL else row.label,
            sample_rate=row.sample_rate,
            scorers=tuple(ScorerSpec.model_validate(spec) for spec in row.scorers),
            enabled=row.is_enabled,
        )
    return ConfigSnapshot(configs)
