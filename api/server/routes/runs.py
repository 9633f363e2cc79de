"""Run routes: start a suite on a prompt version, follow it, read results, cancel, compare."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from api.db import Database
from api.server.deps import AppServices, Reader, ReadSession, Writer, WriteSession, on_commit
from api.server.params import INT_MAX
from evals.reports import RunComparison, RunItemRead, RunProgress, RunRead, RunStatus
from evals.runs import compare, service
from evals.schemas import RunCreate
from prompts.schemas import Page

router = APIRouter(prefix="/v1/runs", tags=["runs"])

RunId = Annotated[int, Path(ge=1, le=INT_MAX, description="Run id")]
FINISHED = {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}


def _submit(services: AppServices, run_id: int) -> None:
    if services.executor is not None:
        services.executor.submit(run_id)


@router.post("", status_code=202)
async def start_run(
    data: RunCreate, services: AppServices, session: WriteSession, actor: Writer
) -> RunRead:
    """Queue a run of a suite on a prompt version (by number or label); 202 with its id."""
    run = await service.start_run(session, data=data, actor=actor.name)
    on_commit(session, lambda: _submit(services, run.id))
    return run


@router.get("")
async def list_runs(
    session: ReadSession,
    actor: Reader,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
    suite: Annotated[str | None, Query(max_length=200)] = None,
    status: RunStatus | None = None,
    before: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="Only runs with a smaller id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Page[RunRead]:
    """List runs, newest first."""
    return await service.list_runs(
        session,
        prompt=prompt,
        suite=suite,
        status=status,
        before=before,
        limit=limit,
        offset=offset,
    )


@router.get("/compare")
async def compare_runs(
    session: ReadSession,
    actor: Reader,
    a: Annotated[int, Query(ge=1, le=INT_MAX)],
    b: Annotated[int, Query(ge=1, le=INT_MAX)],
    changed: Annotated[
        bool, Query(description="Only items whose scores or pass/fail changed")
    ] = False,
    limit: Annotated[
        int | None, Query(ge=1, le=500, description="Items per page (none: every item)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> RunComparison:
    """Compare two runs: per-metric and per-item deltas (b minus a), items paged."""
    return await compare.compare_runs(
        session, a=a, b=b, changed=changed, limit=limit, offset=offset
    )


@router.get("/{run_id}")
async def get_run(run_id: RunId, session: ReadSession, actor: Reader) -> RunRead:
    """Return a run: status, progress, summary, gate verdict and manifest."""
    return await service.get_run(session, run_id=run_id)


@router.get("/{run_id}/items")
async def list_run_items(
    run_id: RunId,
    session: ReadSession,
    actor: Reader,
    failed: Annotated[bool, Query(description="Only errors and failed scores")] = False,
    position: Annotated[
        int | None, Query(ge=0, le=INT_MAX, description="Only this dataset position")
    ] = None,
    variant: Annotated[str, Query(pattern="^(candidate|baseline)$")] = "candidate",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Page[RunItemRead]:
    """Return a run's item results, in dataset order."""
    return await service.run_items(
        session,
        run_id=run_id,
        failed=failed,
        position=position,
        variant=variant,
        limit=limit,
        offset=offset,
    )


@router.post("/{run_id}/cancel")
async def cancel_run(run_id: RunId, session: WriteSession, actor: Writer) -> RunRead:
    """Ask a run to stop; it stops after its current batch."""
    return await service.request_cancel(session, run_id=run_id)


@router.post("/{run_id}/resume")
async def resume_run(
    run_id: RunId, services: AppServices, session: WriteSession, actor: Writer
) -> RunRead:
    """Resume a run whose worker went away (or that failed); finished items are kept."""
    run = await service.request_resume(session, run_id=run_id)
    on_commit(session, lambda: _submit(services, run.id))
    return run


# A comment line this often while nothing changes keeps proxies and browsers from timing out an
# idle stream (a run waiting in the queue, a slow judge) and shows a dead client sooner.
KEEPALIVE_SECONDS = 15.0


async def _progress(db: Database, run_id: int, interval: float) -> AsyncIterator[str]:
    last: tuple[Any, ...] | None = None
    sent = time.monotonic()
    while True:
        async with db.reader() as session:
            run = await service.get_run(session, run_id=run_id)
        state = (run.status, run.completed, run.errors)
        if state != last:
            last = state
            progress = RunProgress(
                id=run.id,
                status=run.status,
                completed=run.completed,
                total=run.total,
                errors=run.errors,
            )
            yield f"event: progress\ndata: {progress.model_dump_json()}\n\n"
            sent = time.monotonic()
        elif time.monotonic() - sent >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            sent = time.monotonic()
        if run.status in FINISHED:
            yield f"event: done\ndata: {run.model_dump_json()}\n\n"
            return
        await asyncio.sleep(interval)


@router.get(
    "/{run_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def run_events(
    run_id: RunId, services: AppServices, session: ReadSession, actor: Reader
) -> StreamingResponse:
    """Stream a run's progress as server-sent events until it finishes."""
    await service.get_run(session, run_id=run_id)
    return StreamingResponse(
        _progress(services.db, run_id, services.settings.run_events_interval),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
