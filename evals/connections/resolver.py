"""What a model call goes through: a connection's endpoint and key, and the model litellm gets.

`route` applies the rules. Offline models need no connection. Any other model goes through
the config's `connection`, else the connection named like the model's provider prefix
(`openai/gpt-4o-mini` → `openai`); a prefix that is a known provider must be the connection's
provider. Anything else is a ModelConfigurationError (never retried) that says what an admin
runs. `ConnectionResolver` reads every connection at most once per `ttl` seconds and opens
their keys; a change made in this process invalidates it at once (other replicas: `ttl`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from evals.connections import service
from evals.connections.crypto import SecretBox, UndecryptableSecretError
from evals.connections.models import Connection
from evals.errors import ModelConfigurationError
from promptlane_client.params import OFFLINE_PREFIX

SessionFactory = Callable[[], AsyncSession]


@dataclass(frozen=True)
class ResolvedConnection:
    """A connection as a call uses it; `problem` says why its key cannot be used."""

    name: str
    provider: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    gateway_models: tuple[str, ...] = ()
    problem: str | None = None


class ConnectionSource(Protocol):
    """Where calls look connections up (the database resolver, or a fixed set in tests)."""

    async def get(self, name: str) -> ResolvedConnection | None:
        """Return the connection called `name`, or None."""
        ...

    async def for_gateway_model(self, model: str) -> ResolvedConnection | None:
        """Return the connection whose gateway models list `model`, or None."""
        ...


class StaticConnections:
    """A fixed set of connections (tests, scripts); the empty one serves offline models only."""

    def __init__(self, connections: Iterable[ResolvedConnection] = ()) -> None:
        """Hold `connections` by name."""
        self._by_name = {c.name: c for c in connections}

    async def get(self, name: str) -> ResolvedConnection | None:
        """Return the connection called `name`, or None."""
        return self._by_name.get(name)

    async def for_gateway_model(self, model: str) -> ResolvedConnection | None:
        """Return the connection whose gateway models list `model`, or None."""
        return next((c for c in self._by_name.values() if model in c.gateway_models), None)


NO_CONNECTIONS = StaticConnections()


@dataclass(frozen=True)
class Route:
    """How one call is made: the model string litellm gets and the connection (None: offline)."""

    model: str
    connection: ResolvedConnection | None


def _hint(name: str, provider: str) -> str:
    return (
        f"an admin creates it with `promptlane connections create {name} --provider {provider} "
        "--api-key-stdin` (or --api-key-env VAR)"
    )


async def route(
    source: ConnectionSource, *, model: str, connection: str | None, providers: Collection[str]
) -> Route:
    """Return how to call `model` (a version's `connection`, else its provider prefix's)."""
    if model.startswith(OFFLINE_PREFIX):
        return Route(model, None)
    prefix, slash, _ = model.partition("/")
    prefixed = bool(slash) and prefix in providers
    name = connection or (prefix if slash else None)
    if name is None:
        raise ModelConfigurationError(
            f"model {model!r} names no connection: set `connection` in the version's config, "
            f"or prefix the model with its provider (e.g. openai/{model})"
        )
    found = await source.get(name)
    if found is None:
        provider = prefix if prefixed else "<provider>"
        raise ModelConfigurationError(
            f"no connection named {name!r} for model {model!r}: {_hint(name, provider)}"
        )
    if found.problem is not None:
        raise ModelConfigurationError(f"connection {name!r}: {found.problem}")
    if prefixed and prefix != found.provider:
        raise ModelConfigurationError(
            f"model {model!r} is a {prefix} model but connection {name!r} is for {found.provider}"
        )
    return Route(model if prefixed else f"{found.provider}/{model}", found)


class ConnectionResolver:
    """Connections from the database, keys opened, cached for `ttl` seconds."""

    def __init__(
        self,
        reader: SessionFactory,
        *,
        box: SecretBox,
        env: Mapping[str, str],
        ttl: float = 5.0,
    ) -> None:
        """Read with `reader` sessions; open keys with `box` or from `env` (allow-listed)."""
        self._reader = reader
        self._box = box
        self._env = dict(env)
        self._ttl = ttl
        self._by_name: dict[str, ResolvedConnection] = {}
        self._by_model: dict[str, ResolvedConnection] = {}
        self._loaded_at = -math.inf
        self._generation = 0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the connections read so far (this process changed one)."""
        self._generation += 1
        self._loaded_at = -math.inf

    async def get(self, name: str) -> ResolvedConnection | None:
        """Return the connection called `name`, or None."""
        await self._refresh()
        return self._by_name.get(name)

    async def for_gateway_model(self, model: str) -> ResolvedConnection | None:
        """Return the connection whose gateway models list `model`, or None."""
        await self._refresh()
        return self._by_model.get(model)

    async def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at < self._ttl:
                return
            generation = self._generation
            async with self._reader() as session:
                rows = await service.load_connections(session)
            by_name = {row.name: self._open(row) for row in rows}
            self._by_name = by_name
            self._by_model = {m: c for c in by_name.values() for m in c.gateway_models}
            # A change committed while this read ran leaves the snapshot stale: read again then.
            if generation == self._generation:
                self._loaded_at = time.monotonic()

    def _open(self, row: Connection) -> ResolvedConnection:
        key, problem = None, None
        if row.api_key_ciphertext is not None:
            try:
                key = self._box.open(row.api_key_ciphertext)
            except UndecryptableSecretError:
                problem = (
                    "its key cannot be decrypted with the configured secret keys "
                    "(PROMPTLANE_SECRET_KEYS or the secret key file): an admin sets it again "
                    f"with `promptlane connections update {row.name} --api-key-stdin`"
                )
        elif row.api_key_env is not None:
            key = self._env.get(row.api_key_env)
            if not key:
                problem = (
                    f"its key variable {row.api_key_env} is not set (or not allowed) on this server"
                )
        return ResolvedConnection(
            name=row.name,
            provider=row.provider,
            api_base=row.api_base,
            api_key=key,
            gateway_models=tuple(row.gateway_models),
            problem=problem,
        )
