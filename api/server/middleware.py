"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs throughput on every request)."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.server.errors import problem_response

# C0 controls and DEL: no name, label or parameter of the API contains one, and PostgreSQL
# cannot even compare text with NUL (a query filter holding one would fail with a 500).
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def replay(body: bytes, receive: Receive) -> Receive:
    """Return a `receive` that delivers `body` (already read) first, then the real messages."""
    replayed = False

    async def receive_again() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


async def read_body(receive: Receive) -> bytes | None:
    """Read a request's whole body; None if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413 problem JSON."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = self._content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the limit, then replay.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replay(b"".join(chunks), receive), send)

    @staticmethod
    def _content_length(scope: Scope) -> int | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            title="Payload too large",
            detail=f"request body over the {self.max_bytes}-byte limit",
            type_="urn:promptlane:problem:payload-too-large",
        )
        await response(scope, receive, send)


class UrlGuardMiddleware:
    """Refuse URLs whose path or query holds a control character, with 422 problem JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote_plus(scope["query_string"].decode("latin-1"), errors="replace")
            found = _CONTROL.search(scope["path"]) or _CONTROL.search(query)
            if found is not None:
                where = "path" if _CONTROL.search(scope["path"]) else "query"
                response = problem_response(
                    422,
                    title="Invalid request",
                    detail=f"the URL's {where} contains the control character "
                    f"U+{ord(found.group()):04X}: no name, label or parameter may",
                    type_="urn:promptlane:problem:validation",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
