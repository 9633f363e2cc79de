"""Which due deliveries a dispatcher claims: the oldest no one holds, two per endpoint at most."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.webhooks.models import WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import PENDING

PER_ENDPOINT: Final = 2
CANDIDATES: Final = 200  # due deliveries looked at per look at most, oldest first
_LOOKS: Final = 4  # looks per claim, each leaving out the endpoints already at their two


def lease_free(table: Any, now: datetime) -> Any:
    """Return the condition "no one holds this delivery's lease"."""
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


async def due(
    session: AsyncSession, now: datetime, *, skip: Collection[int] = (), count: int = CANDIDATES
) -> list[tuple[int, int]]:
    """Return (delivery, endpoint) of the `count` oldest due deliveries of others than `skip`."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    endpoints = WebhookEndpoint.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.select(table.c.id, table.c.endpoint_id)
        .join(endpoints, endpoints.c.id == table.c.endpoint_id)
        .where(
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            endpoints.c.is_paused.is_(False),
            lease_free(table, now),
        )
        .order_by(table.c.next_attempt_at)
        .limit(count)
    )
    if skip:
        stmt = stmt.where(table.c.endpoint_id.not_in(sorted(skip)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=table)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


async def pick(session: AsyncSession, now: datetime, limit: int, busy: Counter[int]) -> list[int]:
    """Pick up to `limit` due deliveries, oldest first, at most two per endpoint (`busy` sending).

    Endpoints at their two are left out of the next look: a backlog of one slow endpoint's
    deliveries, older than everyone else's, must not fill the candidates and starve the others
    (without ranking every due delivery on each claim, which costs O(backlog)).
    """
    per_endpoint = Counter(busy)
    picked: list[int] = []
    count = min(CANDIDATES, max(16, limit * 4))  # rows cost: look at a few per free slot
    for _ in range(_LOOKS):
        full = {endpoint for endpoint, n in per_endpoint.items() if n >= PER_ENDPOINT}
        candidates = await due(session, now, skip=full, count=count)
        for delivery_id, endpoint_id in candidates:
            if len(picked) < limit and per_endpoint[endpoint_id] < PER_ENDPOINT:
                per_endpoint[endpoint_id] += 1
                picked.append(delivery_id)
        if len(picked) >= limit or len(candidates) < count:
            break
    return picked
