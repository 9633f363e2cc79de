"""Webhook endpoints and their deliveries: what admins create, change, inspect and resend.

A secret is made here, sealed with the server's SecretBox before it is stored and returned
only by `create_endpoint` and `rotate_secret`. After a rotation the old secret signs too (a
second signature) for `ROTATION_OVERLAP`, so receivers can switch without losing a message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.crypto import SecretBox, UndecryptableSecretError
from evals.connections.schemas import slug_problem
from evals.errors import (
    DeliveryNotFoundError,
    InvalidWebhookEndpointError,
    WebhookEndpointExistsError,
    WebhookEndpointNotFoundError,
)
from evals.webhooks import signing
from evals.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from evals.webhooks.outbox import PENDING, delivery_values
from evals.webhooks.schemas import (
    DeliveryStatus,
    WebhookAttemptRead,
    WebhookDeliveryDetail,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookLastAttempt,
)
from promptlane_client.errors import FieldProblem
from prompts import events
from prompts.base import utc_now
from prompts.models import Event
from prompts.schemas import Page

ROTATION_OVERLAP: Final = timedelta(hours=24)


def _attempt_read(attempt: WebhookAttempt) -> WebhookAttemptRead:
    return WebhookAttemptRead(
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        error=attempt.error,
        is_manual=attempt.is_manual,
    )


def _last_attempt(row: WebhookEndpoint) -> WebhookLastAttempt | None:
    if row.last_attempt_at is None:
        return None
    return WebhookLastAttempt(
        attempted_at=row.last_attempt_at,
        status_code=row.last_status_code,
        duration_ms=row.last_duration_ms or 0.0,
        error=row.last_error,
    )


def _read(row: WebhookEndpoint) -> WebhookEndpointRead:
    return WebhookEndpointRead(
        name=row.name,
        url=row.url,
        event_types=list(row.event_types),
        format=row.format,  # type: ignore[arg-type]
        description=row.description,
        is_paused=row.is_paused,
        paused_reason=row.paused_reason,
        consecutive_failures=row.consecutive_failures,
        failing_since=row.failing_since,
        previous_secret_expires_at=row.previous_secret_expires_at,
        last_attempt=_last_attempt(row),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _created(row: WebhookEndpoint, secret: str) -> WebhookEndpointCreated:
    return WebhookEndpointCreated(**_read(row).model_dump(), secret=secret)


async def _row(session: AsyncSession, name: str, *, for_update: bool = False) -> WebhookEndpoint:
    problem = slug_problem(name, "webhook endpoint name")
    if problem is not None:
        raise InvalidWebhookEndpointError(problem, errors=[FieldProblem("#/name", problem)])
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    row: WebhookEndpoint | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise WebhookEndpointNotFoundError(f"no webhook endpoint named {name!r}")
    return row


async def create_endpoint(
    session: AsyncSession, *, data: WebhookEndpointCreate, actor: str, box: SecretBox
) -> WebhookEndpointCreated:
    """Store a new endpoint with a new secret; the secret is returned this once."""
    exists = await session.execute(
        select(WebhookEndpoint.id).where(WebhookEndpoint.name == data.name)
    )
    if exists.first() is not None:
        raise WebhookEndpointExistsError(f"a webhook endpoint named {data.name!r} exists")
    secret, now = signing.new_secret(), utc_now()
    row = WebhookEndpoint(
        name=data.name,
        url=data.url,
        event_types=list(data.event_types),
        format=data.format,
        secret_ciphertext=box.seal(secret),
        description=data.description,
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _created(row, secret)


async def list_endpoints(session: AsyncSession) -> list[WebhookEndpointRead]:
    """Return every endpoint by name (never their secrets)."""
    rows = await session.execute(select(WebhookEndpoint).order_by(col(WebhookEndpoint.name)))
    return [_read(row) for row in rows.scalars()]


async def get_endpoint(session: AsyncSession, *, name: str) -> WebhookEndpointRead:
    """Return one endpoint (never its secret)."""
    return _read(await _row(session, name))


async def update_endpoint(
    session: AsyncSession, *, name: str, data: WebhookEndpointUpdate, actor: str
) -> WebhookEndpointRead:
    """Change the fields given; `is_paused` false resumes (failures forgotten), true pauses."""
    row = await _row(session, name, for_update=True)
    if data.url is not None:
        row.url = data.url
    if data.event_types is not None:
        row.event_types = list(data.event_types)
    if data.format is not None:
        row.format = data.format
    if data.description is not None:
        row.description = data.description
    if data.is_paused is False and row.is_paused:
        row.is_paused, row.paused_reason = False, None
        row.consecutive_failures, row.failing_since = 0, None
    elif data.is_paused and not row.is_paused:
        row.is_paused, row.paused_reason = True, f"paused by {actor}"[:300]
    row.updated_by, row.updated_at = actor, utc_now()
    await session.flush()
    return _read(row)


async def delete_endpoint(session: AsyncSession, *, name: str) -> None:
    """Remove an endpoint with its deliveries and their attempts."""
    row = await _row(session, name, for_update=True)
    await session.delete(row)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, *, name: str, actor: str, box: SecretBox
) -> WebhookEndpointCreated:
    """Give the endpoint a new secret (returned this once); the old one signs for 24 h more."""
    row = await _row(session, name, for_update=True)
    secret, now = signing.new_secret(), utc_now()
    row.previous_secret_ciphertext = row.secret_ciphertext
    row.previous_secret_expires_at = now + ROTATION_OVERLAP
    row.secret_ciphertext = box.seal(secret)
    row.updated_by, row.updated_at = actor, now
    await session.flush()
    return _created(row, secret)


async def rotate_secrets(session: AsyncSession, *, box: SecretBox) -> tuple[int, list[str]]:
    """Re-seal every endpoint secret under the box's first key; return the count and failures."""
    rows = await session.execute(select(WebhookEndpoint).with_for_update())
    rotated, failed = 0, []
    for row in rows.scalars():
        try:
            row.secret_ciphertext = box.rotate(row.secret_ciphertext)
            if row.previous_secret_ciphertext is not None:
                row.previous_secret_ciphertext = box.rotate(row.previous_secret_ciphertext)
        except UndecryptableSecretError:
            failed.append(row.name)
            continue
        rotated += 1
    await session.flush()
    return rotated, failed


