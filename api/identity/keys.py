"""API keys: creation (shown once), hashed storage, listing, revocation, first-admin bootstrap."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from api.identity.errors import ApiKeyExistsError, ApiKeyNotFoundError, LastAdminKeyError
from api.identity.models import ApiKey
from api.settings import API_KEY_RE
from prompts.base import utc_now
from prompts.policy import Role
from tracing.validation import StrictModel

KEY_PREFIX: Final = "pl_"
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,99}")
BOOTSTRAP_NAME: Final = "bootstrap-admin"


class ApiKeyCreate(StrictModel):
    """A new key: a unique name and a role."""

    name: str = Field(max_length=100)
    role: Role = Role.READER

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.fullmatch(value):
            raise ValueError("letters, digits, spaces and '._@:-', starting with a letter or digit")
        return value


class ApiKeyRead(BaseModel):
    """A key as listed: never the key itself."""

    id: int
    name: str
    prefix: str
    role: Role
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIdentity(BaseModel):
    """The key making the request: its name and role (what a UI may offer its holder)."""

    name: str
    role: Role


class ApiKeyCreated(ApiKeyRead):
    """A key just created: the only response that contains the key."""

    key: str


def generate_key() -> str:
    """Return a new random API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_well_formed(key: str) -> bool:
    """Return whether `key` looks like a promptlane API key."""
    return bool(API_KEY_RE.fullmatch(key))


def hash_key(key: str) -> str:
    """Return the stored form of a key (keys are 256-bit random, so a plain sha256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _read(key: ApiKey) -> ApiKeyRead:
    assert key.id is not None
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        created_by=key.created_by,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


async def create_key(
    session: AsyncSession, *, data: ApiKeyCreate, created_by: str, key: str | None = None
) -> ApiKeyCreated:
    """Store a new key and return it with its plaintext (shown this once)."""
    exists = await session.execute(select(ApiKey.id).where(ApiKey.name == data.name))
    if exists.first() is not None:
        raise ApiKeyExistsError(f"an API key named {data.name!r} exists")
    plaintext = key or generate_key()
    row = ApiKey(
        name=data.name,
        prefix=plaintext[:10],
        key_hash=hash_key(plaintext),
        role=data.role,
        created_by=created_by,
        created_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    return ApiKeyCreated(**_read(row).model_dump(), key=plaintext)


async def list_keys(session: AsyncSession) -> list[ApiKeyRead]:
    """Return every key, active first, oldest first."""
    rows = await session.execute(
        select(ApiKey).order_by(col(ApiKey.revoked_at).is_not(None), col(ApiKey.id))
    )
    return [_read(k) for k in rows.scalars()]


async def find_active(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """Return the active key with this hash."""
    stmt = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_key(session: AsyncSession, *, key_id: int) -> ApiKeyRead:
    """Revoke a key; refuse to revoke the last active admin key."""
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise ApiKeyNotFoundError(f"no API key with id {key_id}")
    if row.revoked_at is None and row.role == Role.ADMIN:
        admins = await session.execute(
            select(sa.func.count()).where(
                ApiKey.role == Role.ADMIN.value, col(ApiKey.revoked_at).is_(None)
            )
        )
        if admins.scalar_one() <= 1:
            raise LastAdminKeyError("this is the last active admin key; create another first")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        await session.flush()
    return _read(row)


async def bootstrap_admin(session: AsyncSession, *, key: str | None) -> ApiKeyCreated | None:
    """Create the first admin key if the server has no keys at all; return it if created."""
    count = (await session.execute(select(sa.func.count()).select_from(ApiKey))).scalar_one()
    if count:
        return None
    data = ApiKeyCreate(name=BOOTSTRAP_NAME, role=Role.ADMIN)
    return await create_key(session, data=data, created_by="bootstrap", key=key)
