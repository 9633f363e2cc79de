"""Monitors and their events; label incidents.

Admins manage monitors (what runs on a schedule and may roll a label back is theirs, as
policies are); readers read them. A writer may trigger one: that starts the pinned suites'
runs (which a writer may start anyway) or reads a signal, and the only label move it can
cause is the gated auto-rollback an admin enabled on the label's policy. A writer may resolve
an incident: that closes the record only (no label, pin or policy changes), with its reason
audited in `incident.resolved`; a new firing opens a new incident.
"""

from __future__ import annotations

import functools
from typing import Annotated, Final

from fastapi import APIRouter, Path, Query, Response

from api.server.deps import Admin, AppServices, Reader, ReadSession, Writer, WriteSession, on_commit
from api.server.params import INT_MAX
from evals.monitors import incidents, service
from evals.monitors.schemas import (
    EventStatus,
    IncidentRead,
    IncidentResolve,
    MonitorCreate,
    MonitorEventRead,
    MonitorRead,
    MonitorUpdate,
)
from evals.monitors.trigger import trigger_monitor as trigger
from prompts.schemas import Page

router = APIRouter(tags=["monitors"])

_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{0,63}$"
MonitorName = Annotated[str, Path(pattern=_NAME_PATTERN, max_length=64)]
IncidentId = Annotated[int, Path(ge=1, le=INT_MAX)]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="Items to skip")]


@router.post("/v1/monitors", status_code=201)
async def create_monitor(data: MonitorCreate, session: WriteSession, actor: Admin) -> MonitorRead:
    """Create a monitor: a cron schedule re-running a label's pinned suites, or a signal."""
    return await service.create_monitor(session, data=data, actor=actor)


@router.get("/v1/monitors")
async def list_monitors(session: ReadSession, actor: Reader) -> list[MonitorRead]:
    """List monitors with when each checks next."""
    return await service.list_monitors(session)


@router.get("/v1/monitors/{name}")
async def get_monitor(name: MonitorName, session: ReadSession, actor: Reader) -> MonitorRead:
    """Return one monitor."""
    return await service.get_monitor(session, name=name)


@router.patch("/v1/monitors/{name}")
async def update_monitor(
    name: MonitorName, data: MonitorUpdate, session: WriteSession, actor: Admin
) -> MonitorRead:
    """Change a monitor's schedule, signal or description, or pause it (`enabled: false`)."""
    return await service.update_monitor(session, name=name, data=data, actor=actor)


@router.delete("/v1/monitors/{name}", status_code=204, response_class=Response)
async def delete_monitor(name: MonitorName, session: WriteSession, actor: Admin) -> None:
    """Delete a monitor with its events (the incidents it opened stay)."""
    await service.delete_monitor(session, name=name)


@router.post("/v1/monitors/{name}/trigger")
async def trigger_monitor(
    name: MonitorName, services: AppServices, session: WriteSession, actor: Writer
) -> list[MonitorEventRead]:
    """Check the monitor's labels now, outside its schedule (runs are settled by the scheduler)."""
    found = await trigger(
        session, name=name, protected=frozenset(services.settings.protected_labels)
    )
    if services.executor is not None:
        for run_id in found.run_ids:
            on_commit(session, functools.partial(services.executor.submit, run_id))
    return found.events


@router.get("/v1/monitors/{name}/events")
async def monitor_events(
    name: MonitorName,
    session: ReadSession,
    actor: Reader,
    status: EventStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MonitorEventRead]:
    """List a monitor's events (one per label and period), newest first, with evidence."""
    return await service.monitor_events(
        session, name=name, status=status, limit=limit, offset=offset
    )


@router.get("/v1/incidents")
async def list_incidents(
    session: ReadSession,
    actor: Reader,
    is_open: Annotated[bool | None, Query(alias="open")] = None,
    prompt: Annotated[str | None, Query(max_length=200)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[IncidentRead]:
    """List label incidents, newest first (`open=true`: only open ones)."""
    return await incidents.list_incidents(
        session, is_open=is_open, prompt=prompt, label=label, limit=limit, offset=offset
    )


@router.get("/v1/incidents/{incident_id}")
async def get_incident(
    incident_id: IncidentId, session: ReadSession, actor: Reader
) -> IncidentRead:
    """Return one incident."""
    return await incidents.get_incident(session, incident_id=incident_id)


@router.get("/v1/incidents/{incident_id}/events")
async def incident_events(
    incident_id: IncidentId,
    session: ReadSession,
    actor: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MonitorEventRead]:
    """List the monitor firings that opened or joined an incident, oldest first."""
    incident = await incidents.get_incident(session, incident_id=incident_id)
    return await service.incident_events(session, incident=incident, limit=limit, offset=offset)


@router.post("/v1/incidents/{incident_id}/resolve")
async def resolve_incident(
    incident_id: IncidentId, data: IncidentResolve, session: WriteSession, actor: Writer
) -> IncidentRead:
    """Resolve an open incident with a reason (emits `incident.resolved`)."""
    return await incidents.resolve_incident(
        session, incident_id=incident_id, reason=data.reason, actor=actor
    )
