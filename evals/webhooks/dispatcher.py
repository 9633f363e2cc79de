"""The dispatcher: fans the outbox out, claims due deliveries with a lease, sends, records.

A round is short transactions around HTTP, never one across it: claim as many due deliveries
as may be in flight (`concurrency`, at most two per endpoint: a conditional UPDATE sets a lease
token; SKIP LOCKED on PostgreSQL), commit, send each as its own task, then record each outcome
fenced on the token (evals/webhooks/recording.py). Every claimed request starts at once, so a
round ends within the timeout and the lease outlives it. A dispatcher that died mid-send leaves
leases that expire, and another one (or its restart) sends those deliveries again with the same
`webhook-id`: receivers deduplicate on it. Requests never follow redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.crypto import SecretBox, UndecryptableSecretError
from evals.webhooks import payloads, recording, signing
from evals.webhooks.models import WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import FAN_OUT_LIMIT, PENDING, fan_out
from evals.webhooks.recording import Attempted, Outcome, receiver_text
from prompts.base import utc_now
from prompts.models import Event
from tracing.metrics import Metrics

log = logging.getLogger("promptlane.webhooks")

SessionFactory = Callable[[], AsyncSession]
PER_ENDPOINT: Final = 2
_CANDIDATES: Final = 200  # due deliveries looked at per claim, oldest first
_ROUNDS: Final = 20  # claim-send-record rounds per tick; the next tick goes on at once
_READ_MAX: Final = 4_096  # bytes of an answer read: enough for 300 characters of text
USER_AGENT: Final = "promptlane-webhooks/1"


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher leased: where it goes, what it says, with which secrets."""

    attempted: Attempted
    url: str
    body: bytes
    webhook_id: str
    secrets: tuple[str, ...]


