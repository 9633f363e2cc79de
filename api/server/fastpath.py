"""Pure-ASGI fast paths for the two requests applications make on every call of theirs.

`GET /v1/prompts/{name}` is served here, before routing, when the key is already verified
in this process and the response is in the resolve cache; everything else (misses, unknown
keys, odd query strings, errors) falls through to the normal route, which fills the cache
and renders problem JSON. Both paths read the same cache and send the same headers.

`POST /v1/chat/completions` (the gateway) is served here when the key is already verified
and the body validates as a `ChatCompletionRequest`: the same model, the same `Gateway.chat`
and the same OpenAI-shaped errors as the route, without routing, dependency solving and
FastAPI's body handling (about a third of the gateway's own CPU a call). Anything else
(first use of a key, chunked or oversized bodies, a body that does not validate) goes to the
route, with the body replayed. Like cached resolves, these calls get no HTTP server span
(their `chat` span has one), but a caller's `traceparent` still parents the `chat` span.
"""

from __future__ import annotations

from typing import Final

from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from api.server.cache import ResolveKey, etag_matches
from api.server.gateway.errors import error_response
from api.server.middleware import read_body, replay
from api.server.services import Services
from evals.gateway.schemas import ChatCompletionRequest
from prompts.policy import Role

_PREFIX: Final = "/v1/prompts/"
_CHAT: Final = "/v1/chat/completions"
_TRACE_HEADERS: Final = frozenset({b"traceparent", b"tracestate", b"baggage"})


class ResolveFastPath:
    """Answer cached resolve requests (200 or 304) without routing or validation."""

    def __init__(self, app: ASGIApp, *, state: State) -> None:
        self.app = app
        self.state = state  # the app's state: its services appear when lifespan starts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(_PREFIX) and await self._serve(scope, send, path):
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send, path: str) -> bool:
        name = path[len(_PREFIX) :]  # ASGI paths arrive percent-decoded
        key = ResolveKey.from_request(name, scope["query_string"])
        if key is None:
            return False
        services: Services = self.state.services
        entry = services.resolver.cached(key)
        if entry is None:
            return False
        authorization = if_none_match = None
        for header, value in scope["headers"]:
            if header == b"authorization":
                authorization = value.decode("latin-1")
            elif header == b"if-none-match":
                if_none_match = value.decode("latin-1")
        actor = services.auth.cached(authorization)
        if actor is None or not actor.role.allows(Role.READER):
            return False
        services.resolver.count_hit(key)
        cache_control = services.resolver.cache_control_raw
        headers = [(b"etag", entry.etag.encode()), (b"cache-control", cache_control)]
        if if_none_match and etag_matches(if_none_match, entry.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(entry.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
        return True


class GatewayFastPath:
    """Answer gateway calls of verified keys with valid bodies without routing."""

    def __init__(self, app: ASGIApp, *, state: State) -> None:
        self.app = app
        self.state = state  # the app's state: its services appear when lifespan starts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == _CHAT:
            await self._serve(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = length = None
        is_json = True
        carrier: dict[str, str] = {}
        for header, value in scope["headers"]:
            if header == b"authorization":
                authorization = value.decode("latin-1")
            elif header == b"content-length":
                length = value
            elif header == b"content-type":
                is_json = value.partition(b";")[0].strip().lower() == b"application/json"
            elif header in _TRACE_HEADERS:
                carrier[header.decode()] = value.decode("latin-1")
        services: Services = self.state.services
        actor = services.auth.cached(authorization)
        if (
            actor is None
            or not actor.role.allows(Role.READER)
            or not is_json
            or length is None
            or not length.isdigit()
            or int(length) > services.settings.max_body_bytes
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away
        try:
            request = ChatCompletionRequest.model_validate_json(body)
        except ValidationError:  # the route renders the error, exactly as for any other key
            await self.app(scope, replay(body, receive), send)
            return
        response = await self._answer(services, request, carrier)
        await response(scope, receive, send)

    async def _answer(
        self, services: Services, request: ChatCompletionRequest, carrier: dict[str, str]
    ) -> Response:
        try:
            return await services.gateway.chat(request, carrier)
        except Exception as exc:
            return error_response(exc)
