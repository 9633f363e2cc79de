"""Webhook endpoints and their deliveries: admins only (a URL the server calls is theirs)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Response

from api.server.deps import Admin, AppServices, ReadSession, WriteSession, on_commit
from api.server.params import INT_MAX
from evals.webhooks import service
from evals.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryDetail,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)
from prompts.schemas import Page

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
EndpointName = Annotated[str, Path(pattern=_NAME_PATTERN, max_length=64)]
DeliveryId = Annotated[int, Path(ge=1, le=INT_MAX)]


def _wake_on_commit(services: AppServices, session: WriteSession) -> None:
    """Send what this request queued as soon as it is committed."""
    if services.webhooks is not None:
        on_commit(session, services.webhooks.wake)


@router.post("", status_code=201)
async def create_webhook(
    data: WebhookEndpointCreate, services: AppServices, session: WriteSession, actor: Admin
) -> WebhookEndpointCreated:
    """Register an endpoint; its signing secret is in this answer only."""
    return await service.create_endpoint(
        session, data=data, actor=actor.name, box=services.keyring.box
    )


@router.get("")
async def list_webhooks(session: ReadSession, actor: Admin) -> list[WebhookEndpointRead]:
    """List webhook endpoints (never their secrets), paused ones with why."""
    return await service.list_endpoints(session)


@router.get("/{name}")
async def get_webhook(
    name: EndpointName, session: ReadSession, actor: Admin
) -> WebhookEndpointRead:
    """Return one webhook endpoint (never its secret)."""
    return await service.get_endpoint(session, name=name)


@router.patch("/{name}")
async def update_webhook(
    name: EndpointName,
    data: WebhookEndpointUpdate,
    services: AppServices,
    session: WriteSession,
    actor: Admin,
) -> WebhookEndpointRead:
    """Change an endpoint; `is_paused: false` resumes delivery to it."""
    _wake_on_commit(services, session)
    return await service.update_endpoint(session, name=name, data=data, actor=actor.name)


@router.delete("/{name}", status_code=204, response_class=Response)
async def delete_webhook(name: EndpointName, session: WriteSession, actor: Admin) -> None:
    """Delete an endpoint with its deliveries."""
    await service.delete_endpoint(session, name=name)


@router.post("/{name}/rotate-secret")
async def rotate_webhook_secret(
    name: EndpointName, services: AppServices, session: WriteSession, actor: Admin
) -> WebhookEndpointCreated:
    """Give an endpoint a new secret (in this answer only); the old one signs for 24 h more."""
    return await service.rotate_secret(
        session, name=name, actor=actor.name, box=services.keyring.box
    )


@router.post("/{name}/test", status_code=202)
async def send_webhook_test(
    name: EndpointName, services: AppServices, session: WriteSession, actor: Admin
) -> WebhookDeliveryRead:
    """Queue a signed `webhook.test` event to this endpoint; follow it in its deliveries."""
    _wake_on_commit(services, session)
    return await service.send_test(session, name=name, actor=actor.name)


@router.get("/{name}/deliveries")
async def list_webhook_deliveries(
    name: EndpointName,
    session: ReadSession,
    actor: Admin,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Page[WebhookDeliveryRead]:
    """List an endpoint's deliveries, newest first."""
    return await service.list_deliveries(
        session, name=name, status=status, limit=limit, offset=offset
    )


@router.get("/{name}/deliveries/{delivery_id}")
async def get_webhook_delivery(
    name: EndpointName, delivery_id: DeliveryId, session: ReadSession, actor: Admin
) -> WebhookDeliveryDetail:
    """Return a delivery with its event's data and every attempt."""
    return await service.get_delivery(session, name=name, delivery_id=delivery_id)


@router.post("/{name}/deliveries/{delivery_id}/redeliver", status_code=202)
async def redeliver_webhook(
    name: EndpointName,
    delivery_id: DeliveryId,
    services: AppServices,
    session: WriteSession,
    actor: Admin,
) -> WebhookDeliveryRead:
    """Send a delivery again (the same `webhook-id`, so receivers can deduplicate)."""
    _wake_on_commit(services, session)
    return await service.redeliver(session, name=name, delivery_id=delivery_id)
