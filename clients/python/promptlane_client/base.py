"""What Client and AsyncClient share, as httpx's BaseClient is shared: everything but sending."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from promptlane_client.cache import DEFAULT_CACHE_TTL, CacheCore
from promptlane_client.errors import ConnectionFailedError
from promptlane_client.http import DEFAULT_URL, connection_failed, default_headers
from promptlane_client.snapshot import read_snapshot

Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


class BaseClient(ABC, Generic[Transport]):
    """The server, the key, the timeout and the prompt cache; a subclass only sends."""

    _prompts: CacheCore

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
        options = {"base_url": self.url, "headers": default_headers(api_key), "timeout": timeout}
        self._open(options, transport)
        self._prompts = self._prompt_cache(cache_ttl)
        if snapshot is not None:
            self._prompts.store.seed(read_snapshot(snapshot))

    @abstractmethod
    def _open(self, options: dict[str, Any], transport: Transport | None) -> None:
        """Create the httpx client the subclass sends on."""

    @abstractmethod
    def _prompt_cache(self, ttl: float) -> CacheCore:
        """Return the prompt cache, refreshing the way the subclass can."""

    def _unreachable(self, exc: httpx.TransportError) -> ConnectionFailedError:
        """Return the error for a request that never got an answer."""
        return connection_failed(self.url, exc)
