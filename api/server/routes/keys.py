"""API key management (admin only), and which key is calling (any key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.identity import keys
from api.server.deps import Admin, AppServices, Reader, ReadSession, WriteSession, on_commit
from api.server.params import INT_MAX

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post("", status_code=201)
async def create_key(
    data: keys.ApiKeyCreate, session: WriteSession, actor: Admin
) -> keys.ApiKeyCreated:
    """Create an API key; the response is the only time the key is shown."""
    return await keys.create_key(session, data=data, created_by=actor.name)


@router.get("")
async def list_keys(session: ReadSession, actor: Admin) -> list[keys.ApiKeyRead]:
    """List API keys (never the keys themselves)."""
    return await keys.list_keys(session)


@router.get("/me")
async def read_own_key(actor: Reader) -> keys.ApiKeyIdentity:
    """Return the calling key's name and role (any valid key may ask)."""
    return keys.ApiKeyIdentity(name=actor.name, role=actor.role)


@router.post("/{key_id}/revoke")
async def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=INT_MAX)],
    services: AppServices,
    session: WriteSession,
    actor: Admin,
) -> keys.ApiKeyRead:
    """Revoke an API key; it stops working at once on this replica."""
    on_commit(session, services.auth.forget_all)
    return await keys.revoke_key(session, key_id=key_id)
