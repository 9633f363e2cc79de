"""The dataset trigger: a new version of a dataset a pinned suite uses, tried on the label.

The pinned suite runs on the version the label holds with the candidate dataset version; the
pin never changes, and the run is never gate evidence (its manifest names the candidate, which
the pin does not). A check is keyed by the candidate and the label's version, so each new
dataset version is tried once per version the label holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import EvalsError
from evals.models import Dataset, DatasetVersion
from evals.monitors.firing import Check, finish
from evals.promotion.policy import policy_for
from evals.promotion.reports import SuitePin
from evals.runs.service import start_run
from evals.schemas import RunCreate
from prompts.errors import PromptsError


@dataclass(frozen=True)
class Candidate:
    """A dataset's newest version, newer than the one some pinned suites use."""

    dataset: str
    version: DatasetVersion
    pins: list[SuitePin]

    def key(self, label_version: int) -> str:
        """Return the period key of trying it on a version of the label."""
        return f"dataset:{self.version.id}:v{label_version}"


async def _newest(session: AsyncSession, dataset: str) -> DatasetVersion | None:
    found: DatasetVersion | None = await session.scalar(
        select(DatasetVersion)
        .join(Dataset, col(Dataset.id) == col(DatasetVersion.dataset_id))
        .where(Dataset.name == dataset, col(Dataset.archived_at).is_(None))
        .order_by(col(DatasetVersion.version).desc())
        .limit(1)
    )
    return found


async def candidates(session: AsyncSession, *, prompt: str, label: str) -> list[Candidate]:
    """Return each dataset of the label's pinned suites that has a newer version than pinned."""
    policy = await policy_for(session, label=label, prompt=prompt)
    if policy is None:
        return []
    by_dataset: dict[str, list[SuitePin]] = {}
    for raw in policy.pins:
        pin = SuitePin.model_validate(raw)
        by_dataset.setdefault(pin.dataset, []).append(pin)
    found = []
    for dataset, pins in sorted(by_dataset.items()):
        newest = await _newest(session, dataset)
        older = [p for p in pins if newest is not None and p.dataset_version < newest.version]
        if newest is not None and older:
            found.append(Candidate(dataset, newest, older))
    return found


async def start_candidate_check(
    session: AsyncSession, check: Check, candidate: Candidate, *, content_hash: str
) -> tuple[str, dict[str, Any]]:
    """Start the pinned suites on the candidate dataset version; return status and evidence."""
    evidence: dict[str, Any] = {
        "trigger": "dataset",
        "version": check.version,
        "content_hash": content_hash,
        "dataset": candidate.dataset,
        "dataset_version": candidate.version.version,
        "pinned_dataset_versions": {p.suite: p.dataset_version for p in candidate.pins},
        "runs": [],
    }
    try:
        for pin in candidate.pins:
            data = RunCreate(
                suite=pin.suite,
                suite_version=pin.version,
                prompt=check.prompt,
                version=check.version,
            )
            actor = f"monitor:{check.monitor}"
            run = await start_run(session, data=data, actor=actor, candidate=candidate.version)
            evidence["runs"].append(
                {"run_id": run.id, "suite": pin.suite, "suite_version": pin.version}
            )
    except (EvalsError, PromptsError) as exc:
        evidence["detail"] = f"could not start a run: {exc.detail}"[:2_000]
        await finish(session, check, "error", evidence)
        return "error", evidence
    return "running", evidence
