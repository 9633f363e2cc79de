"""Generations: the recorded LLM calls, listed by trace, prompt version, model or outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.server.deps import ReadSession, Writer
from api.server.params import INT_MAX
from tracing import analytics
from tracing.schemas import GenerationPage, GenerationRead, Source
from tracing.traces import queries

router = APIRouter(prefix="/v1/generations", tags=["analytics"])

Text = Annotated[str | None, Query(max_length=200)]


@router.get("")
async def list_generations(
    session: ReadSession,
    actor: Writer,  # rows may hold recorded content: not for the applications' reader keys
    trace_id: Annotated[
        str | None, Query(pattern=r"^[0-9a-fA-F]{32}$", description="Every call of one trace")
    ] = None,
    prompt: Text = None,
    version: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    model: Text = None,
    source: Source | None = None,
    errors: Annotated[bool | None, Query(description="Only failed (true) or good calls")] = None,
    start: Annotated[datetime | None, Query(description="ISO 8601; default end - 7 days")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601; default now")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> GenerationPage:
    """List generations, newest first (a trace's at any age; else the last 7 days by default)."""
    filters = analytics.UsageFilter(
        prompt=prompt, version=version, label=label, model=model, source=source
    )
    return await analytics.list_generations(
        session,
        filters=filters,
        trace_id=trace_id,
        errors=errors,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )


@router.get("/{generation_id}")
async def read_generation(
    generation_id: Annotated[int, Path(ge=1, le=INT_MAX, description="Generation id")],
    session: ReadSession,
    actor: Writer,  # it may hold recorded content, like the list
) -> GenerationRead:
    """Return one generation with every stored field (content only where it was recorded)."""
    return await queries.read_generation(session, generation_id)
