"""Generation response ids: one call through the gateway is counted once.

`response_id` holds a chat completion's `id` (the gateway's own, or an ingested span's
`gen_ai.response.id`), indexed to find a call's twin. `is_duplicate` marks an ingested client
span of a call the gateway made: stored, but left out of analytics and metrics.

Revision ID: c4d6e8f0a2b4
Revises: c4d2e8f1a7b3
Create Date: 2026-12-05 12:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c4d6e8f0a2b4"
down_revision: str | Sequence[str] | None = "c4d2e8f1a7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("response_id", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("is_duplicate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_generations_response_id", ["response_id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("generations") as batch:
        batch.drop_index("ix_generations_response_id")
        batch.drop_column("is_duplicate")
        batch.drop_column("response_id")
