"""Monitors and incidents: `monitors`, `monitor_events`, `label_incidents`, and
`promotion_policies.auto_rollback`.

A monitor event's unique (monitor, prompt, label, period) key is the once-per-period lock
across replicas; the partial unique index on open incidents keeps one open incident per label
(SQLite and PostgreSQL both index partially). New tables and a column defaulting to false:
downgrading drops them, with every monitor, firing and incident recorded.

Revision ID: a7c3e9b1d5f4
Revises: a4c8e2f6b1d3
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "a7c3e9b1d5f4"
down_revision: str | Sequence[str] | None = "a4c8e2f6b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# 64-bit ids; SQLite autoincrements only a column declared exactly INTEGER (64-bit there).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prompt", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=True),
        sa.Column("signal", JSON, nullable=True),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        _time("next_due_at"),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _time("created_at"),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("name", name=op.f("uq_monitors_name")),
    )
    op.create_table(
        "monitor_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("period_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name=op.f("fk_monitor_events_monitor_id_monitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_events")),
        sa.UniqueConstraint(
            "monitor_id",
            "prompt",
            "label",
            "period_key",
            name=op.f("uq_monitor_events_monitor_id_prompt_label_period_key"),
        ),
    )
    op.create_index(
        "ix_monitor_events_running",
        "monitor_events",
        ["id"],
        postgresql_where=sa.text("status = 'running'"),
        sqlite_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "label_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        _time("opened_at"),
        _time("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("first_event_id", BIG_ID, nullable=True),
        sa.Column("last_event_id", BIG_ID, nullable=True),
        sa.Column("firings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_incidents")),
    )
    op.create_index(
        "uq_label_incidents_open",
        "label_incidents",
        ["prompt", "label"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
        sqlite_where=sa.text("resolved_at IS NULL"),
    )
    with op.batch_alter_table("promotion_policies") as batch:
        batch.add_column(
            sa.Column("auto_rollback", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("promotion_policies") as batch:
        batch.drop_column("auto_rollback")
    op.drop_index("uq_label_incidents_open", table_name="label_incidents")
    op.drop_table("label_incidents")
    op.drop_index("ix_monitor_events_running", table_name="monitor_events")
    op.drop_table("monitor_events")
    op.drop_table("monitors")
