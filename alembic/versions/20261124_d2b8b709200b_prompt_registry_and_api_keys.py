"""Prompt registry and API keys.

Revision ID: d2b8b709200b
Revises:
Create Date: 2026-11-24 03:06:34
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d2b8b709200b"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create prompts, versions, tags, labels, label events and API keys."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("name", name=op.f("uq_prompts_name")),
    )
    op.create_table(
        "label_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("is_forced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"],
            name=op.f("fk_label_events_prompt_id_prompts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_events")),
    )
    op.create_index(
        "ix_label_events_prompt_id_label_id", "label_events", ["prompt_id", "label", "id"]
    )
    op.create_table(
        "prompt_tags",
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"],
            name=op.f("fk_prompt_tags_prompt_id_prompts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("prompt_id", "tag", name=op.f("pk_prompt_tags")),
    )
    op.create_index(op.f("ix_prompt_tags_tag"), "prompt_tags", ["tag"])
    op.create_table(
        "prompt_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("template", sa.Text(), nullable=True),
        sa.Column("messages", JSON, nullable=True),
        sa.Column("template_format", sa.String(length=16), nullable=False),
        sa.Column("variables", JSON, nullable=False),
        sa.Column("variables_schema", JSON, nullable=True),
        sa.Column("config", JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"],
            name=op.f("fk_prompt_versions_prompt_id_prompts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_versions")),
        sa.UniqueConstraint(
            "prompt_id", "version", name=op.f("uq_prompt_versions_prompt_id_version")
        ),
    )
    op.create_index(
        "ix_prompt_versions_prompt_id_content_hash",
        "prompt_versions",
        ["prompt_id", "content_hash"],
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"],
            name=op.f("fk_labels_prompt_id_prompts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["prompt_versions.id"],
            name=op.f("fk_labels_version_id_prompt_versions"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("prompt_id", "name", name=op.f("uq_labels_prompt_id_name")),
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    op.drop_table("labels")
    op.drop_index("ix_prompt_versions_prompt_id_content_hash", table_name="prompt_versions")
    op.drop_table("prompt_versions")
    op.drop_index(op.f("ix_prompt_tags_tag"), table_name="prompt_tags")
    op.drop_table("prompt_tags")
    op.drop_index("ix_label_events_prompt_id_label_id", table_name="label_events")
    op.drop_table("label_events")
    op.drop_table("prompts")
    op.drop_table("api_keys")
