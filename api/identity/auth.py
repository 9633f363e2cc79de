"""Bearer API-key authentication with an in-process cache.

The role requirements routes declare (`Reader`, `Writer`, `Admin`) are in api/server/deps.py;
they and the OTLP/gRPC receiver check roles with `Authenticator.authorize`.
"""

from __future__ import annotations

import time
from typing import Final

from api.db import Database
from api.identity.errors import AuthenticationError, PermissionDeniedError
from api.identity.keys import find_active, hash_key, is_well_formed
from prompts.policy import Actor, Role

_MAX_CACHED: Final = 10_000


class Authenticator:
    """Turns an Authorization header into an Actor.

    Verified keys are cached for `ttl` seconds, so the hot path never touches the database;
    a revocation is seen at once by this process and within `ttl` by other replicas.
    """

    def __init__(self, db: Database, *, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[Actor, float]] = {}

    async def authenticate(self, authorization: str | None) -> Actor:
        """Return the actor for a `Bearer pl_...` header, or raise AuthenticationError."""
        if not authorization:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer pl_...'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("malformed API key: expected 'Authorization: Bearer pl_...'")
        if not is_well_formed(token):  # a mistyped or made-up key: the same answer as a wrong one
            raise AuthenticationError("unknown or revoked API key")
        digest = hash_key(token)
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        async with self._db.reader() as session:
            row = await find_active(session, digest)
        if row is None:
            raise AuthenticationError("unknown or revoked API key")
        actor = Actor(id=f"key:{row.id}", name=row.name, role=Role(row.role))
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[digest] = (actor, time.monotonic() + self._ttl)
        return actor

    async def authorize(self, authorization: str | None, role: Role) -> Actor:
        """Return the actor for a `Bearer pl_...` header if its role allows `role`."""
        actor = await self.authenticate(authorization)
        if not actor.role.allows(role):
            raise PermissionDeniedError(
                f"this needs the {role.value} role; the key {actor.name!r} is {actor.role.value}"
            )
        return actor

    def cached(self, authorization: str | None) -> Actor | None:
        """Return the actor for a header verified recently in this process, without I/O."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        digest = hash_key(authorization[7:].strip())
        hit = self._cache.get(digest)
        if hit is None or hit[1] <= time.monotonic():
            return None
        return hit[0]

    def forget_all(self) -> None:
        """Drop every cached verification (after a revocation)."""
        self._cache.clear()
