"""Retention of the outbox: finished deliveries and the events nothing waits for, in batches.

A delivery is finished when it was delivered or is dead; finished ones created before the
cutoff go, their attempts with them (ON DELETE CASCADE). An event goes once it is older than
the cutoff, was fanned out, and has no delivery left: a pending delivery (due, retrying, or
waiting for a paused endpoint) keeps its event, and is never deleted here. Deliveries go
first, so an event's finished deliveries are gone before the event is looked at; the status
is in the DELETE's own WHERE, so a delivery a redelivery made pending again meanwhile stays.
Each batch is the caller's short transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.webhooks.models import WebhookDelivery
from evals.webhooks.outbox import DEAD, DELIVERED
from prompts.models import Event

BATCH: Final = 5000
FINISHED: Final = (DELIVERED, DEAD)
_DELIVERIES: Final = cast(sa.Table, WebhookDelivery.__table__)  # type: ignore[attr-defined]
_EVENTS: Final = cast(sa.Table, Event.__table__)  # type: ignore[attr-defined]


def _count(result: sa.Result[Any]) -> int:
    return max(cast(sa.CursorResult[Any], result).rowcount, 0)


async def purge_deliveries(session: AsyncSession, *, before: datetime, limit: int = BATCH) -> int:
    """Delete at most `limit` finished deliveries created before `before` (and their attempts)."""
    table = _DELIVERIES
    finished = table.c.status.in_(FINISHED)
    oldest = (
        sa.select(table.c.id)
        .where(finished, table.c.created_at < before)
        .order_by(table.c.id)
        .limit(limit)
    )
    # The status again on the row itself: one made pending since the SELECT is not deleted.
    result = await session.execute(sa.delete(table).where(table.c.id.in_(oldest), finished))
    return _count(result)


async def purge_events(session: AsyncSession, *, before: datetime, limit: int = BATCH) -> int:
    """Delete at most `limit` fanned-out events older than `before` with no delivery left."""
    events, deliveries = _EVENTS, _DELIVERIES
    unclaimed = ~sa.exists().where(deliveries.c.event_id == events.c.id)
    oldest = (
        sa.select(events.c.id)
        .where(
            events.c.occurred_at < before,
            events.c.fanned_out_at.is_not(None),
            unclaimed,
        )
        .order_by(events.c.id)
        .limit(limit)
    )
    result = await session.execute(sa.delete(events).where(events.c.id.in_(oldest), unclaimed))
    return _count(result)
