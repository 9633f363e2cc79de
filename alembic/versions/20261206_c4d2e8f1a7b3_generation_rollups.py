"""Generation rollups and the normalised model: analytics read O(buckets), not O(rows).

`generations.model` is the model analytics group by (provider prefix and dated snapshot
resolved; tracing/model_names.py). `generation_rollups` holds the counters of generations
per bucket size (minute, hour, day) × prompt × version × label × model × source, and
`generation_rollup_bins` their histogram bins and flag counts (integer rows keyed by rollup
row, series and bin), kept as generations are written. Rows stored before this revision have no `model` and are in no
rollup: `promptlane db rebuild-rollups` fills both from the stored generations.

Revision ID: c4d2e8f1a7b3
Revises: 49f70db980b1
Create Date: 2026-12-06 09:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "c4d2e8f1a7b3"
down_revision: str | Sequence[str] | None = "49f70db980b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("period_s", "bucket_start", "prompt_name", "prompt_version", "prompt_label", "model",
        "source")  # fmt: skip


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("generations") as batch_op:
        batch_op.add_column(sa.Column("model", sa.String(length=200), nullable=True))
    counters = [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in ("calls", "errors", "input_tokens", "output_tokens")
    ]
    op.create_table(
        "generation_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt_name", sa.String(length=200), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
        sa.Column("prompt_label", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        *counters,
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_rollups")),
        sa.UniqueConstraint(*_KEY, name="uq_generation_rollups_key"),
    )
    op.create_index(
        "ix_generation_rollups_prompt",
        "generation_rollups",
        ["prompt_name", "period_s", "bucket_start"],
        unique=False,
    )
    op.create_table(
        "generation_rollup_bins",
        sa.Column("rollup_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("series", sa.String(length=200), nullable=False),
        sa.Column("bin", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("rollup_id", "series", "bin", name=op.f("pk_generation_rollup_bins")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("generation_rollup_bins")
    op.drop_index("ix_generation_rollups_prompt", table_name="generation_rollups")
    op.drop_table("generation_rollups")
    with op.batch_alter_table("generations") as batch_op:
        batch_op.drop_column("model")
