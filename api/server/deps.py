"""Request-scoped dependencies: the app's services, the caller's role, and sessions.

Every route reaches the server's long-lived objects through `AppServices` (one frozen
`Services`, built by the lifespan); writes commit before the response is sent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Final

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.server.services import Services
from api.settings import Settings
from prompts import events
from prompts.policy import Actor, Role
from prompts.service import changed_prompts

_ON_COMMIT: Final = "promptlane.on_commit"
log = logging.getLogger("promptlane.api")


def get_services(request: Request) -> Services:
    """Return the app's services (built once by the lifespan)."""
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]


# Declares the scheme in the OpenAPI document (Swagger UI's "Authorize" button), with the role
# an operation needs as its "scope" (OpenAPI 3.1 lets non-OAuth schemes list role names there);
# the key itself is read from the raw header by `Auth.authorize`, which answers every refusal
# with its problem JSON.
_BEARER: Final = HTTPBearer(
    scheme_name="apiKey",
    description="An API key: `Authorization: Bearer pl_…` (`promptlane keys create`)",
    auto_error=False,
)


def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    """Return a dependency that authenticates and demands at least `role`."""

    async def dependency(
        request: Request,
        services: AppServices,
        _: HTTPAuthorizationCredentials | None = Security(_BEARER, scopes=[role.value]),
    ) -> Actor:
        return await services.auth.authorize(request.headers.get("authorization"), role)

    dependency.__name__ = f"require_{role.value}"
    return dependency


Reader = Annotated[Actor, Depends(require(Role.READER))]
Writer = Annotated[Actor, Depends(require(Role.WRITER))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` after the request's write transaction commits."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


async def _read_session(services: AppServices) -> AsyncIterator[AsyncSession]:
    async with services.db.reader() as session:
        yield session


async def _write_session(services: AppServices) -> AsyncIterator[AsyncSession]:
    async with services.db.writer() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            await _write_deferred(services, events.deferred(session))
            raise
        changed = bool(changed_prompts(session))
        callbacks: list[Callable[[], None]] = session.info.get(_ON_COMMIT, [])
        await session.commit()
        if changed:
            services.resolver.invalidate()
        for callback in callbacks:
            callback()
        if events.emitted(session) and services.webhooks is not None:
            services.webhooks.wake()


async def _write_deferred(services: Services, pending: list[events.DeferredEvent]) -> None:
    """Record the events of a refused write (a refused label move) after its rollback."""
    if not pending:
        return
    try:
        async with services.db.transaction() as session:
            await events.write_deferred(session, pending)
        if services.webhooks is not None:
            services.webhooks.wake()
    except Exception:  # the refusal is the answer: a failure here must not replace it
        log.warning("could not record %d refusal event(s)", len(pending), exc_info=True)


def _settings(services: AppServices) -> Settings:
    return services.settings


# scope="function": the commit happens before the response is sent, so a client that got
# 201 can read its write, and a failed commit turns into an error response.
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
