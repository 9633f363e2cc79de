"""Run leases: claim, renew and release a run, and the fence every write of its worker passes.

A worker holds a run while `runs.lease_owner` names it. Each write the worker makes to the
run is an UPDATE conditional on that owner (and on the run still running), made first in the
transaction that also inserts the run's item rows. Another worker that takes over an expired
lease changes the owner, so the stale worker's UPDATE matches no row: it raises
`LeaseLostError`, its transaction (items included) rolls back, and it stops.

The owner, not the expiry, is the fence: an expired lease that no one took over is still its
owner's (as `claim` says), and comparing the holder's name needs no agreement between clocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.errors import LeaseLostError
from evals.reports import RunStatus
from prompts.base import metadata, utc_now

RUNS: Final = metadata.tables["runs"]
ITEMS: Final = metadata.tables["run_items"]
_CLAIMABLE: Final = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


async def claim(session: AsyncSession, *, run_id: int, owner: str, until: datetime) -> bool:
    """Take the run's lease if it is free, expired or `owner`'s; return whether it was taken."""
    now = utc_now()
    result = await session.execute(
        sa.update(RUNS)
        .where(
            RUNS.c.id == run_id,
            RUNS.c.status.in_(_CLAIMABLE),
            sa.or_(
                RUNS.c.lease_owner.is_(None),
                RUNS.c.lease_owner == owner,
                RUNS.c.lease_expires_at < now,
            ),
        )
        .values(
            status=RunStatus.RUNNING.value,
            lease_owner=owner,
            lease_expires_at=until,
            started_at=sa.func.coalesce(RUNS.c.started_at, now),
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def claimable(session: AsyncSession) -> list[int]:
    """Return runs that are queued or whose worker stopped renewing its lease."""
    rows = await session.scalars(
        sa.select(RUNS.c.id).where(
            RUNS.c.status.in_(_CLAIMABLE),
            sa.or_(RUNS.c.lease_expires_at.is_(None), RUNS.c.lease_expires_at < utc_now()),
        )
    )
    return list(rows)


async def release(session: AsyncSession, *, run_id: int, owner: str) -> None:
    """Expire `owner`'s lease now (a no-op if the run is no longer its)."""
    await session.execute(
        sa.update(RUNS)
        .where(RUNS.c.id == run_id, RUNS.c.lease_owner == owner)
        .values(lease_expires_at=utc_now())
    )


async def fenced_update(
    session: AsyncSession, *, run_id: int, owner: str, values: Mapping[str, Any]
) -> bool:
    """Update the run if `owner` still holds it; return its cancel flag, else LeaseLostError.

    The caller must not commit after LeaseLostError: what its transaction wrote is not its.
    """
    row = (
        await session.execute(
            sa.update(RUNS)
            .where(
                RUNS.c.id == run_id,
                RUNS.c.lease_owner == owner,
                RUNS.c.status == RunStatus.RUNNING.value,
            )
            .values(**values)
            .returning(RUNS.c.is_cancel_requested)
        )
    ).first()
    if row is None:
        await session.rollback()
        raise LeaseLostError(f"run {run_id} is no longer leased to {owner!r}")
    return bool(row[0])


async def renew(session: AsyncSession, *, run_id: int, owner: str, until: datetime) -> bool:
    """Extend `owner`'s lease to `until`; return the cancel flag (LeaseLostError if lost)."""
    return await fenced_update(
        session, run_id=run_id, owner=owner, values={"lease_expires_at": until}
    )


async def record_progress(session: AsyncSession, *, run_id: int, owner: str) -> None:
    """Set the run's completed and error counts from its stored items (fenced)."""
    items = sa.select(sa.func.count()).select_from(ITEMS).where(ITEMS.c.run_id == run_id)
    errors = items.where(ITEMS.c.status != "ok")
    await fenced_update(
        session,
        run_id=run_id,
        owner=owner,
        values={"completed": items.scalar_subquery(), "errors": errors.scalar_subquery()},
    )
