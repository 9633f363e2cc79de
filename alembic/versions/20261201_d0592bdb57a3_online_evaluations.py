"""Evaluation: online evaluations (per prompt and label: sampling rate, scorers), and a
partial index of the generations waiting for one.

Revision ID: d0592bdb57a3
Revises: 0db0601f6fbb
Create Date: 2026-12-01 19:12:21.183992
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "d0592bdb57a3"
down_revision: str | Sequence[str] | None = "0db0601f6fbb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "online_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("sample_rate", sa.Float(), nullable=False),
        sa.Column("scorers", JSON, nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sample_rate >= 0 AND sample_rate <= 1",
            name=op.f("ck_online_evaluations_sample_rate"),
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts.id"],
            name=op.f("fk_online_evaluations_prompt_id_prompts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_evaluations")),
        sa.UniqueConstraint(
            "prompt_id", "label", name=op.f("uq_online_evaluations_prompt_id_label")
        ),
    )
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generations_online_eval_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text("online_eval = 'pending'"),
            sqlite_where=sa.text("online_eval = 'pending'"),
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_online_eval_pending")

    op.drop_table("online_evaluations")
