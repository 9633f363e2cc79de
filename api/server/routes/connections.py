"""Provider connections: admins create, change and delete them; any key may read them (no key)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Response

from api.server.deps import Admin, AppServices, Reader, ReadSession, WriteSession, on_commit
from evals.connections import service
from evals.connections.schemas import ConnectionCreate, ConnectionRead, ConnectionUpdate

router = APIRouter(prefix="/v1/connections", tags=["connections"])

_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
ConnectionName = Annotated[str, Path(pattern=_NAME_PATTERN, max_length=64)]


def _forget_on_commit(services: AppServices, session: WriteSession) -> None:
    """Make this process's calls see the change as soon as it is committed."""
    on_commit(session, services.connections.invalidate)


@router.post("", status_code=201)
async def create_connection(
    data: ConnectionCreate, services: AppServices, session: WriteSession, actor: Admin
) -> ConnectionRead:
    """Create a connection; its key is stored encrypted and never returned."""
    _forget_on_commit(services, session)
    return await service.create_connection(
        session, data=data, actor=actor.name, keyring=services.keyring
    )


@router.get("")
async def list_connections(session: ReadSession, actor: Reader) -> list[ConnectionRead]:
    """List connections (never their keys)."""
    return await service.list_connections(session)


@router.get("/{name}")
async def get_connection(
    name: ConnectionName, session: ReadSession, actor: Reader
) -> ConnectionRead:
    """Return one connection (never its key)."""
    return await service.get_connection(session, name=name)


@router.patch("/{name}")
async def update_connection(
    name: ConnectionName,
    data: ConnectionUpdate,
    services: AppServices,
    session: WriteSession,
    actor: Admin,
) -> ConnectionRead:
    """Change a connection: fields given replace the stored ones; an omitted key stays."""
    _forget_on_commit(services, session)
    return await service.update_connection(
        session, name=name, data=data, actor=actor.name, keyring=services.keyring
    )


@router.delete("/{name}", status_code=204, response_class=Response)
async def delete_connection(
    name: ConnectionName, services: AppServices, session: WriteSession, actor: Admin
) -> None:
    """Delete a connection; versions that name it fail with a configuration error."""
    _forget_on_commit(services, session)
    await service.delete_connection(session, name=name)
