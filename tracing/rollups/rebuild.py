"""Rollups recomputed from the stored generations: after an upgrade, or to repair them.

Generations stored before rollups existed are in none, and have no normalised `model`;
`rebuild` fills both, in one transaction, a page of generations at a time. On PostgreSQL the
fold state and the rollup tables are locked first, so a generation inserted meanwhile waits
and is counted once, and no fold runs meanwhile (a call after the fold state is rebuilt into
its minute only, and folded later, as when it was written).
"""

from __future__ import annotations

from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.model_names import row_model
from tracing.models import Generation
from tracing.rollups.write import BINS, ROW_FIELDS, TABLE, apply, folded_until

GENERATIONS: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
PAGE: Final = 5_000


async def _fill_models(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    missing = [{"_id": row["id"], "_model": row_model(row)} for row in rows if row["model"] is None]
    for row in rows:
        row["model"] = row["model"] or row_model(row)
    if missing:
        statement = (
            sa.update(GENERATIONS)
            .where(GENERATIONS.c.id == sa.bindparam("_id"))
            .values(model=sa.bindparam("_model"))
        )
        await session.execute(statement, missing)


async def rebuild(session: AsyncSession, *, page: int = PAGE) -> int:
    """Recompute every rollup from the generations; return how many generations were read."""
    await folded_until(session, lock=True)  # first, as every rollup writer: no fold meanwhile
    if session.get_bind().dialect.name == "postgresql":
        tables = f"{TABLE.name}, {BINS.name}"
        await session.execute(sa.text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))
    await session.execute(sa.delete(BINS))
    await session.execute(sa.delete(TABLE))
    columns = [GENERATIONS.c.id, *(GENERATIONS.c[name] for name in ROW_FIELDS)]
    last, total = 0, 0
    while True:
        found = await session.execute(
            sa.select(*columns)
            .where(GENERATIONS.c.id > last)
            .order_by(GENERATIONS.c.id)
            .limit(page)
        )
        rows = [dict(row._mapping) for row in found]
        if not rows:
            return total
        await _fill_models(session, rows)
        await apply(session, rows)
        last, total = int(rows[-1]["id"]), total + len(rows)
