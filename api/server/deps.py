"""Request-scoped dependencies: sessions (writes commit before the response is sent)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Final

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import Database
from api.server.cache import ResolveCache
from api.settings import Settings
from prompts.service import changed_prompts

_ON_COMMIT: Final = "promptlane.on_commit"


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` after the request's write transaction commits."""
    session.info.setdefault(_ON_COMMIT, []).append(callback)


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    async with db.reader() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    async with db.writer() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        changed = bool(changed_prompts(session))
        callbacks: list[Callable[[], None]] = session.info.get(_ON_COMMIT, [])
        await session.commit()
        if changed:
            cache: ResolveCache = request.app.state.resolve_cache
            cache.invalidate()
        for callback in callbacks:
            callback()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens before the response is sent, so a client that got
# 201 can read its write, and a failed commit turns into an error response.
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]