def _delivery_read(delivery: WebhookDelivery, event: Event) -> WebhookDeliveryRead:
    assert delivery.id is not None
    return WebhookDeliveryRead(
        id=delivery.id,
        webhook_id=event.uid,
        event_type=event.type,
        occurred_at=event.occurred_at,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == PENDING else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


async def send_test(session: AsyncSession, *, name: str, actor: str) -> WebhookDeliveryRead:
    """Queue a `webhook.test` event to this endpoint only (sent by the dispatcher)."""
    row = await _row(session, name)
    assert row.id is not None
    now = utc_now()
    data = {"name": row.name, "message": "a test event: the endpoint is reachable and verifies"}
    event = events.event_row(events.WEBHOOK_TEST, data, actor=actor)
    event.fanned_out_at = now  # never fanned out: it is for this endpoint alone
    session.add(event)
    await session.flush()
    assert event.id is not None
    delivery = WebhookDelivery(
        **delivery_values(endpoint_id=row.id, event_id=event.id, now=now) | {"is_manual": True}
    )
    session.add(delivery)
    await session.flush()
    return _delivery_read(delivery, event)


async def _delivery(
    session: AsyncSession, name: str, delivery_id: int, *, for_update: bool = False
) -> tuple[WebhookDelivery, Event]:
    endpoint = await _row(session, name)
    stmt = (
        select(WebhookDelivery, Event)
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=WebhookDelivery)
    found: tuple[WebhookDelivery, Event] | None = (await session.execute(stmt)).tuples().first()
    if found is None:
        raise DeliveryNotFoundError(f"webhook endpoint {name!r} has no delivery {delivery_id}")
    return found


async def list_deliveries(
    session: AsyncSession,
    *,
    name: str,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[WebhookDeliveryRead]:
    """Return one page of an endpoint's deliveries, newest first (of one status, or all)."""
    endpoint = await _row(session, name)
    where = [col(WebhookDelivery.endpoint_id) == endpoint.id]
    if status is not None:
        where.append(col(WebhookDelivery.status) == status)
    total = await session.scalar(
        sa.select(sa.func.count()).select_from(WebhookDelivery).where(*where)
    )
    rows = await session.execute(
        select(WebhookDelivery, Event)
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .where(*where)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
        .offset(offset)
    )
    items = [_delivery_read(d, e) for d, e in rows.tuples()]
    return Page(items=items, total=int(total or 0), limit=limit, offset=offset)


async def get_delivery(
    session: AsyncSession, *, name: str, delivery_id: int
) -> WebhookDeliveryDetail:
    """Return a delivery with its event's data and every attempt, oldest first."""
    delivery, event = await _delivery(session, name, delivery_id)
    attempts = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(col(WebhookAttempt.id))
    )
    history = [_attempt_read(a) for a in attempts]
    read = _delivery_read(delivery, event)
    return WebhookDeliveryDetail(**read.model_dump(), data=event.data, history=history)


async def redeliver(
    session: AsyncSession, *, name: str, delivery_id: int, now: datetime | None = None
) -> WebhookDeliveryRead:
    """Send a delivery again soon (same `webhook-id`), whatever its status."""
    delivery, event = await _delivery(session, name, delivery_id, for_update=True)
    delivery.status, delivery.next_attempt_at = PENDING, now or utc_now()
    delivery.is_manual, delivery.delivered_at = True, None
    # An attempt in flight loses its claim: its outcome is logged, never written over this.
    delivery.lease_owner, delivery.lease_expires_at = None, None
    await session.flush()
    return _delivery_read(delivery, event)
