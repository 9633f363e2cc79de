"""Analytics routes: usage aggregates over generations, and drift per prompt version."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.server.deps import Reader, ReadSession
from api.server.params import INT_MAX
from tracing import analytics, drift
from tracing.schemas import Bucket, Dimension, DriftRead, Source, UsageRead

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

Text = Annotated[str | None, Query(max_length=200)]
Days = Annotated[int, Query(ge=1, le=89)]


@router.get("/usage")
async def report_usage(
    session: ReadSession,
    actor: Reader,
    group_by: Annotated[
        list[Dimension] | None, Query(description="Repeat to group by several (default prompt)")
    ] = None,
    bucket: Bucket | None = None,
    start: Annotated[
        datetime | None,
        Query(description="ISO 8601; default end - 7 days (a day or more: widened to whole hours)"),
    ] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601; default now")] = None,
    prompt: Text = None,
    version: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    model: Text = None,
    source: Source | None = None,
) -> UsageRead:
    """Aggregate calls, errors, tokens, cost, latency, scores and safety flags per group."""
    filters = analytics.UsageFilter(
        prompt=prompt, version=version, label=label, model=model, source=source
    )
    return await analytics.usage(
        session,
        group_by=group_by if group_by is not None else ["prompt"],
        bucket=bucket,
        start=start,
        end=end,
        filters=filters,
    )


@router.get("/drift")
async def measure_drift(
    session: ReadSession,
    actor: Reader,
    prompt: Annotated[str, Query(max_length=200)],
    version: Annotated[int, Query(ge=1, le=INT_MAX)],
    metric: Text = None,
    baseline_days: Days = 7,
    recent_days: Days = 1,
    threshold: Annotated[float, Query(gt=0, le=10)] = drift.DEFAULT_THRESHOLD,
) -> DriftRead:
    """Compare a prompt version's recent score and input-length distributions with a baseline."""
    return await drift.drift(
        session,
        prompt=prompt,
        version=version,
        metric=metric,
        baseline=timedelta(days=baseline_days),
        recent=timedelta(days=recent_days),
        threshold=threshold,
    )
