"""AsyncClient's webhook and curation methods: the sync client's calls, awaited, same answers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from promptlane_client import AsyncClient, Client
from promptlane_client.errors import APIError
from promptlane_client.methods.datasets import AsyncDatasetMethods
from promptlane_client.methods.webhooks import AsyncWebhookMethods, WebhookMethods
from tests.client.fakes import URL

Seen = list[tuple[str, str, bytes]]
DELIVERY = {"id": 7, "status": "pending", "webhook_id": "msg_1"}
# Each method with its arguments, and what the server answers it.
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], Any]] = [
    ("create_webhook", ({"name": "ops", "url": "https://x.test/in"},), {}, {"secret": "s"}),
    ("list_webhooks", (), {}, [{"name": "ops"}]),
    ("get_webhook", ("ops/it s",), {}, {"name": "ops"}),
    ("update_webhook", ("ops", {"is_paused": False}), {}, {"name": "ops"}),
    ("delete_webhook", ("ops",), {}, None),
    ("rotate_webhook_secret", ("ops",), {}, {"secret": "s2"}),
    ("test_webhook", ("ops",), {}, DELIVERY),
    ("webhook_deliveries", ("ops",), {"status": "dead", "limit": 5, "offset": None}, {"items": []}),
    ("webhook_delivery", ("ops", 7), {}, DELIVERY),
    ("redeliver_webhook", ("ops", 7), {}, DELIVERY),
    (
        "add_from_generations",
        ("support/tickets",),
        {"prompt": "p", "version": 2, "dry_run": True, "label": None},
        {"added": 3, "skipped": []},
    ),
]


def recorder(seen: Seen, answers: list[Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, str(request.url), request.content))
        answer = answers.pop(0)
        if answer is None:
            return httpx.Response(204)
        return httpx.Response(200, json=answer)

    return handle


async def test_every_async_method_sends_what_the_sync_one_sends_and_returns_the_same() -> None:
    sync_seen: Seen = []
    async_seen: Seen = []
    sync_handle = recorder(sync_seen, [answer for *_, answer in CALLS])
    async_answers = recorder(async_seen, [answer for *_, answer in CALLS])

    async def async_handle(request: httpx.Request) -> httpx.Response:
        return async_answers(request)

    sync_results, async_results = [], []
    with Client(URL, "pl_key", transport=httpx.MockTransport(sync_handle)) as client:
        for name, args, kwargs, _ in CALLS:
            sync_results.append(getattr(client, name)(*args, **kwargs))
    transport = httpx.MockTransport(async_handle)
    async with AsyncClient(URL, "pl_key", transport=transport) as async_client:
        for name, args, kwargs, _ in CALLS:
            async_results.append(await getattr(async_client, name)(*args, **kwargs))
    assert sync_seen == async_seen
    assert sync_results == async_results == [answer for *_, answer in CALLS]
    methods = [(method, url.removeprefix(URL)) for method, url, _ in sync_seen]
    assert methods[2] == ("GET", "/v1/webhooks/ops%2Fit%20s")
    assert methods[7] == ("GET", "/v1/webhooks/ops/deliveries?status=dead&limit=5")
    assert methods[9] == ("POST", "/v1/webhooks/ops/deliveries/7/redeliver")
    assert methods[10] == ("POST", "/v1/datasets/support/tickets/versions/from-generations")
    assert sync_seen[10][2] == b'{"prompt":"p","version":2,"dry_run":true}'


async def test_an_async_method_raises_the_problem_the_server_answered() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        problem = {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": "admin"}
        return httpx.Response(
            403, json=problem, headers={"content-type": "application/problem+json"}
        )

    transport = httpx.MockTransport(refuse)
    async with AsyncClient(URL, "pl_key", transport=transport) as client:
        with pytest.raises(APIError) as refused:
            await client.list_webhooks()
    assert refused.value.status == 403


@pytest.mark.parametrize(
    ("sync_class", "async_class"),
    [(WebhookMethods, AsyncWebhookMethods), (Client, AsyncDatasetMethods)],
)
def test_the_async_methods_have_the_sync_signatures(sync_class: type, async_class: type) -> None:
    for name, method in vars(async_class).items():
        if name.startswith("_"):
            continue
        assert inspect.iscoroutinefunction(method), name
        assert inspect.signature(method) == inspect.signature(getattr(sync_class, name)), name
