"""Each webhook endpoint keeps its newest attempt's answer: `last_attempt_at`,
`last_status_code`, `last_duration_ms`, `last_error` on `webhook_endpoints`.

The endpoints list shows each one's last answer; reading it from `webhook_attempts` would cost
every attempt of the endpoint, so the dispatcher writes it on the endpoint's row as it records
an attempt (the row it already locks for the failure count). Upgrading fills it in from the
attempts recorded so far; downgrading drops the columns (the attempts keep the same facts).

Revision ID: a4c8e2f6b1d3
Revises: 95b81c1db7e2
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "a4c8e2f6b1d3"
down_revision: str | Sequence[str] | None = "95b81c1db7e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROM_ATTEMPTS = {
    "last_attempt_at": "attempted_at",
    "last_status_code": "status_code",
    "last_duration_ms": "duration_ms",
    "last_error": "error",
}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_status_code", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_duration_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))
    newest = (
        "SELECT a.{column} FROM webhook_attempts a"
        " JOIN webhook_deliveries d ON d.id = a.delivery_id"
        " WHERE d.endpoint_id = webhook_endpoints.id ORDER BY a.id DESC LIMIT 1"
    )
    assignments = ", ".join(
        f"{target} = ({newest.format(column=source)})" for target, source in _FROM_ATTEMPTS.items()
    )
    op.execute(f"UPDATE webhook_endpoints SET {assignments}")  # noqa: S608 (constants only)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("webhook_endpoints") as batch:
        for column in reversed(_FROM_ATTEMPTS):
            batch.drop_column(column)
