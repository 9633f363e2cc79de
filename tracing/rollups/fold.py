"""Minute rollups folded into hour and day rollups, off the write path.

Writing a generation touches one rollup row (its minute) instead of three: its hour and day
rows are brought up to date by folding, a background job (api/server/rollup_fold.py) that adds
the minute rows of [folded_until, until) to their hour and day rows and moves `folded_until`
on, in one transaction. A minute folds `LAG` after it ends, when the calls of that minute have
mostly arrived; a call that arrives later for a folded minute is written to all three rows.

Which rows hold a call is always known from `folded_until` (tracing/rollups/models.py), so a
read is exact at any moment: before it from day, hour and minute rows, after it from minute
rows only (tracing/rollups/read.py). Writers hold a shared lock on the state table while
they write on the strength of it; a fold locks it exclusively, so no call is folded twice or
missed (on SQLite the database has one writer). Minute rows are never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.rollups import packed
from tracing.rollups.models import FOLDED, KEY, MINUTE
from tracing.rollups.write import (
    BINS,
    LATENCY,
    STATE,
    SUMS,
    TABLE,
    Changes,
    floor_time,
    write,
)

LAG: Final = timedelta(minutes=1)  # a minute folds this long after it ends
MAX_MINUTES: Final = 60  # folded per transaction: a long outage catches up hour by hour
LOCK_WAIT_MS: Final = 2000  # the longest a fold waits for writers (then: the next round)
_DIMS: Final = KEY[2:]  # prompt_name … source


def _folded_keys(bucket: datetime, dims: tuple[object, ...]) -> list[tuple[object, ...]]:
    return [(period, floor_time(bucket, period), *dims) for period in FOLDED]


async def fold(session: AsyncSession, *, until: datetime) -> tuple[int, bool]:
    """Fold the minutes before `until` (at most `MAX_MINUTES` of them) into hours and days.

    Returns how many minute rows were folded, and whether minutes before `until` are left
    (a later call folds them). Without a state row (writers write every size) nothing folds.
    """
    query = sa.select(STATE.c.folded_until).where(STATE.c.id == 1)
    end = floor_time(until, MINUTE)
    state = await session.scalar(query)
    if state is None or end <= state:
        return 0, False  # nothing due: no lock taken
    if session.get_bind().dialect.name == "postgresql":
        # Writers hold ROW SHARE (tracing/rollups/write.py `folded_until`): table lock
        # requests queue in order, so writers arriving meanwhile wait behind the fold instead
        # of starving it; plain reads (ACCESS SHARE) go on. A writer holding on (a long
        # rebuild) makes the fold give up after LOCK_WAIT rather than hold every writer up.
        await session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'"))
        await session.execute(sa.text(f"LOCK TABLE {STATE.name} IN EXCLUSIVE MODE"))
    state = await session.scalar(query.with_for_update())  # again, now that no writer runs
    if state is None or end <= state:
        return 0, False
    first = await session.scalar(  # a quiet stretch is skipped at once, not hour by hour
        sa.select(sa.func.min(TABLE.c.bucket_start)).where(
            TABLE.c.period_s == MINUTE, TABLE.c.bucket_start >= state
        )
    )
    start = state if first is None else max(state, floor_time(first, MINUTE))
    target = min(end, start + timedelta(minutes=MAX_MINUTES))
    minute = sa.and_(
        TABLE.c.period_s == MINUTE, TABLE.c.bucket_start >= state, TABLE.c.bucket_start < target
    )
    changes = Changes()
    rows = await session.execute(
        sa.select(
            TABLE.c.bucket_start,
            *(TABLE.c[d] for d in _DIMS),
            *(TABLE.c[n] for n in SUMS),
            TABLE.c.latency,
        ).where(minute)
    )
    folded = 0
    for bucket, *dims_sums, latency in rows:
        dims, sums = tuple(dims_sums[: len(_DIMS)]), dims_sums[len(_DIMS) :]
        for key in _folded_keys(bucket, dims):
            changes.count(key, sums)  # type: ignore[arg-type]
            for index, (count, total) in packed.unpack(latency).items():
                changes.add_bin(key, LATENCY, index, count, total)  # type: ignore[arg-type]
        folded += 1
    bins = await session.execute(
        sa.select(
            TABLE.c.bucket_start,
            *(TABLE.c[d] for d in _DIMS),
            BINS.c.series,
            BINS.c.bin,
            BINS.c["count"],
            BINS.c.sum,
        )
        .select_from(BINS.join(TABLE, TABLE.c.id == BINS.c.rollup_id))
        .where(minute)
    )
    for bucket, *rest in bins:
        dims, (series, index, count, total) = tuple(rest[: len(_DIMS)]), rest[len(_DIMS) :]
        for key in _folded_keys(bucket, dims):
            changes.add_bin(key, series, index, count, total)  # type: ignore[arg-type]
    await write(session, changes)
    await session.execute(sa.update(STATE).where(STATE.c.id == 1).values(folded_until=target))
    return folded, target < end
