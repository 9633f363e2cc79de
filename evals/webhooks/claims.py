"""Which due deliveries a dispatcher claims: the oldest no one holds, two per endpoint at most."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.webhooks.models import WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import PENDING

PER_ENDPOINT: Final = 2
CANDIDATES: Final = 200  # due deliveries looked at per claim, oldest first


def lease_free(table: Any, now: datetime) -> Any:
    """Return the condition "no one holds this delivery's lease"."""
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


async def due(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """Return (delivery, endpoint) of the oldest due deliveries no one holds, two per endpoint.

    Ranked per endpoint before the limit: a backlog of one slow endpoint's deliveries, older
    than everyone else's, must not fill the candidates and starve the other endpoints.
    """
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    endpoints = WebhookEndpoint.__table__  # type: ignore[attr-defined]
    rank = sa.func.row_number().over(
        partition_by=table.c.endpoint_id, order_by=(table.c.next_attempt_at, table.c.id)
    )
    ranked = (
        sa.select(table.c.id, table.c.next_attempt_at, rank.label("rank"))
        .join(endpoints, endpoints.c.id == table.c.endpoint_id)
        .where(
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            endpoints.c.is_paused.is_(False),
            lease_free(table, now),
        )
        .subquery()
    )
    oldest = (
        sa.select(ranked.c.id)
        .where(ranked.c.rank <= PER_ENDPOINT)
        .order_by(ranked.c.next_attempt_at)
        .limit(CANDIDATES)
    )
    stmt = (
        sa.select(table.c.id, table.c.endpoint_id)
        .where(table.c.id.in_(oldest))
        .order_by(table.c.next_attempt_at)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


def spread(due: list[tuple[int, int]], limit: int, busy: Counter[int]) -> list[int]:
    """Pick up to `limit` deliveries, oldest first, at most two per endpoint (`busy` sending)."""
    per_endpoint = Counter(busy)
    picked: list[int] = []
    if limit <= 0:
        return picked
    for delivery_id, endpoint_id in due:
        if per_endpoint[endpoint_id] < PER_ENDPOINT:
            per_endpoint[endpoint_id] += 1
            picked.append(delivery_id)
            if len(picked) == limit:
                break
    return picked
