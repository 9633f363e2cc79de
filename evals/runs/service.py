"""Runs as data: start one (with its manifest), read it, its items, cancel, resume.

Comparing two runs is evals/runs/compare.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.datasets.service import metadata_id
from evals.errors import RunNotFoundError, RunStateError
from evals.models import Dataset, DatasetItem, DatasetVersion, Run, RunItem, Suite, SuiteVersion
from evals.reports import (
    ItemScore,
    RunCanary,
    RunGateReport,
    RunItemRead,
    RunManifest,
    RunOverrides,
    RunRead,
    RunStatus,
    RunSummary,
    ScorerRef,
    Verdict,
    VersionRef,
)
from evals.runs.canary import new_canary
from evals.runs.finish import emit_finished
from evals.runs.results import CANDIDATE
from evals.schemas import RunCreate, SuiteSpec
from evals.scorers.registry import needs_canary
from evals.suites import get_suite_version
from promptlane_client.hashing import sha256_hex
from prompts import service as prompts
from prompts.archive import check_active
from prompts.base import utc_now
from prompts.models import Prompt, PromptVersion
from prompts.schemas import Page

ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
_SCORES: Final = TypeAdapter(dict[str, ItemScore])


async def _dataset_version(session: AsyncSession, suite: SuiteVersion) -> DatasetVersion:
    """Return the dataset version the suite version pinned when it was pushed (not archived)."""
    found = (
        await session.get(DatasetVersion, suite.dataset_version_id)
        if suite.dataset_version_id is not None
        else None
    )
    if found is None:
        raise RunStateError(
            f"suite version {suite.version} was stored before suites pinned their dataset and "
            "its dataset did not exist then: push the suite again"
        )
    dataset = await session.get(Dataset, found.dataset_id)
    assert dataset is not None
    check_active("dataset", dataset, doing="running suites on it")
    return found


def _ref(name: str, version: PromptVersion) -> VersionRef:
    return VersionRef(name=name, version=version.version, content_hash=version.content_hash)


def build_manifest(
    *,
    prompt: tuple[str, PromptVersion],
    baseline: PromptVersion | None,
    suite: tuple[str, SuiteVersion],
    dataset: tuple[str, DatasetVersion],
    judges: dict[str, dict[str, Any]],
    overrides: RunOverrides | None = None,
    canary: RunCanary | None = None,
) -> RunManifest:
    """Return the manifest: the hashes of everything that decides the run's verdict."""
    spec = SuiteSpec.model_validate(suite[1].spec)
    return RunManifest(
        overrides=overrides,
        repeats=overrides.repeats if overrides and overrides.repeats else spec.repeats,
        prompt=_ref(*prompt),
        baseline=_ref(prompt[0], baseline) if baseline else None,
        suite=VersionRef(
            name=suite[0], version=suite[1].version, content_hash=suite[1].content_hash
        ),
        dataset=VersionRef(
            name=dataset[0], version=dataset[1].version, content_hash=dataset[1].content_hash
        ),
        scorers=[
            ScorerRef(name=s.name, type=s.type, params_hash=sha256_hex(s.params))
            for s in spec.scorers
        ],
        judges={ref: VersionRef.model_validate(pin) for ref, pin in judges.items()},
        canary=canary,
    )


async def start_run(
    session: AsyncSession, *, data: RunCreate, actor: str, candidate: DatasetVersion | None = None
) -> RunRead:
    """Create a queued run of a suite on a prompt version; the executor picks it up.

    `candidate`: another version of the suite's dataset (named by the manifest: never evidence).
    """
    suite, suite_version = await get_suite_version(
        session, name=data.suite, version=data.suite_version
    )
    check_active("suite", suite, doing="running it")
    spec = SuiteSpec.model_validate(suite_version.spec)
    prompt, version = await prompts.find_version(
        session, name=data.prompt, label=data.label, version=data.version
    )
    check_active("prompt", prompt, doing="running suites on it")
    baseline: PromptVersion | None = None
    if spec.baseline is not None:
        holder = data.baseline_label or data.label or prompts.DEFAULT_LABEL
        baseline = await prompts.labelled_version(session, prompt=prompt, label=holder)
        if baseline is not None and baseline.id == version.id:
            baseline = None
    dataset_version = candidate or await _dataset_version(session, suite_version)
    overrides = _overrides(data, spec)
    canary = new_canary() if any(needs_canary(s) for s in spec.scorers) else None
    manifest = build_manifest(
        prompt=(prompt.name, version),
        baseline=baseline,
        suite=(suite.name, suite_version),
        dataset=(spec.dataset.name, dataset_version),
        judges=dict(suite_version.judges),
        overrides=overrides,
        canary=canary,
    ).model_dump(mode="json")
    repeats = data.repeats or spec.repeats
    variants = 2 if baseline is not None else 1
    assert version.id is not None
    assert suite_version.id is not None
    assert dataset_version.id is not None
    run = Run(
        suite_version_id=suite_version.id,
        prompt_version_id=version.id,
        dataset_version_id=dataset_version.id,
        baseline_version_id=baseline.id if baseline else None,
        label=data.label,
        status=RunStatus.QUEUED.value,
        total=dataset_version.item_count * repeats * variants,
        manifest=manifest,
        manifest_hash=sha256_hex(manifest),
        created_by=actor,
        created_at=utc_now(),
    )
    session.add(run)
    await session.flush()
    return run_read(run)


