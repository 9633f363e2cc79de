"""The end of a run: its verdict (or failure) written fenced on the lease, with `run.finished`.

The run's last write and its `run.finished` event share one transaction, so the event exists
exactly when the end was recorded: a worker that lost its lease writes neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from evals.errors import EvalsError
from evals.models import Run, RunItem
from evals.reports import RunManifest, RunStatus
from evals.runs import leases
from evals.runs.plan import Plan
from evals.runs.results import BASELINE, run_verdict
from promptlane_client.errors import TemplateError
from prompts import events
from prompts.base import utc_now
from prompts.errors import PromptsError

SessionFactory = Callable[[], AsyncSession]
# An ended run has no lease: nothing renews it and nothing may claim it.
ENDED: Final[dict[str, Any]] = {"lease_owner": None, "lease_expires_at": None}


def finished_data(run: Run) -> dict[str, Any]:
    """Return what a `run.finished` event says of a run."""
    data: dict[str, Any] = {
        "run_id": run.id,
        "status": run.status,
        "verdict": run.verdict,
        "label": run.label,
        "completed": run.completed,
        "errors": run.errors,
        "total": run.total,
        "error": (run.error or "")[:300] or None,
    }
    try:
        manifest = RunManifest.model_validate(run.manifest)
    except ValidationError:  # a run that broke on its manifest still ends, and says so
        return data
    return {
        **data,
        "prompt": manifest.prompt.name,
        "version": manifest.prompt.version,
        "content_hash": manifest.prompt.content_hash,
        "suite": manifest.suite.name,
        "suite_version": manifest.suite.version,
    }


async def emit_finished(session: AsyncSession, run: Run) -> None:
    """Emit `run.finished` for a run that has just ended, in the transaction that ended it."""
    await events.emit(session, events.RUN_FINISHED, finished_data(run), actor=run.created_by)


async def write_end(
    sessions: SessionFactory, *, run_id: int, owner: str, values: dict[str, Any]
) -> None:
    """Record the run's end if `owner` still holds its lease (LeaseLostError otherwise)."""
    async with sessions() as session:
        await leases.fenced_update(session, run_id=run_id, owner=owner, values={**values, **ENDED})
        run = await session.scalar(
            select(Run).where(Run.id == run_id).execution_options(populate_existing=True)
        )
        assert run is not None
        await emit_finished(session, run)
        await session.commit()


async def finish_run(sessions: SessionFactory, plan: Plan, *, owner: str, cancelled: bool) -> None:
    """Record the verdict of a run whose items are done (or its cancellation)."""
    values: dict[str, Any] = {"status": RunStatus.CANCELLED.value}
    if not cancelled:
        async with sessions() as session:
            rows = list(await session.scalars(select(RunItem).where(RunItem.run_id == plan.run_id)))
        # The paired bootstrap is CPU work: in a thread, so the event loop keeps serving.
        # No item lands meanwhile: only the lease holder writes them, and if it is not us
        # any more the fenced write below refuses this verdict.
        summary, report = await asyncio.to_thread(
            run_verdict, plan.spec, rows, has_baseline=BASELINE in plan.targets
        )
        values = {
            "summary": summary.model_dump(mode="json"),
            "gate": report.model_dump(mode="json"),
            "verdict": report.verdict.value,
            "status": RunStatus.COMPLETED.value,
        }
    await write_end(
        sessions, run_id=plan.run_id, owner=owner, values={**values, "finished_at": utc_now()}
    )


async def fail_run(sessions: SessionFactory, run_id: int, exc: Exception, *, owner: str) -> None:
    """Record that a run failed, and why."""
    detail = exc.detail if isinstance(exc, EvalsError | PromptsError | TemplateError) else repr(exc)
    values = {
        "status": RunStatus.FAILED.value,
        "error": str(detail)[:2_000],
        "finished_at": utc_now(),
    }
    await write_end(sessions, run_id=run_id, owner=owner, values=values)
