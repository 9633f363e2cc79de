"""Prometheus metrics (no API key unless PROMPTLANE_METRICS_PUBLIC=false)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.server.deps import AppServices, require
from prompts.policy import Role
from tracing.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])
_reader = require(Role.READER)


@router.get("/metrics", response_class=Response)
async def export_metrics(request: Request, services: AppServices) -> Response:
    """Return token usage, durations, cost, scores, safety flags and fetches for Prometheus."""
    if not services.settings.metrics_public:
        await _reader(request, services)
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE)
