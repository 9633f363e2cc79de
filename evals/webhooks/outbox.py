"""Fan-out: each pending outbox event becomes one delivery per endpoint subscribed to its type.

An event is fanned out once (`fanned_out_at` set in the same transaction as its deliveries);
the unique (endpoint, event) pair and ON CONFLICT DO NOTHING make a repeat harmless. On
PostgreSQL, replicas fanning out at once skip each other's rows (FOR UPDATE SKIP LOCKED);
SQLite's write transactions take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.webhooks.models import WebhookDelivery, WebhookEndpoint
from evals.webhooks.schemas import ALL_EVENTS
from prompts.base import upsert_insert
from prompts.models import Event

FAN_OUT_LIMIT: Final = 200
_INSERT_CHUNK: Final = 500
PENDING: Final = "pending"
DELIVERED: Final = "delivered"
DEAD: Final = "dead"


def subscribed(event_types: Sequence[str], event_type: str) -> bool:
    """Return whether an endpoint with these types wants an event of `event_type`."""
    return event_type in event_types or ALL_EVENTS in event_types


def delivery_values(*, endpoint_id: int, event_id: int, now: datetime) -> dict[str, Any]:
    """Return the columns of a new pending delivery, due at once."""
    return {
        "endpoint_id": endpoint_id,
        "event_id": event_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "is_manual": False,
        "created_at": now,
    }


async def fan_out(session: AsyncSession, *, now: datetime, limit: int = FAN_OUT_LIMIT) -> int:
    """Turn up to `limit` pending events into deliveries; return how many events were done."""
    stmt = (
        select(Event.id, Event.type)
        .where(col(Event.fanned_out_at).is_(None))
        .order_by(col(Event.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    pending = list((await session.execute(stmt)).tuples())
    if not pending:
        return 0
    endpoints = list(
        (
            await session.execute(
                select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
                    col(WebhookEndpoint.is_paused).is_(False)
                )
            )
        ).tuples()
    )
    rows = [
        delivery_values(endpoint_id=endpoint_id, event_id=event_id, now=now)
        for event_id, event_type in pending
        for endpoint_id, types in endpoints
        if endpoint_id is not None and event_id is not None and subscribed(types, event_type)
    ]
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), _INSERT_CHUNK):
        insert = upsert_insert(session, table).values(rows[start : start + _INSERT_CHUNK])
        await session.execute(
            insert.on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        )
    ids = [event_id for event_id, _ in pending]
    await session.execute(sa.update(Event).where(col(Event.id).in_(ids)).values(fanned_out_at=now))
    return len(pending)
