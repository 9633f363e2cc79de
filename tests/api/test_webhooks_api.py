"""Webhook endpoints over the API: admin only, secrets shown once, URLs checked, deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select

from api.db import Database
from evals.webhooks.models import WebhookEndpoint
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body

URL = "https://hooks.example.test/in"


async def create(client: httpx.AsyncClient, name: str = "ops", **extra: Any) -> httpx.Response:
    body = {"name": name, "url": URL, "event_types": ["label.moved"], **extra}
    return await client.post("/v1/webhooks", json=body)


async def test_the_secret_is_shown_on_create_only_and_stored_sealed(
    client: httpx.AsyncClient, db: Database
) -> None:
    created = await create(client, description="ops channel")
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = [
        (await client.get("/v1/webhooks")).text,
        (await client.get("/v1/webhooks/ops")).text,
        (await client.patch("/v1/webhooks/ops", json={"description": "x"})).text,
    ]
    assert not any(secret in text or 'secret"' in text for text in shown)
    async with db.reader() as session:
        row = await session.scalar(select(WebhookEndpoint))
    assert row is not None
    assert secret not in row.secret_ciphertext
    read = (await client.get("/v1/webhooks/ops")).json()
    assert read["event_types"] == ["label.moved"]
    assert (read["format"], read["is_paused"], read["created_by"]) == (
        "standard",
        False,
        "bootstrap-admin",
    )


async def test_a_second_endpoint_with_the_name_is_409_and_an_unknown_one_404(
    client: httpx.AsyncClient,
) -> None:
    assert (await create(client)).status_code == 201
    again = await create(client)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:promptlane:problem:webhook-endpoint-exists"
    missing = await client.get("/v1/webhooks/nope")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:promptlane:problem:webhook-endpoint-not-found"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://hooks.test/x", "must be an http:// or https:// URL"),
        ("https://user:pw@hooks.test/x", "must not hold a user or password"),
        ("https://hooks.test/x?token=1", "must not have a query or fragment"),
        ("https://hooks.test/\x00", "printable ASCII"),
        ("https://hooks.test:99999/x", "invalid port"),
        ("https://" + "a" * 2_000, "at most 2000 characters"),
    ],
)
async def test_a_url_is_checked_by_the_connections_rule(
    client: httpx.AsyncClient, url: str, says: str
) -> None:
    refused = await create(client, url=url)
    assert refused.status_code == 422
    assert says in refused.text


@pytest.mark.parametrize(
    "body",
    [
        {"event_types": ["label.nonsense"]},
        {"event_types": []},
        {"event_types": ["label.moved", "label.moved"]},
        {"format": "teams"},
        {"name": "Bad Name"},
        {"description": "bell\x07"},
        {"secret": "whsec_mine"},
    ],
)
async def test_bad_fields_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await create(client, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", [Role.READER, Role.WRITER])
async def test_only_admins_see_or_change_webhooks(client: httpx.AsyncClient, role: Role) -> None:
    await create(client)
    for method, path in (("GET", "/v1/webhooks"), ("POST", "/v1/webhooks/ops/test")):
        response = await client.request(method, path, headers=auth(role))
        assert response.status_code == 403


async def test_rotation_returns_a_new_secret_and_keeps_the_old_one_a_day(
    client: httpx.AsyncClient,
) -> None:
    first = (await create(client)).json()
    rotated = await client.post("/v1/webhooks/ops/rotate-secret")
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"] != first["secret"]
    assert body["previous_secret_expires_at"] is not None


async def test_pause_and_resume(client: httpx.AsyncClient) -> None:
    await create(client)
    paused = await client.patch("/v1/webhooks/ops", json={"is_paused": True})
    assert (paused.json()["is_paused"], paused.json()["paused_reason"]) == (
        True,
        "paused by bootstrap-admin",
    )
    resumed = await client.patch("/v1/webhooks/ops", json={"is_paused": False})
    assert (resumed.json()["is_paused"], resumed.json()["paused_reason"]) == (False, None)
    assert (await client.patch("/v1/webhooks/ops", json={"url": None})).status_code == 422


async def test_a_test_event_is_queued_and_can_be_redelivered(client: httpx.AsyncClient) -> None:
    await create(client)
    queued = await client.post("/v1/webhooks/ops/test")
    assert queued.status_code == 202
    delivery = queued.json()
    assert (delivery["event_type"], delivery["status"]) == ("webhook.test", "pending")
    page = (await client.get("/v1/webhooks/ops/deliveries", params={"status": "pending"})).json()
    assert [d["id"] for d in page["items"]] == [delivery["id"]]
    assert (await client.get("/v1/webhooks/ops/deliveries?status=dead")).json()["total"] == 0
    detail = (await client.get(f"/v1/webhooks/ops/deliveries/{delivery['id']}")).json()
    assert detail["data"]["name"] == "ops"
    assert detail["history"] == []
    again = await client.post(f"/v1/webhooks/ops/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["webhook_id"] == delivery["webhook_id"]


async def test_a_delivery_of_another_endpoint_or_out_of_range_is_4xx(
    client: httpx.AsyncClient,
) -> None:
    await create(client)
    await create(client, "other")
    delivery = (await client.post("/v1/webhooks/ops/test")).json()
    other = await client.get(f"/v1/webhooks/other/deliveries/{delivery['id']}")
    assert other.status_code == 404
    assert other.json()["type"] == "urn:promptlane:problem:delivery-not-found"
    for bad in (2**31, 2**63, 0, -1):
        response = await client.get(f"/v1/webhooks/ops/deliveries/{bad}")
        assert response.status_code == 422, bad
    assert (await client.get("/v1/webhooks/ops/deliveries?status=lost")).status_code == 422


async def test_a_request_never_fans_out_or_sends_the_dispatcher_does(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create(client, event_types=["*"])
    await client.post("/v1/prompts/hooked/versions", json=chat_body())
    delivery = await client.get("/v1/webhooks/ops/deliveries")
    assert delivery.json()["total"] == 0  # fanned out by the dispatcher, not by the request


async def test_deleting_an_endpoint_removes_its_deliveries(client: httpx.AsyncClient) -> None:
    await create(client)
    await client.post("/v1/webhooks/ops/test")
    assert (await client.delete("/v1/webhooks/ops")).status_code == 204
    assert (await client.get("/v1/webhooks/ops/deliveries")).status_code == 404


async def test_an_endpoint_shows_its_last_answer_once_there_is_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create(client)
    await create(client, "quiet")
    assert (await client.get("/v1/webhooks/ops")).json()["last_attempt"] is None
    at = datetime(2026, 12, 9, 10, tzinfo=UTC)
    async with db.writer() as session:  # as the dispatcher records an attempt
        row = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == "ops"))
        assert row is not None
        row.last_attempt_at, row.last_status_code = at, None
        row.last_duration_ms, row.last_error = 10_000.0, "timed out"
        await session.commit()
    listed = {e["name"]: e["last_attempt"] for e in (await client.get("/v1/webhooks")).json()}
    assert listed["quiet"] is None
    assert listed["ops"] == {
        "attempted_at": "2026-12-09T10:00:00Z",
        "status_code": None,
        "duration_ms": 10_000.0,
        "error": "timed out",
    }
    assert (await client.get("/v1/webhooks/ops")).json()["last_attempt"] == listed["ops"]
    paused = await client.patch("/v1/webhooks/ops", json={"is_paused": True})
    assert paused.json()["last_attempt"] == listed["ops"]
