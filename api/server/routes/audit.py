"""The audit trail's check: the hash chain and the evidence behind every gated move."""

from __future__ import annotations

from fastapi import APIRouter

from api.server.deps import AppSettings, Reader, ReadSession
from evals.promotion.audit import verify_audit
from evals.promotion.reports import AuditReport

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/verify")
async def verify(session: ReadSession, settings: AppSettings, actor: Reader) -> AuditReport:
    """Check the label and policy audit chain and every gated move's evidence."""
    return await verify_audit(session, protected=frozenset(settings.protected_labels))
