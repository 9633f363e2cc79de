"""Latency histograms packed in their rollup row; a TOTAL bin per score and flag series.

Usage reports read one packed value per rollup row (`generation_rollups.latency`, bins as
20-byte records: bin int32, count int64, sum float64, ascending) instead of a row per bin, and
a score's mean or a flag's count from one bin, `TOTAL` (-2^31), instead of its whole
histogram. Existing rollups are converted in place: their latency bins are packed, each score
series gets its TOTAL, and flag counts move from bin 0 to TOTAL.

Revision ID: d7a1c3e5f9b2
Revises: c4d6e8f0a2b4
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision: str = "d7a1c3e5f9b2"
down_revision: str | Sequence[str] | None = "c4d6e8f0a2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOTAL = -(2**31)
_RECORD = struct.Struct("<iqd")
_ROLLUPS = sa.table("generation_rollups", sa.column("id"), sa.column("latency"))
_BINS = sa.table("generation_rollup_bins", sa.column("rollup_id"), sa.column("series"),
                 sa.column("bin"), sa.column("count"), sa.column("sum"))  # fmt: skip


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("generation_rollups") as batch_op:
        batch_op.add_column(sa.Column("latency", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    found = bind.execute(
        sa.select(_BINS.c.rollup_id, _BINS.c.bin, _BINS.c["count"], _BINS.c.sum)
        .where(_BINS.c.series == "latency", _BINS.c["count"] != 0)
        .order_by(_BINS.c.rollup_id, _BINS.c.bin)
    )
    packed = [
        {"_id": rollup_id, "_latency": b"".join(_RECORD.pack(r[1], r[2], r[3]) for r in rows)}
        for rollup_id, rows in groupby(found, key=lambda row: row[0])
    ]
    if packed:
        bind.execute(
            sa.update(_ROLLUPS)
            .where(_ROLLUPS.c.id == sa.bindparam("_id"))
            .values(latency=sa.bindparam("_latency")),
            packed,
        )
    op.execute(sa.delete(_BINS).where(_BINS.c.series == "latency"))
    totals = sa.select(
        _BINS.c.rollup_id,
        _BINS.c.series,
        sa.literal(_TOTAL),
        sa.func.sum(_BINS.c["count"]),
        sa.func.sum(_BINS.c.sum),
    ).where(_BINS.c.series.like("score:%")).group_by(_BINS.c.rollup_id, _BINS.c.series)
    op.execute(
        sa.insert(_BINS).from_select(["rollup_id", "series", "bin", "count", "sum"], totals)
    )
    op.execute(sa.update(_BINS).where(_BINS.c.series.like("flag:%")).values(bin=_TOTAL))


def downgrade() -> None:
    """Revert this revision."""
    op.execute(sa.update(_BINS).where(_BINS.c.series.like("flag:%")).values(bin=0))
    op.execute(
        sa.delete(_BINS).where(_BINS.c.series.like("score:%"), _BINS.c.bin == _TOTAL)
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(_ROLLUPS.c.id, _ROLLUPS.c.latency).where(_ROLLUPS.c.latency.is_not(None))
    )
    rows = [
        {"rollup_id": rollup_id, "series": "latency", "bin": b, "count": n, "sum": total}
        for rollup_id, value in found
        for b, n, total in _RECORD.iter_unpack(bytes(value))
    ]
    if rows:
        bind.execute(sa.insert(_BINS), rows)
    with op.batch_alter_table("generation_rollups") as batch_op:
        batch_op.drop_column("latency")
