"""The asynchronous client: cached `get_prompt`, resolve/render, webhooks and curation.

The same core as the sync client (promptlane_client.endpoints, .cache, and the methods of
promptlane_client.methods); this module only sends, on httpx.AsyncClient and tasks on the
caller's event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from promptlane_client import endpoints
from promptlane_client.base import BaseClient
from promptlane_client.cache import (
    CacheCore,
    Clock,
    Entry,
    Miss,
    Selector,
    arun,
)
from promptlane_client.http import Call, check_response
from promptlane_client.methods.datasets import AsyncDatasetMethods
from promptlane_client.methods.webhooks import AsyncWebhookMethods
from promptlane_client.prompt import FallbackSource, Prompt

T = TypeVar("T")
AsyncRequest = Callable[..., Awaitable[httpx.Response]]


class AsyncPromptCache(CacheCore[Awaitable[httpx.Response]]):
    """The async client's prompt cache; refreshes run as tasks on the caller's event loop."""

    def __init__(self, request: AsyncRequest, *, ttl: float, clock: Clock = time.monotonic) -> None:
        super().__init__(request, ttl=ttl, clock=clock)
        self._loading: dict[tuple[str, Selector], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self, miss: Miss) -> Prompt:
        """Fetch a prompt that is not cached; tasks asking for one key share one request."""
        async with self._loading.setdefault(miss.key, asyncio.Lock()):
            return await arun(self.fetch(miss), self._send)

    def _start(self, name: str, sel: Selector, entry: Entry) -> None:
        task = asyncio.get_running_loop().create_task(
            arun(self.refresh(name, sel, entry), self._send), name="promptlane-refresh"
        )
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop background refreshes."""
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class AsyncClient(
    BaseClient[httpx.AsyncBaseTransport, httpx.AsyncClient, AsyncPromptCache],
    AsyncWebhookMethods,
    AsyncDatasetMethods,
):
    """Asynchronous client: cached prompts, resolve, server-side render, webhooks, curation."""

    _pool_class = httpx.AsyncClient
    _cache_class = AsyncPromptCache

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop background refreshes and close the connection pool."""
        await self._prompts.aclose()
        await self._http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise APIError on 4xx/5xx and ConnectionFailedError if unreachable."""
        with self._answered():
            return check_response(await self._http.request(method, path, **kwargs))

    async def _send(self, call: Call[T]) -> T:
        return call.read(await self.request(call.method, call.path, **call.options(self.timeout)))

    async def get_prompt(
        self,
        name: str,
        *,
        label: str | None = None,
        version: int | None = None,
        fallback: FallbackSource | None = None,
        cache_ttl: float | None = None,
    ) -> Prompt:
        """Await a prompt by label (default production) or version; see `Client.get_prompt`.

        A stale entry returns at once while one task on this event loop revalidates it.
        """
        prompts = self._prompts
        prompt = prompts.hit(name, label, version)
        if prompt is None:
            prompt = await prompts.load(prompts.miss(name, label, version, fallback, cache_ttl))
        return prompt

    async def resolve_prompt(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Return the version a label (default production) or number selects (uncached)."""
        return await self._send(endpoints.resolve_prompt(name, label, version))

    async def render_prompt(
        self,
        name: str,
        variables: dict[str, Any],
        *,
        label: str | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Render a version server-side into messages and config."""
        return await self._send(endpoints.render_prompt(name, variables, label, version))
