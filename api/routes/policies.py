"""Promotion policy routes, and the dry run of a label move."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.auth import Admin, Reader
from api.deps import ReadSession, WriteSession
from evals import policy as service
from evals.schemas import PolicyRead, PolicyUpdate

router = APIRouter(tags=["policies"])

Label = Annotated[str, Path(description="Label name, e.g. production", max_length=64)]


@router.put("/v1/policies/{label}")
async def put_policy(
    label: Label, data: PolicyUpdate, session: WriteSession, actor: Admin
) -> PolicyRead:
    """Set what a label demands before a version may take it (all prompts, or one)."""
    return await service.put_policy(session, label=label, data=data, actor=actor.name)


@router.get("/v1/policies")
async def list_policies(session: ReadSession, actor: Reader) -> list[PolicyRead]:
    """List every promotion policy."""
    return await service.list_policies(session)


@router.delete("/v1/policies/{label}", status_code=204)
async def delete_policy(
    label: Label,
    session: WriteSession,
    actor: Admin,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
) -> None:
    """Remove a label's policy (for all prompts, or the one given)."""
    await service.delete_policy(session, label=label, prompt=prompt)


@router.get("/v1/prompts/{name:path}/labels/{label}/check")
async def check_promotion(
    name: Annotated[str, Path(max_length=200)],
    label: Label,
    session: ReadSession,
    actor: Reader,
    version: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    """Dry-run moving a label to a version: the gate report, nothing moved."""
    return await service.check_promotion(session, name=name, label=label, version=version)
