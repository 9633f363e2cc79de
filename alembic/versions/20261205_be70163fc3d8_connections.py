"""Connections: named provider endpoints and write-only keys that admins manage; endpoint and
credential keys removed from every stored prompt version's config.

A version's config used to take a free-form `extra`, so stored versions may hold `api_base`,
`api_key` and the like (at the top level or inside `extra`). They are removed here so that no
read, snapshot or call ever sees them again; `content_hash` is left as it was (it covers the
content as published). Downgrading drops the table but cannot bring the removed keys back.

Revision ID: be70163fc3d8
Revises: 7c1e5a3f9b20
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "be70163fc3d8"
down_revision: str | Sequence[str] | None = "7c1e5a3f9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BATCH = 500

# A frozen copy of prompts.config.is_endpoint_or_credential (migrations never import app code).
_KEYS = frozenset(
    {
        "api_key",
        "api_base",
        "base_url",
        "api_version",
        "api_type",
        "organization",
        "project",
        "headers",
        "extra_headers",
        "extra_body",
        "extra_query",
        "custom_llm_provider",
        "deployment_id",
        "credentials",
        "token",
        "access_token",
        "region_name",
        "proxy",
        "proxies",
        "http_client",
        "ssl_verify",
    }
)
_PREFIXES = ("api_", "aws_", "azure_", "vertex_", "watsonx_", "openai_")
_SUFFIXES = ("_key", "_url", "_base", "_endpoint", "_token", "_secret")
_WORDS = ("secret", "password", "credential", "header")


def _is_secret(key: Any) -> bool:
    name = str(key).lower()
    return (
        name in _KEYS
        or name.startswith(_PREFIXES)
        or name.endswith(_SUFFIXES)
        or any(word in name for word in _WORDS)
    )


def _scrubbed(config: Any) -> Any:
    if not isinstance(config, dict):
        return config
    out = {k: v for k, v in config.items() if not _is_secret(k)}
    extra = out.get("extra")
    if isinstance(extra, dict):
        out["extra"] = {k: v for k, v in extra.items() if not _is_secret(k)}
    return out


def _scrub_configs() -> None:
    bind = op.get_bind()
    versions = sa.table("prompt_versions", sa.column("id", sa.Integer), sa.column("config", JSON))
    after = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.config)
            .where(versions.c.id > after)
            .order_by(versions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row_id, config in rows:
            cleaned = _scrubbed(config)
            if cleaned != config:
                bind.execute(
                    versions.update().where(versions.c.id == row_id).values(config=cleaned)
                )
        after = rows[-1][0]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("api_base", sa.String(length=2000), nullable=True),
        sa.Column("api_key_ciphertext", sa.Text(), nullable=True),
        sa.Column("api_key_env", sa.String(length=128), nullable=True),
        sa.Column("gateway_models", JSON, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "api_key_ciphertext IS NULL OR api_key_env IS NULL",
            name=op.f("ck_connections_one_key_source"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
    )
    _scrub_configs()


def downgrade() -> None:
    """Revert this revision (the keys removed from configs stay removed)."""
    op.drop_table("connections")
