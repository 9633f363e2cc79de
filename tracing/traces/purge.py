"""Retention: spans older than the window are deleted in small batches; generations stay.

A span is kept for the trace tree and for linking the spans that arrive after it; after the
retention window neither is needed. Generations are the record of spend and quality (usage,
drift, online scores) and are never purged here. Deletes go in batches, each its own
transaction, so a purge never holds a long lock or a huge WAL entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.base import utc_now
from tracing.models import Span

TABLE: Final = cast(sa.Table, Span.__table__)  # type: ignore[attr-defined]
BATCH: Final = 5000


def cutoff(retention_days: int, *, now: datetime | None = None) -> datetime:
    """Return the start time before which spans are out of the retention window."""
    return (now or utc_now()) - timedelta(days=retention_days)


async def purge_spans(session: AsyncSession, *, before: datetime, limit: int = BATCH) -> int:
    """Delete at most `limit` spans started before `before`; return how many were deleted."""
    oldest = (
        sa.select(TABLE.c.trace_id, TABLE.c.span_id).where(TABLE.c.started_at < before).limit(limit)
    )
    keys = sa.tuple_(TABLE.c.trace_id, TABLE.c.span_id)
    result = await session.execute(sa.delete(TABLE).where(keys.in_(oldest)))
    return max(cast(sa.CursorResult[object], result).rowcount, 0)
