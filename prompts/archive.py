"""Archiving prompts, datasets and suites: out of lists and resolution, history kept, audited.

Nothing is deleted. Archiving sets the object's `archived_at` and appends an ArchiveEvent to
the audit chain (prompts.audit); restoring clears it and appends another. An archived object
keeps its name, versions, labels and runs, is not resolved (404) and cannot be changed or run
(409) until it is restored, and comes back from a restore exactly as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession

from prompts import audit
from prompts.base import utc_now
from prompts.errors import ArchiveStateError
from prompts.models import ArchiveEvent
from prompts.policy import Actor
from prompts.schemas import ArchiveEventRead, ArchiveKind

ARCHIVE: Final = "archive"
RESTORE: Final = "restore"


class Archivable(Protocol):
    """A row that can be archived: a prompt, a dataset or a suite."""

    name: str
    archived_at: datetime | None


def restore_hint(kind: ArchiveKind, name: str) -> str:
    """Say how to restore an archived object."""
    return f"restore it (`promptlane {kind}s restore {name}`)"


def archived_detail(kind: ArchiveKind, name: str) -> str:
    """Say that an object is archived and how to use it again (a 404's detail)."""
    return f"{kind} {name!r} is archived: {restore_hint(kind, name)} to use it"


def check_active(kind: ArchiveKind, row: Archivable, *, doing: str) -> None:
    """Refuse (409) to change or run an archived object: it must be restored first."""
    if row.archived_at is not None:
        raise ArchiveStateError(
            f"{kind} {row.name!r} is archived: {restore_hint(kind, row.name)} before {doing}"
        )


def archive_event_read(event: ArchiveEvent) -> ArchiveEventRead:
    """Return a stored archive event as the API shows it."""
    assert event.id is not None
    return ArchiveEventRead(
        id=event.id,
        kind=cast(ArchiveKind, event.kind),
        name=event.name,
        action=cast(Literal["archive", "restore"], event.action),
        actor=event.actor,
        actor_role=event.actor_role,
        reason=event.reason,
        created_at=event.created_at,
        seq=event.seq,
        hash=event.hash,
    )


async def set_archived(
    session: AsyncSession,
    row: Archivable,
    *,
    kind: ArchiveKind,
    archive: bool,
    actor: Actor,
    reason: str,
) -> ArchiveEventRead:
    """Archive or restore a locked row and append the sealed event to the audit chain."""
    if (row.archived_at is not None) == archive:
        state = "already archived" if archive else "not archived"
        raise ArchiveStateError(f"{kind} {row.name!r} is {state}")
    now = utc_now()
    row.archived_at = now if archive else None
    event = ArchiveEvent(
        seq=0,
        kind=kind,
        name=row.name,
        action=ARCHIVE if archive else RESTORE,
        actor=actor.name,
        actor_role=actor.role.value,
        reason=reason,
        created_at=now,
        prev_hash="",
        hash="",
    )
    await audit.seal_archive_event(session, event)
    session.add(event)
    await session.flush()
    return archive_event_read(event)
