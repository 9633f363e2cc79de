"""Shared fixtures: a migrated database per session (SQLite or PostgreSQL), one rolled-back
connection per test, the app on that connection, and API keys for every role."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.bootstrap import bootstrap
from api.db import Database, create_engine
from api.identity import keys
from api.migrate import upgrade
from api.server.app import create_app
from api.settings import Settings
from prompts.policy import Actor, Role

bootstrap()  # as the CLI and the server do: tests build domain objects directly too

BACKEND = os.environ.get("PROMPTLANE_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("PROMPTLANE_TEST_POSTGRES_URL", "")
ADMIN_KEY = "pl_test-admin-" + "a" * 24
WRITER_KEY = "pl_test-writer-" + "w" * 24
READER_KEY = "pl_test-reader-" + "r" * 24
KEYS = {Role.ADMIN: ADMIN_KEY, Role.WRITER: WRITER_KEY, Role.READER: READER_KEY}

if BACKEND not in ("sqlite", "postgres"):
    raise RuntimeError(f"PROMPTLANE_TEST_DATABASE must be sqlite or postgres, not {BACKEND!r}")
if BACKEND == "postgres" and not POSTGRES_URL:
    raise RuntimeError("PROMPTLANE_TEST_DATABASE=postgres needs PROMPTLANE_TEST_POSTGRES_URL")


# A test database's name carries the pid of the pytest process that made it, so a later run can
# tell a database whose run was killed (SIGKILL, a CI timeout: no teardown ran) from one in use.
TEST_DATABASE_PREFIX = "promptlane_test_"
_OWNED_NAME = re.compile(rf"{TEST_DATABASE_PREFIX}(\d+)_[0-9a-f]{{12}}")
_LEGACY_NAME = re.compile(rf"{TEST_DATABASE_PREFIX}[0-9a-f]{{16}}")


class DatabaseFactory:
    """Creates fresh, migrated databases of the backend under test, and drops them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def create(self, *, migrate: bool = True) -> str:
        """Return the URL of a new empty database (migrated to head unless told not to)."""
        if BACKEND == "sqlite":
            url = f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.db'}"
        else:
            name = f"{TEST_DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
            self.created.append(name)  # before CREATE: a half-made database is dropped too
            with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        if migrate:
            upgrade(url)
        return url

    def drop_all(self) -> None:
        """Drop every PostgreSQL database this factory made; one failure stops none of the rest."""
        if not self.created:
            return
        failures = drop_databases(self.created)
        self.created.clear()
        if failures:
            raise RuntimeError(f"could not drop test databases: {failures}")


def drop_databases(names: list[str]) -> dict[str, str]:
    """Drop the named databases (connections to them are terminated); return name -> error."""
    failures: dict[str, str] = {}
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        for name in names:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as exc:
                failures[name] = str(exc).strip()
    return failures


def orphaned_test_databases(names: list[str], alive: Callable[[int], bool]) -> list[str]:
    """Return the test databases whose pytest process is gone (or that predate pid naming)."""
    orphans = []
    for name in names:
        owned = _OWNED_NAME.fullmatch(name)
        if (owned and not alive(int(owned.group(1)))) or _LEGACY_NAME.fullmatch(name):
            orphans.append(name)
    return orphans


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphaned_databases() -> list[str]:
    """Drop the databases earlier, killed test runs left behind; return their names."""
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (TEST_DATABASE_PREFIX + "%",)
        ).fetchall()
    orphans = orphaned_test_databases([row[0] for row in rows], _pid_alive)
    failures = drop_databases(orphans) if orphans else {}
    return [name for name in orphans if name not in failures]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's PROMPTLANE_* settings and credentials out of every test."""
    for name in list(os.environ):
        if name.startswith("PROMPTLANE_") and not name.startswith("PROMPTLANE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PROMPTLANE_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))
    monkeypatch.setenv("PROMPTLANE_SECRET_KEY_FILE", str(tmp_path / "secret.key"))


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Make fresh databases on demand; drop them at the end of the session."""
    if BACKEND == "postgres":
        sweep_orphaned_databases()
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: DatabaseFactory) -> str:
    """Return the session's migrated database."""
    return databases.create()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Return an engine on the session's database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Return a connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
def db(connection: AsyncConnection) -> Database:
    """Return session factories bound to the test's connection (sessions are savepoints)."""
    return Database.bound_to(connection)


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """Return a session inside the test's transaction."""
    async with db.writer() as s:
        yield s


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Return settings for a test app (explicit values, nothing from the environment)."""
    values: dict[str, object] = {
        "database_url": database_url,
        "bootstrap_admin_key": ADMIN_KEY,
        "credentials_file": tmp_path / "credentials.json",
        "secret_key_file": tmp_path / "secret.key",
        # In-process tests share one connection; runs are executed explicitly by the tests,
        # and so are rollup folds (tests/tracing/test_rollups_fold.py).
        "run_executor": "none",
        "rollup_fold_interval": 0,
        # litellm is imported when a test needs it; the warm-up has its own test, and the
        # servers the e2e tests start warm up as a deployment does.
        "warm_model_layer": False,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Return the test app's settings."""
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[object]:
    """Return the app on the test's connection, started (admin key bootstrapped)."""
    application = create_app(settings, database=db)
    async with application.router.lifespan_context(application):
        async with db.transaction() as s:
            for role in (Role.WRITER, Role.READER):
                data = keys.ApiKeyCreate(name=f"test-{role.value}", role=role)
                await keys.create_key(s, data=data, created_by="tests", key=KEYS[role])
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client on the app (no network), authenticated as admin."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://promptlane.test", headers=auth(Role.ADMIN)
    ) as c:
        yield c


def auth(role: Role | None) -> dict[str, str]:
    """Return the Authorization header of the test key for `role` (none for None)."""
    return {"Authorization": f"Bearer {KEYS[role]}"} if role else {}


ADMIN = Actor(id="key:admin", name="admin", role=Role.ADMIN)
WRITER = Actor(id="key:writer", name="writer", role=Role.WRITER)
READER = Actor(id="key:reader", name="reader", role=Role.READER)
