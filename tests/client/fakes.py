"""A fake promptlane resolve endpoint for the client's unit tests (behind httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from typing import Any

import httpx

from promptlane_client import AsyncClient, Client
from promptlane_client.client import PromptCache

URL = "http://promptlane.test"


def version_body(
    name: str, version: int, *, labels: tuple[str, ...] = (), text: str = "Hello {{who}}"
) -> dict[str, Any]:
    """Return the resolve endpoint's JSON for a one-message chat version."""
    return {
        "name": name,
        "version": version,
        "kind": "chat",
        "template": None,
        "messages": [{"role": "user", "content": text}],
        "template_format": "mustache",
        "variables": ["who"],
        "variables_schema": None,
        "config": {"model": "openai/gpt-4o-mini", "temperature": 0.5},
        "labels": list(labels),
        "message": "",
        "author": "tests",
        "content_hash": hashlib.sha256(f"{name}:{version}:{text}".encode()).hexdigest(),
        "created_at": "2026-01-01T00:00:00Z",
    }


class FakeServer:
    """Serves published versions with ETags and 304s; can be down, failing, or held open."""

    def __init__(self) -> None:
        self.versions: dict[str, dict[int, dict[str, Any]]] = {}
        self.labels: dict[tuple[str, str], int] = {}
        self.requests: list[httpx.Request] = []
        self.status = 200  # 200 = up; 0 = connection refused; else an error status
        self.hold: threading.Event | None = None  # requests wait until it is set
        self.holding = threading.Event()  # set while a request is held
        self.async_hold: asyncio.Event | None = None
        self.async_holding: asyncio.Event | None = None

    def publish(self, name: str, *, text: str = "Hello {{who}}", label: str = "production") -> int:
        """Add a version and point `label` at it; return its number."""
        number = len(self.versions.setdefault(name, {})) + 1
        self.labels[(name, label)] = number
        self.versions[name][number] = version_body(name, number, labels=(label,), text=text)
        return number

    def etag(self, name: str, number: int) -> str:
        """Return the ETag of a version's resolve response."""
        raw = json.dumps(self.versions[name][number]).encode()
        return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'

    def answer(self, request: httpx.Request) -> httpx.Response:
        """Answer one resolve request as the real route would."""
        self.requests.append(request)
        if self.status == 0:
            raise httpx.ConnectError("connection refused", request=request)
        if self.status != 200:
            problem = {"title": "Boom", "status": self.status, "detail": "server failing"}
            return httpx.Response(self.status, json=problem)
        name = request.url.path.removeprefix("/v1/prompts/")
        params = request.url.params
        number = (
            int(params["version"])
            if "version" in params
            else self.labels.get((name, params.get("label", "production")))
        )
        body = self.versions.get(name, {}).get(number or 0)
        if body is None:
            return httpx.Response(404, json={"title": "Prompt not found", "status": 404})
        raw = json.dumps(body).encode()
        etag = self.etag(name, number or 0)
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(
            200, content=raw, headers={"ETag": etag, "Content-Type": "application/json"}
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The sync transport's handler (blocks while `hold` is unset)."""
        if self.hold is not None:
            self.holding.set()
            assert self.hold.wait(timeout=30), "held request never released"
        return self.answer(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """The async transport's handler (awaits `async_hold`)."""
        if self.async_hold is not None:
            assert self.async_holding is not None
            self.async_holding.set()
            await asyncio.wait_for(self.async_hold.wait(), timeout=30)
        return self.answer(request)

    def client(self, **kwargs: Any) -> Client:
        """Return a sync client on this fake."""
        return Client(URL, "pl_key", transport=httpx.MockTransport(self.handler), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """Return an async client on this fake."""
        transport = httpx.MockTransport(self.async_handler)
        return AsyncClient(URL, "pl_key", transport=transport, **kwargs)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def settle(target: Client | PromptCache) -> None:
    """Wait until the sync cache has no background refresh queued or running."""
    cache = target._prompts if isinstance(target, Client) else target
    assert cache.workers.wait_idle(timeout=30), "a background refresh never finished"
