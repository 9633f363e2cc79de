"""The gateway fast path answers verified keys with valid bodies; the route gets the rest."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select
from starlette.types import Message, Receive, Scope, Send

from api.db import Database
from api.server.fastpath import GatewayFastPath
from api.server.gateway.service import Gateway
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body
from tracing.models import Generation

PROMPT = "support/fast"
URL = "/v1/chat/completions"
CONFIG = {"model": "offline/echo", "temperature": 0.1}
CALLER_TRACE, CALLER_SPAN = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
BODY = {"model": f"promptlane/{PROMPT}:1", "variables": {"company": "Acme", "ticket": "hello"}}


class Downstream:
    """Stands in for the route: records the paths and bodies that reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


async def post(
    app: Any, body: bytes, headers: dict[str, str], *, chunks: int = 1
) -> tuple[int, bytes]:
    """POST `body` to the chat path through `app` (in `chunks` receive messages)."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    size = -(-len(body) // chunks) or 1
    parts = [body[i : i + size] for i in range(0, max(len(body), 1), size)]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body_out


def json_headers(role: Role | None = Role.READER, **extra: str) -> dict[str, str]:
    return {**auth(role), "Content-Type": "application/json", **extra}


def sized(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Length": str(len(body))}


@pytest.fixture
async def fast(app: FastAPI, client: httpx.AsyncClient) -> tuple[GatewayFastPath, Downstream]:
    """Return a fast path over a recording route, with the reader key verified once."""
    published = await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body(config=CONFIG))
    assert published.status_code == 201, published.text
    warm = await client.get(
        f"/v1/prompts/{PROMPT}", params={"version": 1}, headers=auth(Role.READER)
    )
    assert warm.status_code == 200
    downstream = Downstream()
    return GatewayFastPath(downstream, state=app.state), downstream


async def test_a_verified_key_is_answered_without_the_route(
    fast: tuple[GatewayFastPath, Downstream], app: FastAPI
) -> None:
    path, downstream = fast
    body = json.dumps(BODY).encode()
    status, answer = await post(path, body, sized(body, json_headers()), chunks=3)
    assert status == 200, answer
    completion = json.loads(answer)
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "hello"
    assert downstream.bodies == []
    gateway: Gateway = app.state.services.gateway
    await gateway.join()


async def stored(app: FastAPI, db: Database) -> list[Generation]:
    gateway: Gateway = app.state.services.gateway
    await gateway.join()
    async with db.reader() as session:
        return list(await session.scalars(select(Generation).order_by(Generation.id)))


@pytest.mark.parametrize("stream", [False, True])
async def test_calls_in_one_callers_span_join_its_trace_with_tracing_off(
    fast: tuple[GatewayFastPath, Downstream], app: FastAPI, db: Database, stream: bool
) -> None:
    path, _ = fast
    body = json.dumps({**BODY, "stream": stream}).encode()
    for _ in range(2):
        status, _ = await post(path, body, sized(body, json_headers(traceparent=TRACEPARENT)))
        assert status == 200
    rows = await stored(app, db)
    assert len(rows) == 2
    assert {(row.trace_id, row.parent_span_id) for row in rows} == {(CALLER_TRACE, CALLER_SPAN)}
    assert len({row.span_id for row in rows} | {CALLER_SPAN}) == 3  # each call is a span of its own


async def test_the_route_joins_a_callers_trace_with_tracing_off(
    fast: tuple[GatewayFastPath, Downstream], app: FastAPI, db: Database
) -> None:
    body = json.dumps(BODY).encode()
    # No Content-Length: the fast path leaves the request to the route.
    status, answer = await post(app, body, json_headers(traceparent=TRACEPARENT))
    assert status == 200, answer
    [row] = await stored(app, db)
    assert (row.trace_id, row.parent_span_id) == (CALLER_TRACE, CALLER_SPAN)
    assert row.span_id != CALLER_SPAN


async def test_without_a_caller_every_call_is_a_trace_of_its_own(
    fast: tuple[GatewayFastPath, Downstream], app: FastAPI, db: Database
) -> None:
    path, _ = fast
    body = json.dumps(BODY).encode()
    for _ in range(2):
        status, _ = await post(path, body, sized(body, json_headers()))
        assert status == 200
    rows = await stored(app, db)
    assert len({row.trace_id for row in rows}) == 2
    assert [row.parent_span_id for row in rows] == [None, None]


async def test_errors_keep_openais_shape(fast: tuple[GatewayFastPath, Downstream]) -> None:
    path, downstream = fast
    body = json.dumps({**BODY, "model": f"promptlane/{PROMPT}:9"}).encode()
    status, answer = await post(path, body, sized(body, json_headers()))
    assert status == 404
    assert json.loads(answer)["error"]["code"] == "model_not_found"
    body = json.dumps({**BODY, "variables": {}}).encode()
    status, answer = await post(path, body, sized(body, json_headers()))
    assert status == 400
    assert json.loads(answer)["error"]["param"] == "promptlane.variables"
    assert downstream.bodies == []


VALID = json.dumps(BODY).encode()


@pytest.mark.parametrize(
    ("body", "headers", "with_length"),
    [
        (VALID, json_headers(None), True),  # no key: the route answers 401
        (VALID, json_headers(Role.WRITER), True),  # a key not verified yet
        (VALID, json_headers(), False),  # chunked: the body limit middleware reads it
        (VALID, json_headers(**{"Content-Type": "text/plain"}), True),
        (b'{"model": "offline/echo", "messages": "hi"}', json_headers(), True),
        (b"{nope", json_headers(), True),
        (b'{"model": ""}', json_headers(), True),
    ],
)
async def test_everything_else_reaches_the_route_with_its_body(
    fast: tuple[GatewayFastPath, Downstream],
    body: bytes,
    headers: dict[str, str],
    with_length: bool,
) -> None:
    path, downstream = fast
    status, answer = await post(path, body, sized(body, headers) if with_length else headers)
    assert (status, answer) == (299, b"route")
    assert downstream.bodies == [body]


async def test_bodies_over_the_limit_reach_the_route(
    fast: tuple[GatewayFastPath, Downstream], app: FastAPI
) -> None:
    path, downstream = fast
    limit = app.state.services.settings.max_body_bytes
    headers = {**json_headers(), "Content-Length": str(limit + 1)}
    status, _ = await post(path, VALID, headers)
    assert status == 299
    assert downstream.bodies == [VALID]


async def test_other_paths_and_methods_pass_by(fast: tuple[GatewayFastPath, Downstream]) -> None:
    path, downstream = fast
    scope = {"type": "http", "method": "GET", "path": URL, "query_string": b"", "headers": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await path(scope, receive, send)
    assert sent[0]["status"] == 299
    assert downstream.bodies == [b""]
