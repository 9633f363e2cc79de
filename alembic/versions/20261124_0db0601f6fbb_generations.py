"""Tracing: generations, one row per LLM call seen by promptlane.

Revision ID: 0db0601f6fbb
Revises: b08593b22551
Create Date: 2026-11-24 11:07:27.092495
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0db0601f6fbb"
down_revision: str | Sequence[str] | None = "b08593b22551"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("operation", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("request_model", sa.String(length=200), nullable=True),
        sa.Column("response_model", sa.String(length=200), nullable=True),
        sa.Column("prompt_name", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.Integer(), nullable=True),
        sa.Column("prompt_label", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=True),
        sa.Column("finish_reasons", JSON, nullable=False),
        sa.Column("input_chars", sa.Integer(), nullable=True),
        sa.Column("input_messages", JSON, nullable=True),
        sa.Column("output_text", sa.Text(), nullable=True),
        sa.Column("online_eval", sa.String(length=16), nullable=True),
        sa.Column("scores", JSON, nullable=False),
        sa.Column("safety_flags", JSON, nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
        sa.UniqueConstraint("trace_id", "span_id", name=op.f("uq_generations_trace_id_span_id")),
    )
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generations_prompt_name_started_at", ["prompt_name", "started_at"], unique=False
        )
        batch_op.create_index("ix_generations_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_started_at")
        batch_op.drop_index("ix_generations_prompt_name_started_at")

    op.drop_table("generations")
