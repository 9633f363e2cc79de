"""The asynchronous client: cached `get_prompt` for asyncio applications, plus resolve/render."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from api.sdk.cache import (
    DEFAULT_CACHE_TTL,
    Clock,
    Entry,
    PromptStore,
    Selector,
    check_ttl,
    resolve_kwargs,
    selector,
)
from api.sdk.errors import PromptlaneError
from api.sdk.http import (
    DEFAULT_URL,
    check_response,
    connection_failed,
    default_headers,
    prompt_path,
)
from api.sdk.prompt import DEFAULT_LABEL, FallbackSource, Prompt
from api.sdk.snapshot import read_snapshot

AsyncRequest = Callable[..., Awaitable[httpx.Response]]


class AsyncPromptCache:
    """The async client's prompt cache; refreshes run as tasks on the caller's event loop."""

    def __init__(self, request: AsyncRequest, *, ttl: float, clock: Clock = time.monotonic) -> None:
        self.store = PromptStore(ttl=ttl, clock=clock)
        self._entries = self.store.entries
        self._clock = clock
        self._request = request
        self._loading: dict[tuple[str, Selector], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    async def get(
        self,
        name: str,
        label: str | None = None,
        version: int | None = None,
        *,
        fallback: FallbackSource | None = None,
        cache_ttl: float | None = None,
    ) -> Prompt:
        """Return the prompt from the cache, or fetch it (see `AsyncClient.get_prompt`)."""
        if label is not None and version is not None:
            raise ValueError("give label or version, not both")
        by_selector = self._entries.get(name)
        if by_selector is not None:
            entry = by_selector.get((label or DEFAULT_LABEL) if version is None else version)
            if entry is not None:
                if entry.expires <= self._clock() and not entry.refreshing:
                    self._revalidate(name, selector(label, version), entry)
                return entry.prompt
        return await self._load(name, selector(label, version), fallback, cache_ttl)

    def _revalidate(self, name: str, sel: Selector, entry: Entry) -> None:
        if self.closed or not self.store.claim(entry):
            return
        task = asyncio.get_running_loop().create_task(
            self._refresh(name, sel, entry), name="promptlane-refresh"
        )
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, name: str, sel: Selector, entry: Entry) -> None:
        try:
            response = await self._request(
                "GET", prompt_path(name), **resolve_kwargs(sel, entry.etag)
            )
            self.store.accept(name, sel, response, ttl=entry.ttl, old=entry)
        except Exception as exc:  # a background task has nobody to raise to
            if not self.closed:
                self.store.failed(name, sel, entry, exc)

    async def _load(
        self, name: str, sel: Selector, fallback: FallbackSource | None, ttl: float | None
    ) -> Prompt:
        ttl = self.store.ttl if ttl is None else check_ttl(ttl)
        async with self._loading.setdefault((name, sel), asyncio.Lock()):
            entry = self.store.lookup(name, sel)
            if entry is not None:  # another task fetched it while this one waited
                return entry.prompt
            try:
                response = await self._request(
                    "GET", prompt_path(name), **resolve_kwargs(sel, None)
                )
            except PromptlaneError as exc:
                return self.store.cold_failure(name, sel, exc, fallback, ttl)
            return self.store.accept(name, sel, response, ttl=ttl, old=None)

    async def aclose(self) -> None:
        """Stop background refreshes."""
        self.closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class AsyncClient:
    """Asynchronous client for applications: cached prompts, resolve and server-side render."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        snapshot: str | Path | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=default_headers(api_key),
            timeout=timeout,
            transport=transport,
        )
        self._prompts = AsyncPromptCache(self.request, ttl=cache_ttl)
        if snapshot is not None:
            self._prompts.store.seed(read_snapshot(snapshot))

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop background refreshes and close the connection pool."""
        await self._prompts.aclose()
        await self._http.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise APIError on 4xx/5xx and ConnectionFailedError if unreachable."""
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from None
        return check_response(response)

    def get_prompt(
        self,
        name: str,
        *,
        label: str | None = None,
        version: int | None = None,
        fallback: FallbackSource | None = None,
        cache_ttl: float | None = None,
    ) -> Coroutine[Any, Any, Prompt]:
        """Await a prompt by label (default production) or version; see `Client.get_prompt`.

        A stale entry returns at once while one task on this event loop revalidates it.
        """
        # Not `async def`: handing back the cache's coroutine saves a coroutine per hit.
        return self._prompts.get(name, label, version, fallback=fallback, cache_ttl=cache_ttl)

    async def resolve_prompt(
        self, name: str, *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Return the version a label (default production) or number selects (uncached)."""
        response = await self.request(
            "GET", prompt_path(name), **resolve_kwargs(selector(label, version), None)
        )
        result: dict[str, Any] = response.json()
        return result

    async def render_prompt(
        self,
        name: str,
        variables: dict[str, Any],
        *,
        label: str | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Render a version server-side into messages and config."""
        body: dict[str, Any] = {"variables": variables}
        if label is not None:
            body["label"] = label
        if version is not None:
            body["version"] = version
        response = await self.request("POST", prompt_path(name) + "/render", json=body)
        result: dict[str, Any] = response.json()
        return result
