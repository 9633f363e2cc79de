"""The audit trail's check: the hash chain and the evidence behind every gated move."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.identity.auth import Reader
from api.server.deps import ReadSession
from api.settings import Settings
from evals.promotion.audit import verify_audit
from evals.promotion.reports import AuditReport

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/verify")
async def verify(request: Request, session: ReadSession, actor: Reader) -> AuditReport:
    """Check the label and policy audit chain and every gated move's evidence."""
    settings: Settings = request.app.state.settings
    return await verify_audit(session, protected=frozenset(settings.protected_labels))
