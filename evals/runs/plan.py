"""What a run executes, loaded once when it starts: targets, items, scorers, pending work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.resolver import ConnectionSource
from evals.llm.client import Completion
from evals.models import DatasetItem, Run, RunItem, SuiteVersion
from evals.reports import RunCanary, RunOverrides
from evals.runs.results import BASELINE, CANDIDATE
from evals.schemas import SuiteSpec
from evals.scorers.base import Scorer
from evals.scorers.context import JudgeModel, JudgePrompt, ScorerContext
from evals.scorers.registry import build_scorers
from promptlane_client.render import DEFAULT_BUDGET, PromptContent, RenderBudget
from prompts import service as prompts
from prompts.models import Prompt, PromptVersion
from prompts.schemas import parse_prompt_ref
from prompts.service import content_of
from tracing.telemetry import PromptRef


@dataclass(frozen=True)
class Target:
    """A prompt version as the runner calls it."""

    name: str
    version: PromptVersion
    content: PromptContent
    label: str | None = None

    def ref(self, run_id: int) -> PromptRef:
        """Return the prompt version as spans and metrics name it."""
        v = self.version
        return PromptRef(self.name, v.version, self.label, v.content_hash, run_id)

    @property
    def model(self) -> str:
        """Return the model string of the version's config."""
        return str(self.version.config.get("model"))


@dataclass
class Plan:
    """Everything a run needs, loaded once when it starts."""

    run_id: int
    spec: SuiteSpec
    targets: dict[str, Target]
    items: list[DatasetItem]
    scorers: list[Scorer]
    pending: list[tuple[str, int, int]]
    cached: dict[str, Completion] = field(default_factory=dict)
    canary: RunCanary | None = None


def effective_spec(spec: SuiteSpec, manifest: dict[str, Any]) -> SuiteSpec:
    """Return the suite's spec with the run's recorded overrides applied."""
    recorded = manifest.get("overrides")
    if not recorded:
        return spec
    overrides = RunOverrides.model_validate(recorded)
    changes = {
        "concurrency": overrides.concurrency or spec.concurrency,
        "repeats": overrides.repeats or spec.repeats,
    }
    return spec.model_copy(update=changes)


async def load_plan(
    session: AsyncSession,
    *,
    run_id: int,
    model: JudgeModel,
    connections: ConnectionSource | None = None,
    render_budget: RenderBudget = DEFAULT_BUDGET,
) -> Plan:
    """Load a run's targets, items and scorers, and the (variant, index, repeat) still to do."""
    run = await session.get(Run, run_id)
    assert run is not None
    spec = effective_spec(SuiteSpec.model_validate(await _suite_spec(session, run)), run.manifest)
    targets = {CANDIDATE: await _target(session, run.prompt_version_id, run.label)}
    if run.baseline_version_id is not None:
        targets[BASELINE] = await _target(session, run.baseline_version_id)
    items = list(
        await session.scalars(
            select(DatasetItem)
            .where(DatasetItem.dataset_version_id == run.dataset_version_id)
            .order_by(col(DatasetItem.position))
        )
    )
    done = set(
        (
            await session.execute(
                select(RunItem.variant, RunItem.position, RunItem.repeat).where(
                    RunItem.run_id == run_id
                )
            )
        ).tuples()
    )
    judges = await _judge_prompts(session, run.manifest.get("judges", {}))
    ctx = ScorerContext(
        model=model, judges=judges, connections=connections, render_budget=render_budget
    )
    scorers = build_scorers(spec.scorers, ctx)
    pending = [
        (variant, index, repeat)
        for variant in targets
        for index in range(len(items))
        for repeat in range(spec.repeats)
        if (variant, items[index].position, repeat) not in done
    ]
    recorded = run.manifest.get("canary")
    canary = RunCanary.model_validate(recorded) if recorded else None
    return Plan(run_id, spec, targets, items, scorers, pending, canary=canary)


async def _suite_spec(session: AsyncSession, run: Run) -> dict[str, Any]:
    row = await session.get(SuiteVersion, run.suite_version_id)
    assert row is not None
    return row.spec


async def _target(session: AsyncSession, version_id: int, label: str | None = None) -> Target:
    version = await session.get(PromptVersion, version_id)
    assert version is not None
    prompt = await session.get(Prompt, version.prompt_id)
    assert prompt is not None
    return Target(prompt.name, version, content_of(version), label)


async def _judge_prompts(
    session: AsyncSession, pinned: dict[str, dict[str, Any]]
) -> dict[str, JudgePrompt]:
    """Load the exact judge versions the run's manifest pinned when it was created."""
    judges: dict[str, JudgePrompt] = {}
    for ref, entry in pinned.items():
        name, _, _ = parse_prompt_ref(ref)
        _, version = await prompts.find_version(session, name=name, version=entry["version"])
        judges[ref] = JudgePrompt.from_version(name, version)
    return judges
