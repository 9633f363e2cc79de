"""Trigger a monitor now, outside its schedule: one check per watched label, keyed `manual:`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.monitors.models import MonitorEvent
from evals.monitors.scheduler import TickReport, run_check, targets
from evals.monitors.schemas import MonitorEventRead
from evals.monitors.service import event_read, monitor_row
from prompts.base import utc_now


@dataclass(frozen=True)
class Triggered:
    """The events a trigger started and the runs to execute once it commits."""

    events: list[MonitorEventRead]
    run_ids: list[int]


async def trigger_monitor(
    session: AsyncSession,
    *,
    name: str,
    protected: frozenset[str],
    now: datetime | None = None,
) -> Triggered:
    """Check every label the monitor watches now (enabled or not); the schedule is unchanged."""
    monitor = await monitor_row(session, name)
    now = now or utc_now()
    key = f"manual:{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
    report = TickReport()
    ids = []
    for target in await targets(session, monitor, protected):
        event_id = await run_check(
            session, monitor, target, key, now=now, protected=protected, report=report
        )
        if event_id is not None:
            ids.append(event_id)
    rows = await session.scalars(
        select(MonitorEvent)
        .where(col(MonitorEvent.id).in_(ids))
        .order_by(col(MonitorEvent.id))
        .execution_options(populate_existing=True)
    )
    return Triggered(events=[event_read(row, monitor.name) for row in rows], run_ids=report.run_ids)
