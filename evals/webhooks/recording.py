"""What an attempt's outcome does: the delivery's next state, its attempt row, the endpoint's.

Every write is fenced on the claim's lease token: a dispatcher whose lease was taken over
(it looked dead) records nothing; one whose delivery was redelivered by hand while in flight
logs its attempt and leaves the delivery queued. A 2xx delivers; anything else (a redirect
included) fails and is retried on the schedule below (±10% jitter, or the receiver's
Retry-After, clamped to [0, 24 h]) until the schedule runs out: then the delivery is dead. A
410 pauses the endpoint at once; so does failing without a success for `pause_after`. A pause
emits `webhook.endpoint_paused` (to the other endpoints: a paused one gets no new deliveries).
"""

from __future__ import annotations

import email.utils
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from evals.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import DEAD, DELIVERED, PENDING
from prompts import events

# The waits after the 1st, 2nd, ... failed attempt; after the last one fails it is dead.
SCHEDULE: Final = tuple(
    timedelta(seconds=s) for s in (5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400)
)
RETRY_AFTER_MAX: Final = timedelta(hours=24)
TEXT_MAX: Final = 300
GONE: Final = 410
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def receiver_text(text: str) -> str:
    """Return a receiver's text as it is kept: control characters out, at most 300 chars."""
    return _CONTROL_RE.sub(" ", text).strip()[:TEXT_MAX]


@dataclass(frozen=True)
class Outcome:
    """What one attempt got back: a status (None: no answer), text, time, Retry-After."""

    status_code: int | None
    error: str | None
    duration_ms: float
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        """Return whether the receiver took it (2xx; a redirect is a failure)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse a Retry-After header (seconds or an HTTP date), clamped to [0, 24 h]."""
    if not value:
        return None
    value = value.strip()
    wait: timedelta | None = None
    if value.isdigit():
        wait = timedelta(seconds=min(int(value[:12]), int(RETRY_AFTER_MAX.total_seconds())))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        wait = when - now
    return max(timedelta(0), min(wait, RETRY_AFTER_MAX))


def next_wait(attempts: int, outcome: Outcome, rng: random.Random) -> timedelta | None:
    """Return how long until the next attempt after `attempts` failed ones (None: dead)."""
    if attempts > len(SCHEDULE):
        return None
    if outcome.retry_after is not None:
        return outcome.retry_after
    return SCHEDULE[attempts - 1] * rng.uniform(0.9, 1.1)


@dataclass(frozen=True)
class Attempted:
    """A claimed delivery that was sent: whose lease, which endpoint, how many tries before."""

    delivery_id: int
    endpoint_id: int
    token: str
    attempts: int
    is_manual: bool


async def record(
    session: AsyncSession,
    sent: Attempted,
    outcome: Outcome,
    *,
    now: datetime,
    rng: random.Random,
    pause_after: timedelta,
) -> bool:
    """Record an attempt if the claim still holds its lease; return whether it did.

    A claim that lost its lease to a manual redelivery logs the attempt (and the endpoint's
    health) but leaves the delivery as the redelivery set it, and returns False.
    """
    attempts = sent.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "lease_owner": None,
        "lease_expires_at": None,
        "is_manual": False,
    }
    if outcome.ok:
        values.update(status=DELIVERED, delivered_at=now, last_error=None)
    else:
        wait = next_wait(attempts, outcome, rng)
        values.update(status=PENDING if wait is not None else DEAD)
        if wait is not None:
            values["next_attempt_at"] = now + wait
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    fenced = await session.execute(
        sa.update(table)
        .where(table.c.id == sent.delivery_id, table.c.lease_owner == sent.token)
        .values(**values)
        .returning(table.c.id)
    )
    fenced_ok = fenced.first() is not None
    # Lost to a manual redelivery, the attempt still happened and is logged below; the delivery
    # stays queued to be sent again, as the admin asked. Lost to another claim: nothing (the
    # UPDATE changed nothing, and the other outcomes of a batch still count).
    if not fenced_ok and not await _redelivered(session, sent.delivery_id):
        return False
    # Core statements, not the ORM's unit of work: a dispatcher records its answers in batches,
    # and an added row would be flushed by each following query (~3 ms an answer).
    attempts = WebhookAttempt.__table__  # type: ignore[attr-defined]
    await session.execute(
        sa.insert(attempts).values(
            delivery_id=sent.delivery_id,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            is_manual=sent.is_manual,
        )
    )
    await _endpoint_health(session, sent.endpoint_id, outcome, now=now, pause_after=pause_after)
    return fenced_ok


async def _redelivered(session: AsyncSession, delivery_id: int) -> bool:
    """Return whether a claim lost its lease to a manual redelivery (not to another claim)."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    row = await session.execute(
        sa.select(table.c.id).where(
            table.c.id == delivery_id, table.c.lease_owner.is_(None), table.c.is_manual
        )
    )
    return row.first() is not None


async def _endpoint_health(
    session: AsyncSession,
    endpoint_id: int,
    outcome: Outcome,
    *,
    now: datetime,
    pause_after: timedelta,
) -> None:
    if outcome.ok:  # no row to read: a success keeps its answer and ends a run of failures
        table = WebhookEndpoint.__table__  # type: ignore[attr-defined]
        await session.execute(
            sa.update(table)
            .where(table.c.id == endpoint_id)
            .values(
                consecutive_failures=0,
                failing_since=None,
                last_attempt_at=now,
                last_status_code=outcome.status_code,
                last_duration_ms=outcome.duration_ms,
                last_error=outcome.error,
            )
        )
        return
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:  # deleted while the request was in flight (its deliveries went too)
        return
    endpoint.last_attempt_at, endpoint.last_status_code = now, outcome.status_code
    endpoint.last_duration_ms, endpoint.last_error = outcome.duration_ms, outcome.error
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    if endpoint.is_paused:
        return
    if outcome.status_code == GONE:
        await pause(session, endpoint, reason="the receiver answered 410 Gone", now=now)
    elif now - endpoint.failing_since >= pause_after:
        hours = pause_after.total_seconds() / 3600
        reason = f"every attempt failed for {hours:g} h"
        last = f"; last: {outcome.error or '?'}"
        await pause(session, endpoint, reason=reason, detail=last, now=now)


async def pause(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    reason: str,
    now: datetime,
    detail: str = "",
) -> None:
    """Pause an endpoint (no new deliveries, pending ones wait) and tell the others.

    Admins read `reason` and `detail` (the last receiver answer) on the endpoint; the other
    endpoints, which may be third parties, get the name and `reason` only: never the URL (a
    receiver URL can hold a token, as Slack's incoming webhooks do) nor the receiver's text.
    """
    paused = (reason + detail)[:TEXT_MAX]
    endpoint.is_paused, endpoint.paused_reason, endpoint.updated_at = True, paused, now
    data = {"name": endpoint.name, "reason": reason}
    await events.emit(session, events.WEBHOOK_ENDPOINT_PAUSED, data, actor="promptlane")


async def paused_count(session: AsyncSession) -> int:
    """Return how many endpoints are paused (the Prometheus gauge)."""
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(col(WebhookEndpoint.is_paused).is_(True))
    )
    return int(count or 0)
