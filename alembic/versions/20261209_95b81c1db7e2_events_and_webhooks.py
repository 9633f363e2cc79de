"""Events outbox and signed webhooks: `events`, `webhook_endpoints`, `webhook_deliveries`,
`webhook_attempts`.

An event row is written in the transaction of the change it describes (a version published,
a label moved or refused, a policy changed, a run finished); delivery fans each one out to
the endpoints subscribed to its type, once, marking `fanned_out_at`. The partial index keeps
the pending events few to read however long the outbox grows. New tables only: downgrading
drops them, with every event and delivery recorded.

Revision ID: 95b81c1db7e2
Revises: f3a9c1e7b5d2
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "95b81c1db7e2"
down_revision: str | Sequence[str] | None = "f3a9c1e7b5d2"
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
        "events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        _time("occurred_at"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("data", JSON, nullable=False),
        _time("fanned_out_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_events_uid")),
    )
    op.create_index(
        "ix_events_pending",
        "events",
        ["id"],
        postgresql_where=sa.text("fanned_out_at IS NULL"),
        sqlite_where=sa.text("fanned_out_at IS NULL"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", JSON, nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("previous_secret_ciphertext", sa.Text(), nullable=True),
        _time("previous_secret_expires_at", nullable=True),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("paused_reason", sa.String(length=300), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        _time("failing_since", nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _time("created_at"),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_webhook_endpoints_name")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        sa.Column("is_manual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _time("lease_expires_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        _time("delivered_at", nullable=True),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_webhook_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        _time("attempted_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("is_manual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"]
    )


def downgrade() -> None:
    """Revert this revision (every event, endpoint and delivery recorded goes with it)."""
    op.drop_index(op.f("ix_webhook_attempts_delivery_id"), table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index(
        "ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_index("ix_events_pending", table_name="events")
    op.drop_table("events")
