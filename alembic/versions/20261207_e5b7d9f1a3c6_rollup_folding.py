"""Rollup folding: a generation is written to its minute rollup; minutes fold into hours, days.

`rollup_state.folded_until` says how far minute rollups have been folded into hour and day
rollups (tracing/rollups/fold.py). Every stored rollup already counts its generations in all
three sizes, so the state starts after the last minute any rollup holds (and no earlier than
now): nothing stored is folded twice.

Revision ID: e5b7d9f1a3c6
Revises: d7a1c3e5f9b2
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import logging

import sqlalchemy as sa
from alembic import op

revision: str = "e5b7d9f1a3c6"
down_revision: str | Sequence[str] | None = "d7a1c3e5f9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLLUPS = sa.table(
    "generation_rollups",
    sa.column("period_s"),
    sa.column("bucket_start", sa.DateTime(timezone=True)),
)
log = logging.getLogger("alembic.runtime.migration")


def _start() -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    last = op.get_bind().scalar(
        sa.select(sa.func.max(_ROLLUPS.c.bucket_start)).where(_ROLLUPS.c.period_s == 60)
    )
    if last is None:
        return now
    last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)  # SQLite: naive UTC
    return max(now, last.astimezone(UTC) + timedelta(minutes=1))


def upgrade() -> None:
    """Apply this revision."""
    state = op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("folded_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_state")),
    )
    start = _start()
    op.bulk_insert(state, [{"id": 1, "folded_until": start}])


def downgrade() -> None:
    """Revert this revision (minutes not folded yet are missing from their hours and days)."""
    bind = op.get_bind()
    folded = bind.scalar(sa.text("SELECT folded_until FROM rollup_state WHERE id = 1"))
    if folded is not None:
        pending = bind.scalar(
            sa.select(sa.func.count())
            .select_from(_ROLLUPS)
            .where(_ROLLUPS.c.period_s == 60, _ROLLUPS.c.bucket_start >= folded)
        )
        if pending:
            log.warning(
                "%d minute rollups are not folded into their hours and days: run "
                "`promptlane db rebuild-rollups` after this downgrade",
                pending,
            )
    op.drop_table("rollup_state")
