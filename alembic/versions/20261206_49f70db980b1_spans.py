"""Whole traces: `spans`, every ingested span (any kind) for the retention window.

A span row holds the trace's shape (ids, parent, name, kind, service, timing, status), the
prompt link the span carries itself, and its bounded attributes without message content.
The primary key (trace_id, span_id) makes ingest idempotent; `started_at` serves the trace
list and the retention purge, (trace_id, parent_span_id) the descent of links to children.

Revision ID: 49f70db980b1
Revises: a3c5e7f9b1d2
Create Date: 2026-12-06 09:12:40.118204
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "49f70db980b1"
down_revision: str | Sequence[str] | None = "a3c5e7f9b1d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=True),
        sa.Column("scope", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("status_message", sa.String(length=1024), nullable=True),
        sa.Column("is_generation", sa.Boolean(), nullable=False),
        sa.Column("prompt_name", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.Integer(), nullable=True),
        sa.Column("prompt_label", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_spans")),
    )
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.create_index("ix_spans_started_at", ["started_at"], unique=False)
        batch_op.create_index(
            "ix_spans_trace_id_parent_span_id", ["trace_id", "parent_span_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.drop_index("ix_spans_trace_id_parent_span_id")
        batch_op.drop_index("ix_spans_started_at")
    op.drop_table("spans")
