"""Webhook calls (admin): endpoints, secrets, test events, deliveries."""

from __future__ import annotations

from typing import Any, Literal

from promptlane_client.endpoints._common import given, segment
from promptlane_client.http import Call, read_list, read_nothing, read_object


def _hook(name: str, rest: str = "") -> str:
    return f"/v1/webhooks/{segment(name)}{rest}"


def create_webhook(body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Register a webhook endpoint (the answer holds its secret, once)."""
    return Call("POST", "/v1/webhooks", read_object, json=body)


def list_webhooks() -> Call[list[dict[str, Any]]]:
    """List webhook endpoints."""
    return Call("GET", "/v1/webhooks", read_list)


def get_webhook(name: str) -> Call[dict[str, Any]]:
    """Read one webhook endpoint."""
    return Call("GET", _hook(name), read_object)


def update_webhook(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Change a webhook endpoint (`is_paused: false` resumes it)."""
    return Call("PATCH", _hook(name), read_object, json=body)


def delete_webhook(name: str) -> Call[None]:
    """Delete a webhook endpoint."""
    return Call("DELETE", _hook(name), read_nothing)


def webhook_action(name: str, action: Literal["rotate-secret", "test"]) -> Call[dict[str, Any]]:
    """Rotate an endpoint's secret, or queue a test event to it."""
    return Call("POST", _hook(name, f"/{action}"), read_object)


def webhook_deliveries(name: str, params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List an endpoint's deliveries."""
    return Call("GET", _hook(name, "/deliveries"), read_object, params=given(params))


def webhook_delivery(name: str, delivery_id: int, *, redeliver: bool) -> Call[dict[str, Any]]:
    """Read a delivery with its attempts, or send it again."""
    path = _hook(name, f"/deliveries/{delivery_id}")
    if redeliver:
        return Call("POST", path + "/redeliver", read_object)
    return Call("GET", path, read_object)
