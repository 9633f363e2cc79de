"""Archive and label unset: prompts, datasets and suites can be archived (and restored), a
label can be unset, and both are links of the audit chain.

`archived_at` marks an archived prompt, dataset or suite (NULL: in use). An unset is a label
event whose `to_version` is NULL. Archives and restores are `archive_events`, sealed into the
same hash chain as label and policy events. Downgrading deletes the unset and archive events
(the chain then reports their links missing) and brings every archived object back.

Revision ID: a3c5e7f9b1d2
Revises: be70163fc3d8
Create Date: 2026-12-05 08:42:10.663366
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401

from alembic import op

revision: str = "a3c5e7f9b1d2"
down_revision: str | Sequence[str] | None = "be70163fc3d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ARCHIVABLE = ("prompts", "datasets", "suites")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "archive_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_archive_events_seq")),
    )
    with op.batch_alter_table("archive_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_archive_events_kind_name_seq", ["kind", "name", "seq"], unique=False
        )
    for table in _ARCHIVABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("label_events", schema=None) as batch_op:
        batch_op.alter_column("to_version", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Revert this revision (unset and archive events are deleted; archived objects return)."""
    op.execute(sa.text("DELETE FROM label_events WHERE to_version IS NULL"))
    with op.batch_alter_table("label_events", schema=None) as batch_op:
        batch_op.alter_column("to_version", existing_type=sa.Integer(), nullable=False)
    for table in reversed(_ARCHIVABLE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("archived_at")
    with op.batch_alter_table("archive_events", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_events_kind_name_seq")
    op.drop_table("archive_events")
