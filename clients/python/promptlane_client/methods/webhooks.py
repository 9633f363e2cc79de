"""Webhook methods (admin keys): endpoints, secrets, test events, deliveries."""

from __future__ import annotations

from typing import Any

from promptlane_client import endpoints
from promptlane_client.methods import AsyncSends, Sends


class WebhookMethods(Sends):
    """Client's webhook methods."""

    def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a webhook endpoint; the answer holds its signing secret, shown once."""
        return self._send(endpoints.create_webhook(body))

    def list_webhooks(self) -> list[dict[str, Any]]:
        """List webhook endpoints (never their secrets)."""
        return self._send(endpoints.list_webhooks())

    def get_webhook(self, name: str) -> dict[str, Any]:
        """Return one webhook endpoint (never its secret)."""
        return self._send(endpoints.get_webhook(name))

    def update_webhook(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change a webhook endpoint; `{"is_paused": False}` resumes it."""
        return self._send(endpoints.update_webhook(name, body))

    def delete_webhook(self, name: str) -> None:
        """Delete a webhook endpoint with its deliveries."""
        self._send(endpoints.delete_webhook(name))

    def rotate_webhook_secret(self, name: str) -> dict[str, Any]:
        """Give an endpoint a new secret (in the answer, once); the old one signs 24 h more."""
        return self._send(endpoints.webhook_action(name, "rotate-secret"))

    def test_webhook(self, name: str) -> dict[str, Any]:
        """Queue a signed test event to an endpoint; return its delivery."""
        return self._send(endpoints.webhook_action(name, "test"))

    def webhook_deliveries(self, name: str, **params: Any) -> dict[str, Any]:
        """List an endpoint's deliveries, newest first (`status`, `limit`, `offset`)."""
        return self._send(endpoints.webhook_deliveries(name, params))

    def webhook_delivery(self, name: str, delivery_id: int) -> dict[str, Any]:
        """Return a delivery with its event's data and its attempts."""
        return self._send(endpoints.webhook_delivery(name, delivery_id, redeliver=False))

    def redeliver_webhook(self, name: str, delivery_id: int) -> dict[str, Any]:
        """Send a delivery again, with the same webhook-id."""
        return self._send(endpoints.webhook_delivery(name, delivery_id, redeliver=True))


class AsyncWebhookMethods(AsyncSends):
    """AsyncClient's webhook methods: the same calls as `WebhookMethods`, awaited."""

    async def create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a webhook endpoint; the answer holds its signing secret, shown once."""
        return await self._send(endpoints.create_webhook(body))

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """List webhook endpoints (never their secrets)."""
        return await self._send(endpoints.list_webhooks())

    async def get_webhook(self, name: str) -> dict[str, Any]:
        """Return one webhook endpoint (never its secret)."""
        return await self._send(endpoints.get_webhook(name))

    async def update_webhook(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change a webhook endpoint; `{"is_paused": False}` resumes it."""
        return await self._send(endpoints.update_webhook(name, body))

    async def delete_webhook(self, name: str) -> None:
        """Delete a webhook endpoint with its deliveries."""
        await self._send(endpoints.delete_webhook(name))

    async def rotate_webhook_secret(self, name: str) -> dict[str, Any]:
        """Give an endpoint a new secret (in the answer, once); the old one signs 24 h more."""
        return await self._send(endpoints.webhook_action(name, "rotate-secret"))

    async def test_webhook(self, name: str) -> dict[str, Any]:
        """Queue a signed test event to an endpoint; return its delivery."""
        return await self._send(endpoints.webhook_action(name, "test"))

    async def webhook_deliveries(self, name: str, **params: Any) -> dict[str, Any]:
        """List an endpoint's deliveries, newest first (`status`, `limit`, `offset`)."""
        return await self._send(endpoints.webhook_deliveries(name, params))

    async def webhook_delivery(self, name: str, delivery_id: int) -> dict[str, Any]:
        """Return a delivery with its event's data and its attempts."""
        return await self._send(endpoints.webhook_delivery(name, delivery_id, redeliver=False))

    async def redeliver_webhook(self, name: str, delivery_id: int) -> dict[str, Any]:
        """Send a delivery again, with the same webhook-id."""
        return await self._send(endpoints.webhook_delivery(name, delivery_id, redeliver=True))
