"""Promotion policy routes, their audited history, and the dry run of a label move."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.server.deps import Admin, AppServices, Reader, ReadSession, WriteSession
from api.server.params import INT_MAX, LABEL_PATTERN, NAME_PATTERN
from evals.promotion import policy as service
from evals.promotion.reports import GateReport, PolicyEventRead, PolicyRead
from evals.promotion.schemas import PolicyUpdate
from prompts.schemas import Page

router = APIRouter(tags=["policies"])

Label = Annotated[
    str,
    Path(
        description="Label name, e.g. production",
        max_length=64,
        json_schema_extra={"pattern": LABEL_PATTERN},
    ),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="Items to skip")]


@router.put("/v1/policies/{label}")
async def put_policy(
    label: Label, data: PolicyUpdate, session: WriteSession, actor: Admin
) -> PolicyRead:
    """Set the suite versions a label requires (all prompts, or one); the change is audited."""
    return await service.put_policy(session, label=label, data=data, actor=actor)


@router.get("/v1/policies")
async def list_policies(session: ReadSession, actor: Reader) -> list[PolicyRead]:
    """List every promotion policy with its pinned suite versions."""
    return await service.list_policies(session)


@router.get("/v1/policies/history")
async def policy_history(
    session: ReadSession,
    actor: Reader,
    label: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PolicyEventRead]:
    """List policy changes (created, updated, deleted), newest first, with actor and reason."""
    return await service.policy_history(session, label=label, limit=limit, offset=offset)


@router.delete("/v1/policies/{label}", status_code=204)
async def delete_policy(
    label: Label,
    session: WriteSession,
    actor: Admin,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
    reason: Annotated[str, Query(max_length=2_000)] = "",
) -> None:
    """Remove a label's policy (for all prompts, or the one given); the change is audited."""
    await service.delete_policy(session, label=label, prompt=prompt, actor=actor, reason=reason)


@router.get("/v1/prompts/{name:path}/labels/{label}/check")
async def check_promotion(
    name: Annotated[str, Path(max_length=200, json_schema_extra={"pattern": NAME_PATTERN})],
    label: Label,
    session: ReadSession,
    services: AppServices,
    actor: Reader,
    version: Annotated[int, Query(ge=1, le=INT_MAX)],
) -> GateReport:
    """Dry-run moving a label to a version: the gate report for this key's role, nothing moved."""
    return await services.label_policy.dry_run(
        session, name=name, label=label, version=version, actor=actor
    )