def _overrides(data: RunCreate, spec: SuiteSpec) -> RunOverrides | None:
    if data.concurrency is None and data.repeats is None:
        return None
    return RunOverrides(
        concurrency=data.concurrency, repeats=data.repeats, suite_repeats=spec.repeats
    )


def run_read(run: Run) -> RunRead:
    assert run.id is not None
    manifest = RunManifest.model_validate(run.manifest)
    return RunRead(
        id=run.id,
        suite=manifest.suite.name,
        suite_version=manifest.suite.version,
        prompt=manifest.prompt.name,
        version=manifest.prompt.version,
        content_hash=manifest.prompt.content_hash,
        label=run.label,
        baseline_version=manifest.baseline.version if manifest.baseline else None,
        dataset=manifest.dataset.name,
        dataset_version=manifest.dataset.version,
        status=RunStatus(run.status),
        verdict=Verdict(run.verdict) if run.verdict else None,
        total=run.total,
        completed=run.completed,
        errors=run.errors,
        summary=RunSummary.model_validate(run.summary) if run.summary else None,
        gate=RunGateReport.model_validate(run.gate) if run.gate else None,
        manifest=manifest,
        manifest_hash=run.manifest_hash,
        error=run.error,
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


async def run_row(session: AsyncSession, run_id: int, *, for_update: bool = False) -> Run:
    stmt = select(Run).where(Run.id == run_id)
    if for_update:
        stmt = stmt.with_for_update()
    run: Run | None = await session.scalar(stmt)
    if run is None:
        raise RunNotFoundError(f"no run with id {run_id}")
    return run


async def get_run(session: AsyncSession, *, run_id: int) -> RunRead:
    """Return a run with its progress, summary, gate report and manifest."""
    run = await run_row(session, run_id)
    return run_read(run)


async def list_runs(
    session: AsyncSession,
    *,
    prompt: str | None = None,
    suite: str | None = None,
    status: RunStatus | None = None,
    before: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[RunRead]:
    """List runs, newest first, filtered by prompt, suite, status and `before` (an id)."""
    stmt = select(Run)
    if prompt:
        stmt = stmt.where(
            col(Run.prompt_version_id).in_(
                select(PromptVersion.id).join(Prompt).where(Prompt.name == prompt)
            )
        )
    if suite:
        stmt = stmt.where(
            col(Run.suite_version_id).in_(
                select(SuiteVersion.id).join(Suite).where(Suite.name == suite)
            )
        )
    if status:
        stmt = stmt.where(Run.status == status.value)
    if before is not None:
        stmt = stmt.where(col(Run.id) < before)
    total = await session.scalar(select(sa.func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(stmt.order_by(col(Run.id).desc()).limit(limit).offset(offset))
    items = [run_read(run) for run in rows]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


def item_id(metadata: Mapping[str, Any] | None) -> str | None:
    """Return a dataset item's `metadata.id` as text, as dataset diff matches items by it."""
    found = metadata_id(metadata)
    return None if found is None else str(found) or None


def _item_read(row: RunItem, item: DatasetItem | None = None) -> RunItemRead:
    return RunItemRead(
        input=item.input if item else None,
        expected=item.expected if item else None,
        item_id=item_id(item.item_metadata) if item else None,
        variant=row.variant,
        position=row.position,
        repeat=row.repeat,
        status=row.status,
        output=row.output,
        error=row.error,
        latency_ms=row.latency_ms,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        is_cached=row.is_cached,
        scores=_SCORES.validate_python(row.scores),
    )


async def run_items(
    session: AsyncSession,
    *,
    run_id: int,
    failed: bool = False,
    position: int | None = None,
    variant: str = CANDIDATE,
    limit: int = 100,
    offset: int = 0,
) -> Page[RunItemRead]:
    """Return one page of a run's item results; `failed` keeps errors and failed scores.

    `position` keeps one dataset item (all its repeats): what a link to an item shows.
    """
    run = await run_row(session, run_id)
    where: list[sa.ColumnElement[bool]] = [
        col(RunItem.run_id) == run_id,
        col(RunItem.variant) == variant,
    ]
    if position is not None:
        where.append(col(RunItem.position) == position)
    order = (col(RunItem.position), col(RunItem.repeat))
    if failed:
        # Whether an item failed is read from its scores (JSON), so the filter runs here; it
        # reads three small columns per item, never the inputs and outputs, and loads whole
        # rows for the page only.
        connection = await session.connection()
        marks = await connection.execute(
            sa.select(col(RunItem.id), col(RunItem.status), scores_text())
            .where(*where)
            .order_by(*order)
        )
        ids = [
            id_ for id_, status, text in marks.tuples() if result_failed(status, load_scores(text))
        ]
        total, wanted = len(ids), ids[offset : offset + limit]
        found = await session.scalars(select(RunItem).where(col(RunItem.id).in_(wanted)))
        page = sorted(found, key=lambda r: (r.position, r.repeat))
    else:
        count = sa.select(sa.func.count()).select_from(RunItem).where(*where)
        total = int(await session.scalar(count) or 0)
        page = list(
            await session.scalars(
                select(RunItem).where(*where).order_by(*order).limit(limit).offset(offset)
            )
        )
    dataset = {
        item.position: item
        for item in await session.scalars(
            select(DatasetItem).where(
                DatasetItem.dataset_version_id == run.dataset_version_id,
                col(DatasetItem.position).in_({r.position for r in page}),
            )
        )
    }
    items = [_item_read(r, dataset.get(r.position)) for r in page]
    return Page(items=items, total=total, limit=limit, offset=offset)


def scores_text() -> sa.Cast[str]:
    """Return the items' scores column as text, for reads of every item of a run.

    Such reads go through Core and decode with `load_scores`: on a 10,000-item run the ORM's
    row processing and JSON type took about five times as long as the query itself.
    """
    return sa.cast(col(RunItem.scores), sa.Text)


def load_scores(text: str | None) -> dict[str, Any]:
    """Return the scores read as text by `scores_text`."""
    scores: dict[str, Any] = json.loads(text) if text else {}
    return scores


def is_failed(row: RunItem) -> bool:
    """Return whether an item errored or any of its scores did not pass."""
    return result_failed(row.status, row.scores)


def result_failed(status: str, scores: Mapping[str, Any]) -> bool:
    """Return whether a result with this status and these scores (JSON) failed."""
    if status != "ok":
        return True
    return any("error" in score or score.get("passed") is False for score in scores.values())


async def request_cancel(session: AsyncSession, *, run_id: int) -> RunRead:
    """Ask a run to stop; a queued run that no one has claimed stops at once (`run.finished`)."""
    run = await run_row(session, run_id, for_update=True)
    if run.status not in ACTIVE:
        raise RunStateError(f"run {run_id} is {run.status}; only queued or running runs cancel")
    run.is_cancel_requested = True
    now = utc_now()
    if run.status == RunStatus.QUEUED.value and (
        run.lease_expires_at is None or run.lease_expires_at < now
    ):
        run.status, run.finished_at, run.lease_owner = RunStatus.CANCELLED.value, now, None
        await emit_finished(session, run)
    await session.flush()
    return run_read(run)


async def request_resume(session: AsyncSession, *, run_id: int) -> RunRead:
    """Make a stopped-by-crash or failed run claimable again; finished items are kept."""
    run = await run_row(session, run_id, for_update=True)
    now = utc_now()
    if run.status in (RunStatus.COMPLETED.value, RunStatus.CANCELLED.value):
        raise RunStateError(f"run {run_id} is {run.status} and cannot resume")
    if (
        run.status == RunStatus.RUNNING.value
        and run.lease_expires_at
        and (run.lease_expires_at > now)
    ):
        raise RunStateError(f"run {run_id} is running (its worker renewed its lease recently)")
    run.status, run.error, run.lease_owner, run.lease_expires_at = (
        RunStatus.QUEUED.value,
        None,
        None,
        None,
    )
    await session.flush()
    return run_read(run)