class Dispatcher:
    """Delivers webhooks; one per process, its clock, randomness and transport injectable."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        box: SecretBox,
        timeout: float = 10.0,
        concurrency: int = 8,
        pause_after: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`clock` dates attempts and signatures; `rng` jitters the retry waits."""
        self.sessions = sessions
        self.box = box
        self.timeout = timeout
        self.lease = timedelta(seconds=timeout * 2 + 30)
        self.concurrency = concurrency
        self.pause_after = pause_after
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self.metrics = metrics
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        # More work than one tick did (a full fan-out, or every round full): tick again now.
        self.backlog = False

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=self.concurrency),
                headers={"user-agent": USER_AGENT},
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def tick(self) -> str | None:
        """Fan out pending events, then deliver what is due; return what to log, if anything."""
        now = self.clock()
        async with self.sessions() as session:
            fanned = await fan_out(session, now=now)
            await session.commit()
        self.backlog = fanned == FAN_OUT_LIMIT
        sent = refused = 0
        for _ in range(_ROUNDS):
            recorded, lost = await self.deliver_due(now)
            sent, refused = sent + recorded, refused + lost
            if not recorded + lost:
                break
        else:
            self.backlog = True
        if self.metrics is not None:
            async with self.sessions() as session:
                self.metrics.webhook_endpoints_paused.set(await recording.paused_count(session))
        if not (fanned or sent or refused):
            return None
        return f"{fanned} event(s) fanned out, {sent} attempt(s) recorded, {refused} stale"

    async def deliver_due(self, now: datetime | None = None) -> tuple[int, int]:
        """Run one round: claim, send, record; return (attempts recorded, attempts refused)."""
        claimed = await self.claim(now or self.clock())
        if not claimed:
            return 0, 0

        async def one(item: Claimed) -> bool:
            return await self.record(item.attempted, await self.send(item))

        results = await asyncio.gather(*(one(item) for item in claimed))
        return sum(results), len(results) - sum(results)

    async def claim(self, now: datetime) -> list[Claimed]:
        """Lease due deliveries of unpaused endpoints (`concurrency`, two per endpoint)."""
        token = uuid.uuid4().hex
        async with self.sessions() as session:
            ids = _spread(await _due(session, now), self.concurrency)
            if not ids:
                return []
            table = WebhookDelivery.__table__  # type: ignore[attr-defined]
            leased = await session.execute(
                sa.update(table)
                .where(table.c.id.in_(ids), _lease_free(table, now))
                .values(lease_owner=token, lease_expires_at=now + self.lease)
                .returning(table.c.id)
            )
            taken = [row[0] for row in leased]
            rows = (
                await session.execute(
                    select(WebhookDelivery, Event, WebhookEndpoint)
                    .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
                    .join(
                        WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id)
                    )
                    .where(col(WebhookDelivery.id).in_(taken))
                )
            ).tuples()
            claimed = [self._claimed(d, e, w, token, now) for d, e, w in rows]
            await session.commit()
        return claimed

    def _claimed(
        self,
        delivery: WebhookDelivery,
        event: Event,
        endpoint: WebhookEndpoint,
        token: str,
        now: datetime,
    ) -> Claimed:
        assert delivery.id is not None
        assert endpoint.id is not None
        sealed = [endpoint.secret_ciphertext]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret_ciphertext and expires is not None and expires > now:
            sealed.append(endpoint.previous_secret_ciphertext)
        opened: list[str] = []
        for ciphertext in sealed:
            with contextlib.suppress(UndecryptableSecretError):
                opened.append(self.box.open(ciphertext))
        return Claimed(
            attempted=Attempted(
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                token=token,
                attempts=delivery.attempts,
                is_manual=delivery.is_manual,
            ),
            url=endpoint.url,
            body=payloads.body(event, endpoint.format),
            webhook_id=event.uid,
            secrets=tuple(opened),
        )

    async def send(self, item: Claimed) -> Outcome:
        """POST the signed body once; never raise (a failure is an outcome)."""
        if not item.secrets:
            error = "the endpoint's secret cannot be opened with the server's keys: rotate it"
            return Outcome(status_code=None, error=error, duration_ms=0.0)
        stamp = int(self.clock().timestamp())
        headers = signing.headers(item.secrets, item.webhook_id, stamp, item.body)
        started = time.monotonic()
        try:
            async with self._http().stream(
                "POST", item.url, content=item.body, headers=headers
            ) as answer:
                text = await _read_some(answer)
        except httpx.HTTPError as exc:
            error = receiver_text(f"{type(exc).__name__}: {exc}")
            return Outcome(None, error, _ms(started))
        code = answer.status_code
        if 200 <= code < 300:
            return Outcome(code, None, _ms(started))
        wait = recording.retry_after(answer.headers.get("retry-after"), self.clock())
        error = receiver_text(f"HTTP {code}: {text}" if text else f"HTTP {code}")
        return Outcome(code, error, _ms(started), retry_after=wait)

    async def record(self, attempted: Attempted, outcome: Outcome) -> bool:
        """Record an outcome fenced on the claim's lease; return False if the lease was lost."""
        try:
            async with self.sessions() as session:
                done = await recording.record(
                    session,
                    attempted,
                    outcome,
                    now=self.clock(),
                    rng=self.rng,
                    pause_after=self.pause_after,
                )
                await session.commit()  # after a lost lease: nothing, or a redelivered one's log
        except Exception:  # the lease expires and the delivery is tried again
            log.warning("could not record delivery %s", attempted.delivery_id, exc_info=True)
            return False
        if not done:
            log.warning("delivery %s: lease lost, state not recorded", attempted.delivery_id)
        return done


def _lease_free(table: Any, now: datetime) -> Any:
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at < now)


async def _due(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """Return (delivery, endpoint) of the oldest due deliveries no one holds."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    endpoints = WebhookEndpoint.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.select(table.c.id, table.c.endpoint_id)
        .join(endpoints, endpoints.c.id == table.c.endpoint_id)
        .where(
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            endpoints.c.is_paused.is_(False),
            _lease_free(table, now),
        )
        .order_by(table.c.next_attempt_at)
        .limit(_CANDIDATES)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=table)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


def _spread(due: list[tuple[int, int]], limit: int) -> list[int]:
    """Pick up to `limit` deliveries, oldest first, at most two per endpoint."""
    per_endpoint: defaultdict[int, int] = defaultdict(int)
    picked = []
    for delivery_id, endpoint_id in due:
        if per_endpoint[endpoint_id] < PER_ENDPOINT:
            per_endpoint[endpoint_id] += 1
            picked.append(delivery_id)
            if len(picked) == limit:
                break
    return picked


async def _read_some(answer: httpx.Response) -> str:
    """Read at most a few KB of an answer's body (a receiver may send gigabytes)."""
    kept = b""
    async for chunk in answer.aiter_bytes():
        kept += chunk
        if len(kept) >= _READ_MAX:
            break
    return kept[:_READ_MAX].decode("utf-8", "replace")


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
