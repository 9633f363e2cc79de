"""Engines and sessions: SQLite (WAL, serialised writers) by default, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

_WRITE_OPTION = "promptlane_write"


def _normalise(url: str) -> str:
    if url.startswith("postgres://"):
        return "postgresql://" + url.removeprefix("postgres://")
    return url


def async_url(url: str) -> str:
    """Return `url` with the async driver promptlane uses for its database."""
    parsed = make_url(_normalise(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    """Return `url` with the sync driver used by migrations."""
    parsed = make_url(_normalise(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY instead of waiting when another writer got there first.
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10) -> AsyncEngine:
    """Create the async engine for `url` with promptlane's connection settings."""
    target = async_url(url)
    # Statement parameters are what callers sent (prompts, answers, secrets' ciphertext): keep
    # them out of error messages and logs.
    if make_url(target).get_backend_name() == "sqlite":
        engine = create_async_engine(target, hide_parameters=True)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_async_engine(
        target,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


class Database:
    """Session factories over one engine (or, in tests, one connection)."""

    def __init__(
        self,
        reader: async_sessionmaker[AsyncSession],
        writer: async_sessionmaker[AsyncSession],
        engine: AsyncEngine | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.engine = engine

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Database:
        """Build the factories: writers are marked so SQLite begins them IMMEDIATE."""
        return cls(
            async_sessionmaker(engine, expire_on_commit=False),
            async_sessionmaker(
                engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
            ),
            engine,
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Database:
        """Create an engine for `url` and build the factories."""
        return cls.from_engine(create_engine(url, **options))

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        """Use one open connection; sessions become savepoints (test isolation)."""
        factory = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        return cls(factory, factory)

    def reader(self) -> AsyncSession:
        """Return a session for reads."""
        return self._reader()

    def writer(self) -> AsyncSession:
        """Return a session for a write transaction."""
        return self._writer()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Run a write transaction: commit on success, roll back on error."""
        async with self.writer() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def dispose(self) -> None:
        """Close the engine's connections."""
        if self.engine is not None:
            await self.engine.dispose()
