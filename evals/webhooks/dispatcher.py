"""The dispatcher: fans the outbox out, claims due deliveries with a lease, sends, records.

Short transactions around HTTP, never one across it: claim due deliveries into the free sending
slots (`concurrency`, at most two per endpoint: a conditional UPDATE sets a lease token; SKIP
LOCKED on PostgreSQL), commit, send each as its own task, then record its outcome fenced on the
token (evals/webhooks/recording.py). A slot is refilled as soon as its request ends, so a slow
or black-holed receiver holds its own two slots until the timeout, never the others' deliveries;
the lease outlives the timeout. A dispatcher that died mid-send leaves leases that expire, and
another one (or its restart) sends those deliveries again with the same `webhook-id`: receivers
deduplicate on it. Requests never follow redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.crypto import SecretBox, UndecryptableSecretError
from evals.webhooks import claims, payloads, recording, signing
from evals.webhooks.models import WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import FAN_OUT_LIMIT, fan_out
from evals.webhooks.recording import Attempted, Outcome, receiver_text
from prompts.base import utc_now
from prompts.models import Event
from tracing.metrics import Metrics

log = logging.getLogger("promptlane.webhooks")

SessionFactory = Callable[[], AsyncSession]
_ROUNDS: Final = 20  # fill-and-wait rounds of one `tick`
_READ_MAX: Final = 4_096  # bytes of an answer read: enough for 300 characters of text
USER_AGENT: Final = "promptlane-webhooks/1"


Sent = tuple[Attempted, Outcome]


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
        poll_interval: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`clock` dates attempts and signatures; `rng` jitters the retry waits.

        `poll_interval`: how often `step` looks for events other processes emitted; an event
        of this process is announced by `events_emitted`.
        """
        self.sessions = sessions
        self.box = box
        self.timeout = timeout
        self.lease = timedelta(seconds=timeout * 2 + 30)
        self.concurrency = concurrency
        self.pause_after = pause_after
        self.poll_interval = poll_interval
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)
        self.metrics = metrics
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        # More work than one step did (a full fan-out): step again now.
        self.backlog = False
        # Called when a send ends and its slot is free (the server's job wakes itself).
        self.on_slot_free: Callable[[], None] | None = None
        self._sending: dict[asyncio.Task[Sent], int] = {}  # in flight: task -> endpoint id
        self._outcomes: list[Sent] = []  # answered, not recorded yet
        self._recorded = self._lost = 0
        self._events_pending = True
        self._fanned_at = -math.inf

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
        """Cancel the sends in flight (their leases expire) and close the connection pool.

        Outcomes already answered are recorded first, so their deliveries are not sent twice.
        """
        sending = list(self._sending)
        for task in sending:
            task.cancel()
        await asyncio.gather(*sending, return_exceptions=True)
        await self.flush()  # never raises: a failure is logged and the leases expire
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def events_emitted(self) -> None:
        """Note that this process committed events: the next `step` fans out."""
        self._events_pending = True

    async def step(self) -> str | None:
        """Fan out new events and fill the free sending slots; never wait for a send."""
        now = self.clock()
        fanned = None
        if self._events_pending or time.monotonic() - self._fanned_at >= self.poll_interval:
            fanned = await self._fan_out(now)
        started = 0
        free = self.concurrency - len(self._sending)
        # Refill half the slots at a time, not one per answer: a record and a claim are a
        # transaction each, and they share the API's event loop and database.
        if free * 2 >= self.concurrency or not self._sending or fanned:
            await self.flush()
            started = await self.fill(now)
        recorded, lost = self._taken()
        if fanned is not None or recorded:
            await self._gauge()
        if not (fanned or started or recorded or lost):
            return None
        return (
            f"{fanned or 0} event(s) fanned out, {started} sent, "
            f"{recorded} attempt(s) recorded, {lost} stale"
        )

    async def tick(self) -> str | None:
        """Fan out, then deliver everything due and wait for it (tests and one-off runs)."""
        now = self.clock()
        fanned = await self._fan_out(now)
        sent = refused = 0
        for _ in range(_ROUNDS):
            recorded, lost = await self.deliver_due(now)
            sent, refused = sent + recorded, refused + lost
            if not recorded + lost:
                break
        else:
            self.backlog = True
        await self._gauge()
        if not (fanned or sent or refused):
            return None
        return f"{fanned} event(s) fanned out, {sent} attempt(s) recorded, {refused} stale"

    async def deliver_due(self, now: datetime | None = None) -> tuple[int, int]:
        """Fill the free slots, wait for every send; return (attempts recorded, refused)."""
        await self.fill(now or self.clock())
        if self._sending:
            await asyncio.wait(list(self._sending))
        await self.flush()
        return self._taken()

    async def fill(self, now: datetime) -> int:
        """Claim due deliveries into the free slots and start sending them; return how many."""
        free = self.concurrency - len(self._sending)
        if free <= 0:
            return 0
        claimed = await self.claim(now, limit=free, busy=Counter(self._sending.values()))
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name="webhook-delivery")
            self._sending[task] = item.attempted.endpoint_id
            task.add_done_callback(self._sent)
        return len(claimed)

    async def _fan_out(self, now: datetime) -> int:
        self._events_pending, self._fanned_at = False, time.monotonic()
        async with self.sessions() as session:
            fanned = await fan_out(session, now=now)
            await session.commit()
        self.backlog = fanned == FAN_OUT_LIMIT
        # An event committed while this ran set the flag again: keep it for the next step.
        self._events_pending = self._events_pending or self.backlog
        return fanned

    async def _deliver(self, item: Claimed) -> Sent:
        return item.attempted, await self.send(item)

    def _sent(self, task: asyncio.Task[Sent]) -> None:
        self._sending.pop(task, None)
        if task.cancelled():
            return
        if task.exception() is None:
            self._outcomes.append(task.result())
        else:  # `send` never raises; the lease expires and the delivery is sent again
            self._lost += 1
        if self.on_slot_free is not None:
            self.on_slot_free()

    async def flush(self) -> None:
        """Record every outcome answered since the last flush, in one transaction."""
        taken, self._outcomes = self._outcomes, []
        if not taken:
            return
        try:
            async with self.sessions() as session:
                done = [await self._record_in(session, *sent) for sent in taken]
                await session.commit()
        except Exception:  # the leases expire and the deliveries are tried again
            ids = [attempted.delivery_id for attempted, _ in taken]
            log.warning("could not record deliveries %s", ids, exc_info=True)
            self._lost += len(taken)
            return
        self._recorded += sum(done)
        self._lost += len(done) - sum(done)

    def _taken(self) -> tuple[int, int]:
        """Return (and reset) the outcomes recorded and refused since the last call."""
        taken = self._recorded, self._lost
        self._recorded = self._lost = 0
        return taken

    async def _gauge(self) -> None:
        if self.metrics is not None:
            async with self.sessions() as session:
                self.metrics.webhook_endpoints_paused.set(await recording.paused_count(session))

    async def claim(
        self, now: datetime, *, limit: int | None = None, busy: Counter[int] | None = None
    ) -> list[Claimed]:
        """Lease due deliveries of unpaused endpoints (`limit`, two per endpoint with `busy`)."""
        token = uuid.uuid4().hex
        async with self.sessions() as session:
            ids = await claims.pick(session, now, limit or self.concurrency, busy or Counter())
            if not ids:
                return []
            table = WebhookDelivery.__table__  # type: ignore[attr-defined]
            leased = await session.execute(
                sa.update(table)
                .where(table.c.id.in_(ids), claims.lease_free(table, now))
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
        """Record one outcome fenced on the claim's lease; return False if the lease was lost."""
        recorded, lost = self._taken()
        self._outcomes.append((attempted, outcome))
        await self.flush()
        done = self._recorded == 1
        self._recorded, self._lost = recorded, lost
        return done

    async def _record_in(
        self, session: AsyncSession, attempted: Attempted, outcome: Outcome
    ) -> bool:
        now, rng, pause_after = self.clock(), self.rng, self.pause_after
        done = await recording.record(
            session, attempted, outcome, now=now, rng=rng, pause_after=pause_after
        )
        if not done:
            log.warning("delivery %s: lease lost, state not recorded", attempted.delivery_id)
        return done


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
