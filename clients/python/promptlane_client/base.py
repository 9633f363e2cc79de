"""What Client and AsyncClient share, as httpx's BaseClient is shared: everything but sending."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import httpx

from promptlane_client.cache import DEFAULT_CACHE_TTL, CacheCore
from promptlane_client.http import DEFAULT_URL, connection_failed, default_headers
from promptlane_client.snapshot import read_snapshot

Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)
Pool = TypeVar("Pool", httpx.Client, httpx.AsyncClient)
Cache = TypeVar("Cache", bound=CacheCore[Any])


class BaseClient(ABC, Generic[Transport, Pool, Cache]):
    """The server, the key, the timeout and the prompt cache; a subclass only sends.

    A subclass names its httpx client class (`_pool_class`) and its prompt cache class
    (`_cache_class`, which refreshes the way the subclass can), and defines `request`.
    """

    _pool_class: type[Pool]
    _cache_class: type[Cache]
    _http: Pool
    _prompts: Cache

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        transport: Transport | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        snapshot: str | Path | None = None,
    ) -> None:
        """Talk to the server at `url` with `api_key` (a reader key is enough for prompts).

        `timeout` is in seconds; `cache_ttl` is how long a fetched prompt stays fresh (its
        default 60 s); `snapshot` is a file from `promptlane prompts snapshot` to boot from.
        """
        self.url = url.rstrip("/")
        self.timeout = timeout
        # A subclass's Transport is the kind its Pool takes (both are its type arguments); mypy
        # checks each pairing of two constrained type variables, even those no subclass makes.
        sends_on = cast(Any, transport)
        headers = default_headers(api_key)
        self._http = self._pool_class(
            base_url=self.url, headers=headers, timeout=timeout, transport=sends_on
        )
        self._prompts = self._cache_class(self.request, ttl=cache_ttl)
        if snapshot is not None:
            self._prompts.store.seed(read_snapshot(snapshot))

    @abstractmethod
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request (the async client's returns an awaitable)."""

    @contextmanager
    def _answered(self) -> Iterator[None]:
        """Raise ConnectionFailedError for a request sent within that never got an answer."""
        try:
            yield
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from None
