"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import Response

from api.server.deps import AppServices
from api.server.errors import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def check_health() -> dict[str, str]:
    """Report that the process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def check_ready(services: AppServices) -> dict[str, Any] | Response:
    """Report whether the database is reachable and migrated to the code's revision."""
    expected = services.schema_head
    try:
        async with services.db.reader() as session:
            current = (
                await session.execute(sa.text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception as exc:  # any database failure means "not ready"
        return problem_response(503, detail=f"database unavailable: {type(exc).__name__}")
    if current != expected:
        return problem_response(
            503, detail=f"database at revision {current}, code expects {expected}: migrate"
        )
    return {"status": "ready", "revision": current or ""}
