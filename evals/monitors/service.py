"""Monitors as data: create, change, delete, list them and their events; trigger one now."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import InvalidMonitorError, MonitorExistsError, MonitorNotFoundError
from evals.monitors.cadence import Cadence
from evals.monitors.models import Monitor, MonitorEvent
from evals.monitors.schemas import (
    EventStatus,
    IncidentRead,
    MonitorCreate,
    MonitorEventRead,
    MonitorRead,
    MonitorUpdate,
    SignalSpec,
)
from prompts import service as prompts
from prompts.base import utc_now
from prompts.policy import Actor
from prompts.schemas import Page

# A dataset monitor has neither cron nor window: it looks on every tick, its `next_due_at`
# is not read; this only gives the column a value.
_DEFAULT_EVERY = 3600


def cadence_of(monitor: Monitor) -> Cadence:
    """Return when a monitor checks: its cron expression, else once per signal window."""
    every = int(monitor.signal["window_seconds"]) if monitor.signal else _DEFAULT_EVERY
    return Cadence(cron=monitor.cron, every=every)


def monitor_read(row: Monitor) -> MonitorRead:
    """Return a stored monitor as the API shows it."""
    return MonitorRead(
        name=row.name,
        prompt=row.prompt,
        label=row.label,
        trigger=row.trigger,  # type: ignore[arg-type]
        cron=row.cron,
        signal=SignalSpec.model_validate(row.signal) if row.signal else None,
        enabled=row.is_enabled,
        next_due_at=row.next_due_at,
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


async def monitor_row(session: AsyncSession, name: str, *, for_update: bool = False) -> Monitor:
    """Return the monitor named `name`."""
    stmt = select(Monitor).where(Monitor.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    row: Monitor | None = await session.scalar(stmt)
    if row is None:
        raise MonitorNotFoundError(f"no monitor named {name!r}")
    return row


async def create_monitor(
    session: AsyncSession, *, data: MonitorCreate, actor: Actor
) -> MonitorRead:
    """Store a new monitor; its first period is the first tick after now."""
    if data.prompt is not None:
        await prompts.prompt_row(session, name=data.prompt)
    now = utc_now()
    row = Monitor(
        name=data.name,
        prompt=data.prompt,
        label=data.label,
        trigger=data.trigger,
        cron=data.cron,
        signal=data.signal.model_dump() if data.signal else None,
        is_enabled=True if data.enabled is None else data.enabled,
        next_due_at=now,
        description=data.description or "",
        created_by=actor.name,
        created_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    row.next_due_at = cadence_of(row).next_after(now)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise MonitorExistsError(f"a monitor named {data.name!r} exists") from None
    return monitor_read(row)


async def update_monitor(
    session: AsyncSession, *, name: str, data: MonitorUpdate, actor: Actor
) -> MonitorRead:
    """Change a monitor; a new timing (or enabling it) starts from the next tick after now."""
    row = await monitor_row(session, name, for_update=True)
    fields = data.model_fields_set
    if "cron" in fields and row.trigger == "schedule" and data.cron is None:
        raise InvalidMonitorError("a schedule monitor needs a cron expression")
    if "signal" in fields and row.trigger == "signal" and data.signal is None:
        raise InvalidMonitorError("a signal monitor needs its signal")
    if data.signal is not None and row.trigger != "signal":
        raise InvalidMonitorError(f"a {row.trigger} monitor takes no signal")
    if data.cron is not None and row.trigger == "dataset":
        raise InvalidMonitorError("a dataset monitor takes no cron expression")
    retime = bool(fields & {"cron", "signal"}) or (data.enabled is True and not row.is_enabled)
    if "cron" in fields:
        row.cron = data.cron
    if data.signal is not None:
        row.signal = data.signal.model_dump()
    if data.enabled is not None:
        row.is_enabled = data.enabled
    if data.description is not None:
        row.description = data.description
    now = utc_now()
    if retime:
        row.next_due_at = cadence_of(row).next_after(now)
    row.updated_by, row.updated_at = actor.name, now
    await session.flush()
    return monitor_read(row)


async def delete_monitor(session: AsyncSession, *, name: str) -> None:
    """Delete a monitor with its events (incidents it opened stay)."""
    row = await monitor_row(session, name, for_update=True)
    await session.execute(sa.delete(MonitorEvent).where(col(MonitorEvent.monitor_id) == row.id))
    await session.delete(row)
    await session.flush()


async def list_monitors(session: AsyncSession) -> list[MonitorRead]:
    """Return every monitor by name."""
    rows = await session.scalars(select(Monitor).order_by(col(Monitor.name)))
    return [monitor_read(row) for row in rows]


async def get_monitor(session: AsyncSession, *, name: str) -> MonitorRead:
    """Return one monitor."""
    return monitor_read(await monitor_row(session, name))


def event_read(event: MonitorEvent, monitor: str) -> MonitorEventRead:
    """Return a monitor event as the API shows it."""
    assert event.id is not None
    return MonitorEventRead(
        id=event.id,
        monitor=monitor,
        prompt=event.prompt,
        label=event.label,
        version=event.version,
        period_key=event.period_key,
        status=event.status,  # type: ignore[arg-type]
        evidence=event.evidence,
        started_at=event.started_at,
        finished_at=event.finished_at,
    )


async def monitor_events(
    session: AsyncSession,
    *,
    name: str,
    status: EventStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[MonitorEventRead]:
    """Return a monitor's events, newest first."""
    row = await monitor_row(session, name)
    stmt = select(MonitorEvent).where(MonitorEvent.monitor_id == row.id)
    if status is not None:
        stmt = stmt.where(MonitorEvent.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    found = await session.scalars(
        stmt.order_by(col(MonitorEvent.id).desc()).limit(limit).offset(offset)
    )
    items = [event_read(event, row.name) for event in found]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


async def incident_events(
    session: AsyncSession, *, incident: IncidentRead, limit: int = 50, offset: int = 0
) -> Page[MonitorEventRead]:
    """Return the firings that opened or joined an incident, oldest first.

    They lie between its first and last firing's ids, on its label; a deleted monitor's went
    with it (the incident's `firings` still counts them).
    """
    if incident.first_event_id is None or incident.last_event_id is None:
        return Page(items=[], total=0, limit=limit, offset=offset)
    stmt = (
        select(MonitorEvent, col(Monitor.name))
        .join(Monitor, col(Monitor.id) == col(MonitorEvent.monitor_id))
        .where(
            col(MonitorEvent.id).between(incident.first_event_id, incident.last_event_id),
            MonitorEvent.prompt == incident.prompt,
            MonitorEvent.label == incident.label,
            MonitorEvent.status == "fired",
        )
        .order_by(col(MonitorEvent.id))
    )
    # A firing of the label in that range joined this incident (one open per label at a time);
    # its evidence names the incident, which is checked rather than trusted.
    rows = [
        (event, name)
        for event, name in (await session.execute(stmt)).tuples()
        if (event.evidence or {}).get("incident_id") == incident.id
    ]
    items = [event_read(event, name) for event, name in rows[offset : offset + limit]]
    return Page(items=items, total=len(rows), limit=limit, offset=offset)
