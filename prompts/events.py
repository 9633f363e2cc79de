"""The events outbox: what changed, written in the same transaction as the change itself.

`emit` adds one `events` row to the caller's session, so an event exists exactly when its
change committed (a rolled-back write leaves none). A refusal has no change to commit with:
`defer_after_rollback` keeps its event on the session, and the request's session dependency
writes `deferred(session)` in a fresh transaction after the rollback. Webhook delivery
(evals/webhooks) reads the outbox; `emitted(session)` tells the server to wake it on commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy.ext.asyncio import AsyncSession

from prompts.base import utc_now
from prompts.models import Event

PROMPT_VERSION_PUBLISHED: Final = "prompt.version_published"
LABEL_MOVED: Final = "label.moved"
LABEL_MOVE_REFUSED: Final = "label.move_refused"
POLICY_CHANGED: Final = "policy.changed"
RUN_FINISHED: Final = "run.finished"
MONITOR_FIRED: Final = "monitor.fired"
INCIDENT_RESOLVED: Final = "incident.resolved"
WEBHOOK_ENDPOINT_PAUSED: Final = "webhook.endpoint_paused"
WEBHOOK_TEST: Final = "webhook.test"
# Every type a webhook endpoint may subscribe to (a test event goes to one endpoint only).
EVENT_TYPES: Final = (
    PROMPT_VERSION_PUBLISHED,
    LABEL_MOVED,
    LABEL_MOVE_REFUSED,
    POLICY_CHANGED,
    RUN_FINISHED,
    MONITOR_FIRED,
    INCIDENT_RESOLVED,
    WEBHOOK_ENDPOINT_PAUSED,
)
_ALL_TYPES: Final = frozenset((*EVENT_TYPES, WEBHOOK_TEST))
_EMITTED: Final = "promptlane.events_emitted"
_DEFERRED: Final = "promptlane.events_deferred"


@dataclass(frozen=True)
class DeferredEvent:
    """An event to write after the session's transaction rolled back (a refusal)."""

    type: str
    data: dict[str, Any]
    actor: str


def new_uid() -> str:
    """Return a new event id: `msg_` and 32 hex digits (no '.', as webhook ids must not hold)."""
    return f"msg_{secrets.token_hex(16)}"


def clean(value: Any) -> Any:
    """Return `value` with NUL removed from every string (PostgreSQL's JSON refuses it)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def event_row(type_: str, data: Mapping[str, Any], *, actor: str) -> Event:
    """Return an unsaved event row."""
    if type_ not in _ALL_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return Event(
        uid=new_uid(),
        type=type_,
        occurred_at=utc_now(),
        actor=clean(actor)[:200],
        data=clean(dict(data)),
    )


async def emit(session: AsyncSession, type_: str, data: Mapping[str, Any], *, actor: str) -> Event:
    """Add an event to the session's transaction: it is stored if, and only if, that commits."""
    event = event_row(type_, data, actor=actor)
    session.add(event)
    session.info[_EMITTED] = True
    return event


def emitted(session: AsyncSession) -> bool:
    """Return whether this session emitted an event (the server wakes delivery on commit)."""
    return bool(session.info.get(_EMITTED))


def defer_after_rollback(
    session: AsyncSession, type_: str, data: Mapping[str, Any], *, actor: str
) -> None:
    """Keep an event to write once the session's transaction has rolled back."""
    event_row(type_, data, actor=actor)  # an unknown type fails here, where it is asked for
    pending = session.info.setdefault(_DEFERRED, [])
    pending.append(DeferredEvent(type=type_, data=dict(data), actor=actor))


def deferred(session: AsyncSession) -> list[DeferredEvent]:
    """Return (and forget) the events this session deferred until after its rollback."""
    return cast(list[DeferredEvent], session.info.pop(_DEFERRED, []))


async def write_deferred(session: AsyncSession, pending: list[DeferredEvent]) -> None:
    """Write deferred events in `session` (a fresh transaction the caller commits)."""
    for item in pending:
        await emit(session, item.type, item.data, actor=item.actor)
