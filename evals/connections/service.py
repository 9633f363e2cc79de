"""Connection management: create, change, delete, list; keys sealed before they are stored.

Only admins reach the writes (the API checks the role). A key is sealed with the SecretBox
the API passes in and never leaves this module in the clear except to the resolver; an
`api_key_env` must be one of the variables the server allows (`env_allowlist`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.crypto import SecretBox, UndecryptableSecretError
from evals.connections.models import Connection
from evals.connections.schemas import (
    ConnectionCreate,
    ConnectionRead,
    ConnectionUpdate,
    slug_problem,
)
from evals.errors import (
    ConnectionConflictError,
    ConnectionExistsError,
    ConnectionNotFoundError,
    InvalidConnectionError,
)
from promptlane_client.errors import FieldProblem
from prompts.base import utc_now

# The advisory lock key that serialises changes to who offers which gateway model.
_GATEWAY_MODELS_LOCK: Final = 0x70726F6D70746C6E  # "promptln"


@dataclass(frozen=True)
class Keyring:
    """What sealing and checking keys needs: the SecretBox and the allowed variable names."""

    box: SecretBox
    env_allowlist: Collection[str]


def _read(row: Connection) -> ConnectionRead:
    return ConnectionRead(
        name=row.name,
        provider=row.provider,
        api_base=row.api_base,
        has_api_key=row.api_key_ciphertext is not None,
        api_key_env=row.api_key_env,
        gateway_models=list(row.gateway_models),
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _check_env(env: str | None, allowlist: Collection[str]) -> None:
    if env is not None and env not in allowlist:
        detail = (
            f"api_key_env {env!r} is not an allowed variable; the server allows "
            f"{', '.join(sorted(allowlist)) or 'none'} (PROMPTLANE_CONNECTION_ENV_ALLOWLIST)"
        )
        raise InvalidConnectionError(detail, errors=[FieldProblem("#/api_key_env", detail)])


async def _row(session: AsyncSession, name: str, *, for_update: bool = False) -> Connection:
    problem = slug_problem(name, "connection name")
    if problem is not None:
        raise InvalidConnectionError(problem, errors=[FieldProblem("#/name", problem)])
    stmt = select(Connection).where(Connection.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    row: Connection | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise ConnectionNotFoundError(f"no connection named {name!r}")
    return row


async def _check_gateway_models(session: AsyncSession, models: Sequence[str], *, name: str) -> None:
    """Refuse a gateway model another connection offers (one model, one connection)."""
    if not models:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions offering the same model would not see each other's new rows:
        # they take turns (SQLite's write transactions already do).
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_GATEWAY_MODELS_LOCK)))
    rows = await session.execute(
        select(Connection.name, Connection.gateway_models).where(Connection.name != name)
    )
    wanted = set(models)
    for other, offered in rows.tuples():
        clash = sorted(wanted.intersection(offered))
        if clash:
            raise ConnectionConflictError(
                f"gateway model {clash[0]!r} is already offered through connection {other!r}"
            )


async def create_connection(
    session: AsyncSession, *, data: ConnectionCreate, actor: str, keyring: Keyring
) -> ConnectionRead:
    """Store a new connection; its key is sealed, never stored in the clear."""
    _check_env(data.api_key_env, keyring.env_allowlist)
    exists = await session.execute(select(Connection.id).where(Connection.name == data.name))
    if exists.first() is not None:
        raise ConnectionExistsError(f"a connection named {data.name!r} exists")
    await _check_gateway_models(session, data.gateway_models, name=data.name)
    now = utc_now()
    row = Connection(
        name=data.name,
        provider=data.provider,
        api_base=data.api_base,
        api_key_ciphertext=_sealed(data, keyring.box),
        api_key_env=data.api_key_env,
        gateway_models=list(data.gateway_models),
        description=data.description,
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return _read(row)


def _sealed(data: ConnectionCreate | ConnectionUpdate, box: SecretBox) -> str | None:
    return None if data.api_key is None else box.seal(data.api_key.get_secret_value())


def _apply_key(row: Connection, data: ConnectionUpdate, box: SecretBox) -> None:
    """Set, replace or remove the key; a key and a variable exclude each other."""
    given = data.model_fields_set
    if "api_key" in given:
        row.api_key_ciphertext = _sealed(data, box)
        if data.api_key is not None:
            row.api_key_env = None
    if "api_key_env" in given:
        row.api_key_env = data.api_key_env
        if data.api_key_env is not None:
            row.api_key_ciphertext = None


async def update_connection(
    session: AsyncSession, *, name: str, data: ConnectionUpdate, actor: str, keyring: Keyring
) -> ConnectionRead:
    """Change the fields given (an omitted key stays as it is)."""
    _check_env(data.api_key_env, keyring.env_allowlist)
    row = await _row(session, name, for_update=True)
    given = data.model_fields_set
    if data.gateway_models is not None:
        await _check_gateway_models(session, data.gateway_models, name=name)
        row.gateway_models = list(data.gateway_models)
    if data.provider is not None:
        row.provider = data.provider
    if "api_base" in given:
        row.api_base = data.api_base
    if data.description is not None:
        row.description = data.description
    _apply_key(row, data, keyring.box)
    row.updated_by, row.updated_at = actor, utc_now()
    await session.flush()
    return _read(row)


async def delete_connection(session: AsyncSession, *, name: str) -> None:
    """Remove a connection; versions naming it fail with a configuration error until it returns."""
    row = await _row(session, name, for_update=True)
    await session.delete(row)
    await session.flush()


async def get_connection(session: AsyncSession, *, name: str) -> ConnectionRead:
    """Return one connection (never its key)."""
    return _read(await _row(session, name))


async def list_connections(session: AsyncSession) -> list[ConnectionRead]:
    """Return every connection by name (never their keys)."""
    rows = await session.execute(select(Connection).order_by(col(Connection.name)))
    return [_read(row) for row in rows.scalars()]


async def load_connections(session: AsyncSession) -> list[Connection]:
    """Return every connection row, for the resolver (keys still sealed)."""
    return list((await session.execute(select(Connection))).scalars())


async def rotate_secrets(session: AsyncSession, *, box: SecretBox) -> tuple[int, list[str]]:
    """Re-seal every stored key under the box's first key; return the count and the failures."""
    rows = await session.execute(
        select(Connection).where(col(Connection.api_key_ciphertext).is_not(None)).with_for_update()
    )
    rotated, failed = 0, []
    for row in rows.scalars():
        assert row.api_key_ciphertext is not None
        try:
            row.api_key_ciphertext = box.rotate(row.api_key_ciphertext)
        except UndecryptableSecretError:
            failed.append(row.name)
            continue
        rotated += 1
    await session.flush()
    return rotated, failed
