"""What a firing does, in the transaction that records it: evidence, incident, event, rollback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from evals.monitors.incidents import open_or_join
from evals.monitors.models import MonitorEvent
from evals.monitors.rollback import auto_rollback
from prompts import events
from prompts.base import utc_now

# The evidence keys a `monitor.fired` event repeats (the whole evidence is on the event row).
_SUMMARY = ("metric", "op", "threshold", "value", "samples", "min_samples", "window", "score")


@dataclass(frozen=True)
class Check:
    """One monitor event being decided: which monitor, label and version it is about."""

    event_id: int
    monitor: str
    trigger: str
    prompt: str
    label: str
    version: int | None
    period_key: str


async def finish(
    session: AsyncSession, check: Check, status: str, evidence: dict[str, Any]
) -> bool:
    """Record a running event's outcome if it is still running (False: another did first)."""
    done = await session.execute(
        sa.update(MonitorEvent)
        .where(col(MonitorEvent.id) == check.event_id, col(MonitorEvent.status) == "running")
        .values(status=status, evidence=events.clean(evidence), finished_at=utc_now())
    )
    return bool(getattr(done, "rowcount", 0) == 1)


def _summary(check: Check, evidence: dict[str, Any]) -> dict[str, Any]:
    if check.trigger == "signal":
        return {k: evidence[k] for k in _SUMMARY if k in evidence}
    if check.trigger == "dataset":
        keep = ("run_id", "suite", "suite_version", "status", "verdict")
        runs = [{k: r.get(k) for k in keep} for r in evidence.get("runs") or []]
        return {"dataset": evidence["dataset"], "dataset_version": evidence["dataset_version"],
                "runs": runs}  # fmt: skip
    runs = evidence.get("runs") or []
    keep = ("run_id", "suite", "suite_version", "status", "verdict")
    return {"runs": [{k: r.get(k) for k in keep} for r in runs]}


async def fire(
    session: AsyncSession, check: Check, evidence: dict[str, Any], *, protected: frozenset[str]
) -> dict[str, Any]:
    """Open or join the label's incident, roll back if opted in, emit `monitor.fired`.

    Call it after `finish` recorded the event as fired (the claim); returns the evidence with
    the incident and the rollback added, which the caller stores.
    """
    incident_id: int | None = None
    rollback: dict[str, Any] | None = None
    # A candidate dataset failing says nothing against the label's gate (its pins still pass):
    # it is reported, with no incident and no rollback.
    if check.trigger != "dataset":
        incident = await open_or_join(
            session, prompt=check.prompt, label=check.label, event_id=check.event_id
        )
        incident_id = incident.id
        evidence = {**evidence, "incident_id": incident_id}
        rollback = await auto_rollback(
            session,
            prompt=check.prompt,
            label=check.label,
            monitor=check.monitor,
            monitor_event_id=check.event_id,
            protected=protected,
        )
        if rollback is not None:
            evidence["rollback"] = rollback
    data = {
        "monitor": check.monitor,
        "monitor_event_id": check.event_id,
        "prompt": check.prompt,
        "label": check.label,
        "version": check.version,
        "trigger": check.trigger,
        "period_key": check.period_key,
        "evidence": _summary(check, evidence),
        "incident_id": incident_id,
        "rollback": rollback,
    }
    await events.emit(session, events.MONITOR_FIRED, data, actor=f"monitor:{check.monitor}")
    await session.execute(
        sa.update(MonitorEvent)
        .where(col(MonitorEvent.id) == check.event_id)
        .values(evidence=events.clean(evidence))
    )
    return evidence
