"""The resolve fast path answers cache hits itself and hands everything else to the route."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from api.server.cache import ResolveCache
from api.server.fastpath import ResolveFastPath
from prompts.policy import Role
from tests.conftest import READER_KEY, auth
from tests.factories import chat_body


class Downstream:
    """Stands in for the router: records what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


async def call(
    app: Any,
    path: str,
    *,
    query: bytes = b"",
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, dict[str, str], bytes]:
    sent: list[Message] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body["body"]


@pytest.fixture
async def fast(app: FastAPI, client: httpx.AsyncClient) -> tuple[ResolveFastPath, Downstream]:
    """Return a fast path over a recording downstream, with `p@production` cached."""
    await client.post("/v1/prompts/team/p/versions", json=chat_body())
    await client.put("/v1/prompts/team/p/labels/production", json={"version": 1, "reason": "go"})
    warm = await client.get("/v1/prompts/team/p", headers=auth(Role.READER))
    assert warm.status_code == 200
    downstream = Downstream()
    return ResolveFastPath(downstream, state=app.state), downstream


async def test_hit_is_served_without_the_route(
    fast: tuple[ResolveFastPath, Downstream], client: httpx.AsyncClient
) -> None:
    path, downstream = fast
    expected = await client.get("/v1/prompts/team/p")
    status, headers, body = await call(path, "/v1/prompts/team/p", headers=auth(Role.READER))
    assert (status, body) == (200, expected.content)
    assert headers["etag"] == expected.headers["etag"]
    assert headers["cache-control"] == expected.headers["cache-control"]
    assert headers["content-type"] == "application/json"
    status, headers, body = await call(
        path,
        "/v1/prompts/team/p",
        query=b"label=production",
        headers={**auth(Role.READER), "If-None-Match": expected.headers["etag"]},
    )
    assert (status, body, headers["etag"]) == (304, b"", expected.headers["etag"])
    assert downstream.paths == []


READER = auth(Role.READER)


@pytest.mark.parametrize(
    ("path", "query", "headers"),
    [
        ("/v1/prompts/team/p", b"", {}),  # no key: the route answers 401
        ("/v1/prompts/team/p", b"", {"Authorization": "Bearer pl_unknown-" + "x" * 24}),
        ("/v1/prompts/team/p", b"", {"Authorization": f"Basic {READER_KEY}"}),
        ("/v1/prompts/team/p", b"label=staging", READER),  # not cached
        ("/v1/prompts/team/p", b"version=0", READER),
        ("/v1/prompts/team/p", b"label=production&version=1", READER),
        ("/v1/prompts/team/p", b"label=prod%75ction", READER),
        ("/v1/prompts/team/p", b"other=1", READER),
        ("/v1/prompts/team/p/versions", b"", READER),
        ("/v1/prompts/team/p/labels/production/history", b"", READER),
        ("/v1/prompts/Team/P", b"", READER),
        ("/v1/prompts", b"", READER),
    ],
)
async def test_everything_else_falls_through(
    fast: tuple[ResolveFastPath, Downstream], path: str, query: bytes, headers: dict[str, str]
) -> None:
    app, downstream = fast
    status, _, body = await call(app, path, query=query, headers=headers)
    assert (status, body) == (299, b"route")
    assert downstream.paths == [path]


async def test_writes_only_reach_the_route(fast: tuple[ResolveFastPath, Downstream]) -> None:
    app, downstream = fast
    status, _, _ = await call(app, "/v1/prompts/team/p", method="POST", headers=auth(Role.READER))
    assert status == 299
    assert downstream.paths == ["/v1/prompts/team/p"]


async def test_revoked_key_is_refused_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    await client.post("/v1/prompts/p/versions", json=chat_body())
    await client.put("/v1/prompts/p/labels/production", json={"version": 1, "reason": "go"})
    created = await client.post("/v1/keys", json={"name": "app", "role": "reader"})
    key = created.json()
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert (await client.get("/v1/prompts/p", headers=headers)).status_code == 200
    assert (await client.get("/v1/prompts/p", headers=headers)).status_code == 200
    assert (await client.post(f"/v1/keys/{key['id']}/revoke")).status_code == 200
    refused = await client.get("/v1/prompts/p", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


async def test_label_move_is_seen_by_the_next_fetch(client: httpx.AsyncClient) -> None:
    await client.post("/v1/prompts/p/versions", json=chat_body())
    await client.post(
        "/v1/prompts/p/versions",
        json=chat_body(message="two", config={"model": "offline/echo", "temperature": 0.5}),
    )
    await client.put("/v1/prompts/p/labels/production", json={"version": 1, "reason": "go"})
    assert (await client.get("/v1/prompts/p")).json()["version"] == 1
    assert (await client.get("/v1/prompts/p")).json()["version"] == 1
    await client.put("/v1/prompts/p/labels/production", json={"version": 2, "reason": "go"})
    assert (await client.get("/v1/prompts/p")).json()["version"] == 2


async def test_fill_is_single_flight() -> None:
    cache = ResolveCache(ttl=60, maxsize=10)
    calls = 0
    release = asyncio.Event()

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"body"

    waiters = [asyncio.create_task(cache.get_or_fill("k", load)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    entries = await asyncio.gather(*waiters)
    assert calls == 1
    assert {entry.body for entry in entries} == {b"body"}


async def test_failed_fill_reaches_every_waiter_and_caches_nothing() -> None:
    cache = ResolveCache(ttl=60, maxsize=10)
    calls = 0

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise LookupError("no such prompt")

    results = await asyncio.gather(
        *(cache.get_or_fill("k", load) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, LookupError) for result in results)
    assert cache.get("k") is None
    assert calls == 5  # waiters retry for themselves rather than share a failure
