"""The read side of whole traces: the trace list, one trace's tree, one generation.

The list pages over traces with a span that started in the range (newest first, by their
first span in the range), then sums each trace of the page over all its spans and
generations. Only ingested traces are listed (the `spans` table); a trace's tree also holds
the gateway's and eval runs' generations of the same trace id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.analytics import time_range
from tracing.errors import GenerationNotFoundError, TraceNotFoundError
from tracing.models import Generation, Span
from tracing.schemas import GenerationRead
from tracing.traces.schemas import TracePage, TraceRead, TraceSummary
from tracing.traces.tree import build_tree

S: Final = cast(sa.Table, Span.__table__)  # type: ignore[attr-defined]
G: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
MAX_TRACE_SPANS: Final = 10_000  # spans (and generations) one trace answer holds at most
_ERRORS: Final = sa.func.sum(sa.case((S.c.is_error, 1), else_=0))


def _page_query(
    begin: datetime, stop: datetime, *, service: str | None, prompt: str | None, errors: bool | None
) -> sa.Select[Any]:
    in_range = [S.c.started_at >= begin, S.c.started_at < stop]
    query = sa.select(S.c.trace_id, sa.func.min(S.c.started_at).label("first")).where(*in_range)
    if service is not None:
        of_service = sa.select(S.c.trace_id).where(*in_range, S.c.service_name == service)
        query = query.where(S.c.trace_id.in_(of_service))
    if prompt is not None:
        of_prompt = sa.select(G.c.trace_id).where(
            G.c.prompt_name == prompt, G.c.started_at >= begin, G.c.started_at < stop
        )
        query = query.where(S.c.trace_id.in_(of_prompt))
    query = query.group_by(S.c.trace_id)
    if errors is not None:
        query = query.having(_ERRORS > 0 if errors else _ERRORS == 0)
    return query


async def _span_totals(session: AsyncSession, ids: Sequence[str]) -> dict[str, Any]:
    rows = await session.execute(
        sa.select(
            S.c.trace_id,
            sa.func.count().label("spans"),
            _ERRORS.label("errors"),
            sa.func.min(S.c.started_at).label("started"),
            sa.func.max(S.c.ended_at).label("ended"),
        )
        .where(S.c.trace_id.in_(ids))
        .group_by(S.c.trace_id)
    )
    return {row.trace_id: row for row in rows}


async def _roots(session: AsyncSession, ids: Sequence[str]) -> dict[str, Any]:
    rows = await session.execute(
        sa.select(S.c.trace_id, S.c.name, S.c.service_name, S.c.duration_ms)
        .where(S.c.trace_id.in_(ids), S.c.parent_span_id.is_(None))
        .order_by(S.c.started_at.desc())
    )
    return {row.trace_id: row for row in rows}  # the earliest root wins


async def _generation_totals(session: AsyncSession, ids: Sequence[str]) -> dict[str, Any]:
    rows = await session.execute(
        sa.select(
            G.c.trace_id,
            sa.func.count().label("calls"),
            sa.func.coalesce(sa.func.sum(G.c.input_tokens), 0).label("input_tokens"),
            sa.func.coalesce(sa.func.sum(G.c.output_tokens), 0).label("output_tokens"),
            sa.func.coalesce(sa.func.sum(G.c.cost_usd), 0.0).label("cost_usd"),
        )
        .where(G.c.trace_id.in_(ids))
        .group_by(G.c.trace_id)
    )
    return {row.trace_id: row for row in rows}


def _duration(root: Any, totals: Any) -> float | None:
    if root is not None and root.duration_ms is not None:
        return float(root.duration_ms)
    if totals.ended is None:
        return None
    return max(float((totals.ended - totals.started).total_seconds()) * 1000, 0.0)


async def list_traces(
    session: AsyncSession,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    service: str | None = None,
    prompt: str | None = None,
    errors: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> TracePage:
    """List traces with a span in [start, end) (default: the last 7 days), newest first."""
    begin, stop = time_range(start, end, now=now)
    grouped = _page_query(begin, stop, service=service, prompt=prompt, errors=errors).subquery()
    total = await session.scalar(sa.select(sa.func.count()).select_from(grouped))
    page = await session.execute(
        sa.select(grouped.c.trace_id)
        .order_by(grouped.c.first.desc(), grouped.c.trace_id.desc())
        .limit(limit)
        .offset(offset)
    )
    ids = [row.trace_id for row in page]
    spans, roots, calls = (
        await _span_totals(session, ids),
        await _roots(session, ids),
        await _generation_totals(session, ids),
    )
    items = []
    for trace_id in ids:
        totals, root, gens = spans[trace_id], roots.get(trace_id), calls.get(trace_id)
        items.append(
            TraceSummary(
                trace_id=trace_id,
                name=root.name if root is not None else None,
                service_name=root.service_name if root is not None else None,
                started_at=totals.started,
                duration_ms=_duration(root, totals),
                spans=totals.spans,
                errors=int(totals.errors or 0),
                generations=gens.calls if gens is not None else 0,
                input_tokens=int(gens.input_tokens) if gens is not None else 0,
                output_tokens=int(gens.output_tokens) if gens is not None else 0,
                cost_usd=float(gens.cost_usd) if gens is not None else 0.0,
            )
        )
    return TracePage(items=items, total=total or 0, limit=limit, offset=offset)


async def _of_trace(
    session: AsyncSession, model: type[Any], table: sa.Table, trace_id: str
) -> list[Any]:
    """Return a trace's rows of `model` by start time, one more than an answer holds."""
    statement = (
        sa.select(model)
        .where(table.c.trace_id == trace_id)
        .order_by(table.c.started_at)
        .limit(MAX_TRACE_SPANS + 1)
    )
    return list(await session.scalars(statement))


async def read_trace(session: AsyncSession, trace_id: str) -> TraceRead:
    """Return one trace as a tree of its spans with its generations in place."""
    trace_id = trace_id.lower()
    spans: list[Span] = await _of_trace(session, Span, S, trace_id)
    generations: list[Generation] = await _of_trace(session, Generation, G, trace_id)
    if not spans and not generations:
        raise TraceNotFoundError(f"no span or generation of trace {trace_id} is stored")
    truncated = len(spans) > MAX_TRACE_SPANS or len(generations) > MAX_TRACE_SPANS
    spans, generations = spans[:MAX_TRACE_SPANS], generations[:MAX_TRACE_SPANS]
    starts = [s.started_at for s in spans] + [g.started_at for g in generations]
    ends = [s.ended_at for s in spans if s.ended_at is not None]
    roots = build_tree(spans, generations)
    root_span = next((r for r in roots if r.parent_span_id is None and r.name is not None), None)
    duration = root_span.duration_ms if root_span is not None else None
    if duration is None and ends:
        duration = max((max(ends) - min(starts)).total_seconds() * 1000, 0.0)
    return TraceRead(
        trace_id=trace_id,
        started_at=min(starts),
        duration_ms=duration,
        spans=len(spans),
        generations=len(generations),
        errors=sum(s.is_error for s in spans),
        input_tokens=sum(g.input_tokens or 0 for g in generations),
        output_tokens=sum(g.output_tokens or 0 for g in generations),
        cost_usd=sum(g.cost_usd or 0.0 for g in generations),
        truncated=truncated,
        roots=roots,
    )


async def read_generation(session: AsyncSession, generation_id: int) -> GenerationRead:
    """Return one generation with every stored field."""
    generation = await session.get(Generation, generation_id)
    if generation is None:
        raise GenerationNotFoundError(f"no generation has id {generation_id}")
    return GenerationRead.model_validate(generation)
