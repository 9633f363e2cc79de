"""A pure-ASGI fast path for resolve cache hits: the request applications make most often.

`GET /v1/prompts/{name}` is served here, before routing, when the key is already verified
in this process and the response is in the resolve cache; everything else (misses, unknown
keys, odd query strings, errors) falls through to the normal route, which fills the cache
and renders problem JSON. Both paths read the same cache and send the same headers.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import Authenticator
from api.cache import ResolveCache, etag_matches
from prompts.policy import Role
from prompts.schemas import LABEL_RE, name_problem
from prompts.service import DEFAULT_LABEL

_PREFIX: Final = "/v1/prompts/"
_MAX_NAME: Final = 200


def _cache_key(name: str, query: bytes) -> tuple[str, str | None, int | None] | None:
    """Return the resolve cache key for a query string, or None to leave it to the route."""
    if not query:
        return (name, DEFAULT_LABEL, None)
    field, sep, value = query.decode("latin-1").partition("=")
    if not sep or "&" in value or "%" in value or "+" in value:
        return None
    if field == "label" and LABEL_RE.match(value):
        return (name, value, None)
    if field == "version" and value.isdigit() and len(value) < 10 and int(value) >= 1:
        return (name, None, int(value))
    return None


class ResolveFastPath:
    """Answer cached resolve requests (200 or 304) without routing or validation."""

    def __init__(self, app: ASGIApp, *, state: State) -> None:
        self.app = app
        self.state = state  # the app's state: the authenticator appears when lifespan starts
        self.cache: ResolveCache = state.resolve_cache
        self.cache_control = str(state.cache_control).encode()
        # Prompt fetch hits: a plain dict increment, labelled only when Prometheus scrapes.
        self.hits: dict[tuple[str, str | None, int | None], int] = state.metrics.fetches.hits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(_PREFIX) and await self._serve(scope, send, path):
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send, path: str) -> bool:
        name = path[len(_PREFIX) :]  # ASGI paths arrive percent-decoded
        if len(name) > _MAX_NAME or name_problem(name) is not None:
            return False
        key = _cache_key(name, scope["query_string"])
        if key is None:
            return False
        entry = self.cache.get(key)
        if entry is None:
            return False
        authorization = if_none_match = None
        for header, value in scope["headers"]:
            if header == b"authorization":
                authorization = value.decode("latin-1")
            elif header == b"if-none-match":
                if_none_match = value.decode("latin-1")
        auth: Authenticator = self.state.auth
        actor = auth.cached(authorization)
        if actor is None or not actor.role.allows(Role.READER):
            return False
        self.hits[key] = self.hits.get(key, 0) + 1
        headers = [(b"etag", entry.etag.encode()), (b"cache-control", self.cache_control)]
        if if_none_match and etag_matches(if_none_match, entry.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(entry.body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
        return True
