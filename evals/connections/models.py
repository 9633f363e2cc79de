"""The `connections` table: a named provider endpoint and its write-only key."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from prompts.base import JSONType, UTCDateTime, utc_now


class Connection(SQLModel, table=True):
    """A provider connection; its key is ciphertext or the name of a server variable."""

    __tablename__ = "connections"
    __table_args__ = (
        sa.CheckConstraint(
            "api_key_ciphertext IS NULL OR api_key_env IS NULL", name="one_key_source"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    provider: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    api_base: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000), nullable=True))
    # Fernet token (evals/connections/crypto.py); never returned, logged or exported.
    api_key_ciphertext: str | None = Field(
        default=None, sa_column=sa.Column(sa.Text, nullable=True)
    )
    api_key_env: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(128), nullable=True)
    )
    gateway_models: list[str] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    updated_by: str = Field(default="", sa_column=sa.Column(sa.String(200), nullable=False))
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
