"""Generations by start time, counted calls only: a call listing is counted from the index.

`GET /v1/generations` over a time range filters `is_duplicate = false` (the client span of a
gateway call is not a call of its own) and counts its matches for the page total. With an
index on `started_at` alone, that count read every row of the range from the table (about
5 s for a million rows on SQLite); this partial index holds the same rows the filter keeps,
so the count and the page are read from the index (about 0.1 s). Every other range read of
generations filters `is_duplicate = false` too; lookups of a trace or a response id use
their own indexes. On PostgreSQL, building it blocks writes to `generations` while it runs.

Revision ID: f3a9c1e7b5d2
Revises: e5b7d9f1a3c6
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "f3a9c1e7b5d2"
down_revision: str | Sequence[str] | None = "e5b7d9f1a3c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("generations") as batch:
        batch.create_index(
            "ix_generations_counted_started_at",
            ["started_at"],
            postgresql_where=sa.text("is_duplicate = false"),
            sqlite_where=sa.text("is_duplicate = 0"),
        )
        batch.drop_index("ix_generations_started_at")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("generations") as batch:
        batch.create_index("ix_generations_started_at", ["started_at"])
        batch.drop_index("ix_generations_counted_started_at")
