"""The identity tables: API keys (only their hashes are stored)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import UTCDateTime, utc_now


class ApiKey(SQLModel, table=True):
    """An API key: only its sha256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    prefix: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    key_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_by: str = Field(default="", sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
