"""Label incidents: opened (or joined) by a firing, one open per label, resolved by a person.

The partial unique index on open incidents makes "one open incident per label" hold across
replicas: a second firing that loses the race to open one joins the winner's.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import IncidentNotFoundError, IncidentStateError
from evals.monitors.models import LabelIncident
from evals.monitors.schemas import IncidentRead
from prompts import events, labels
from prompts.base import utc_now
from prompts.policy import Actor
from prompts.schemas import LabelRead, Page

INCIDENT_RESOLVED: Final = events.INCIDENT_RESOLVED


def incident_read(row: LabelIncident) -> IncidentRead:
    """Return an incident as the API shows it."""
    assert row.id is not None
    return IncidentRead(
        id=row.id,
        prompt=row.prompt,
        label=row.label,
        is_open=row.resolved_at is None,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        reason=row.reason,
        first_event_id=row.first_event_id,
        last_event_id=row.last_event_id,
        firings=row.firings,
    )


async def _open(session: AsyncSession, prompt: str, label: str) -> LabelIncident | None:
    stmt = select(LabelIncident).where(
        LabelIncident.prompt == prompt,
        LabelIncident.label == label,
        col(LabelIncident.resolved_at).is_(None),
    )
    found: LabelIncident | None = await session.scalar(stmt.with_for_update())
    return found


async def open_or_join(
    session: AsyncSession, *, prompt: str, label: str, event_id: int
) -> LabelIncident:
    """Return the label's open incident with this firing added, opening one if there is none."""
    found = await _open(session, prompt, label)
    if found is None:
        row = LabelIncident(prompt=prompt, label=label, first_event_id=event_id)
        row.last_event_id = event_id
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return row
        except IntegrityError:  # another replica opened it first: join theirs
            found = await _open(session, prompt, label)
            assert found is not None
    found.last_event_id = event_id
    found.firings += 1
    await session.flush()
    return found


async def incident_row(session: AsyncSession, incident_id: int) -> LabelIncident:
    """Return an incident by id."""
    row = await session.get(LabelIncident, incident_id)
    if row is None:
        raise IncidentNotFoundError(f"no incident with id {incident_id}")
    return row


async def get_incident(session: AsyncSession, *, incident_id: int) -> IncidentRead:
    """Return one incident."""
    return incident_read(await incident_row(session, incident_id))


async def list_incidents(
    session: AsyncSession,
    *,
    is_open: bool | None = None,
    prompt: str | None = None,
    label: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[IncidentRead]:
    """List incidents, newest first: open or resolved ones, of a prompt, of a label."""
    stmt = select(LabelIncident)
    if is_open is not None:
        resolved = col(LabelIncident.resolved_at)
        stmt = stmt.where(resolved.is_(None) if is_open else resolved.is_not(None))
    if prompt is not None:
        stmt = stmt.where(LabelIncident.prompt == prompt)
    if label is not None:
        stmt = stmt.where(LabelIncident.label == label)
    total = await session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(
        stmt.order_by(col(LabelIncident.id).desc()).limit(limit).offset(offset)
    )
    items = [incident_read(row) for row in rows]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


async def open_incidents(session: AsyncSession, *, prompt: str) -> dict[str, int]:
    """Return the open incident of each of a prompt's labels that has one (label → id)."""
    rows = await session.execute(
        sa.select(col(LabelIncident.label), col(LabelIncident.id)).where(
            col(LabelIncident.prompt) == prompt, col(LabelIncident.resolved_at).is_(None)
        )
    )
    return {label: id_ for label, id_ in rows.tuples() if id_ is not None}


async def labels_with_incidents(session: AsyncSession, *, name: str) -> list[LabelRead]:
    """Return a prompt's labels, each with its open incident's id (if it has one)."""
    found = await labels.list_labels(session, name=name)
    open_ = await open_incidents(session, prompt=name)
    return [row.model_copy(update={"incident_id": open_.get(row.name)}) for row in found]


def resolved_data(row: LabelIncident) -> dict[str, Any]:
    """Return what an `incident.resolved` event says."""
    return {
        "incident_id": row.id,
        "prompt": row.prompt,
        "label": row.label,
        "opened_at": row.opened_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "reason": row.reason,
        "firings": row.firings,
        "first_event_id": row.first_event_id,
        "last_event_id": row.last_event_id,
    }


async def resolve_incident(
    session: AsyncSession, *, incident_id: int, reason: str, actor: Actor
) -> IncidentRead:
    """Close an open incident with a reason, and emit `incident.resolved`."""
    row = await session.scalar(
        select(LabelIncident).where(LabelIncident.id == incident_id).with_for_update()
    )
    if row is None:
        raise IncidentNotFoundError(f"no incident with id {incident_id}")
    if row.resolved_at is not None:
        raise IncidentStateError(
            f"incident {incident_id} was resolved at {row.resolved_at.isoformat()} "
            f"by {row.resolved_by}"
        )
    row.resolved_at, row.resolved_by, row.reason = utc_now(), actor.name, reason
    await session.flush()
    await events.emit(session, INCIDENT_RESOLVED, resolved_data(row), actor=actor.name)
    return incident_read(row)
