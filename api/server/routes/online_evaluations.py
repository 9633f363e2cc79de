"""Online evaluation routes: which production generations are scored, and by what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.server.deps import AppServices, Reader, ReadSession, Writer, WriteSession, on_commit
from api.server.params import INT_MAX
from evals.online import configs as service
from evals.online.schemas import OnlineEvaluationPut, OnlineEvaluationRead

router = APIRouter(prefix="/v1/online-evaluations", tags=["online evaluations"])


def _refresh_after_commit(services: AppServices, session: WriteSession) -> None:
    if services.online_evaluator is not None:
        on_commit(session, services.online_evaluator.invalidate)


@router.get("")
async def list_online_evaluations(
    session: ReadSession,
    actor: Reader,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
) -> list[OnlineEvaluationRead]:
    """List the online evaluations (of one prompt, or all)."""
    return await service.list_online_evaluations(session, prompt=prompt)


@router.put("")
async def put_online_evaluation(
    data: OnlineEvaluationPut,
    services: AppServices,
    session: WriteSession,
    actor: Writer,
) -> OnlineEvaluationRead:
    """Set the sampling rate and scorers of a prompt's generations (one label, or any)."""
    judge_model = services.settings.online_eval_judge_model
    found = await service.put_online_evaluation(
        session,
        data=data,
        actor=actor.name,
        judge_model=judge_model,
        connections=services.connections,
    )
    _refresh_after_commit(services, session)
    return found


@router.delete("/{evaluation_id}", status_code=204)
async def delete_online_evaluation(
    evaluation_id: Annotated[int, Path(ge=1, le=INT_MAX)],
    services: AppServices,
    session: WriteSession,
    actor: Writer,
) -> None:
    """Stop scoring a prompt's generations (scores already stored stay)."""
    await service.delete_online_evaluation(session, evaluation_id=evaluation_id)
    _refresh_after_commit(services, session)
