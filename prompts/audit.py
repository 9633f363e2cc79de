"""The audit chain: label, policy and archive events, each linked to the one before by hash.

Label events are moves and unsets; archive events archive or restore a prompt, dataset or
suite. Every event gets the next position (`seq`) of one chain shared by all three, and
stores `hash = sha256(prev_hash + canonical JSON of the event)`. Editing, deleting or
reordering a stored event breaks every later link, which `evals.promotion.audit.verify_audit`
reports; the head hash (`audit_head`) can be kept elsewhere to anchor the chain. Appends lock
the head row, so concurrent events are serialised (SQLite write transactions already are).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from promptlane_client.hashing import canonical_json
from prompts.models import ArchiveEvent, AuditHead, LabelEvent, Prompt, PromptVersion

GENESIS: Final = "0" * 64
HEAD_ID: Final = 1
LABEL: Final = "label"
POLICY: Final = "policy"
ARCHIVE: Final = "archive"


@dataclass(frozen=True)
class Link:
    """Where an event sits in the chain."""

    seq: int
    prev_hash: str
    hash: str


def timestamp(value: datetime) -> str:
    """Return the canonical text of a stored timestamp (UTC, microseconds)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def link_hash(prev_hash: str, seq: int, payload: Mapping[str, Any]) -> str:
    """Return the hash of one link: the previous hash, then the event's canonical JSON."""
    body = canonical_json({**payload, "seq": seq})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def label_payload(event: LabelEvent, *, prompt: str, content_hash: str) -> dict[str, Any]:
    """Return what the chain hashes of a label move (the target's content hash included).

    An unset has no target: `to_version` is None and `content_hash` empty.
    """
    return {
        "kind": LABEL,
        "prompt": prompt,
        "label": event.label,
        "from_version": event.from_version,
        "to_version": event.to_version,
        "content_hash": content_hash,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "reason": event.reason,
        "is_forced": event.is_forced,
        "evidence": event.evidence,
        "created_at": timestamp(event.created_at),
    }


def archive_payload(event: ArchiveEvent) -> dict[str, Any]:
    """Return what the chain hashes of an archive or restore."""
    return {
        "kind": ARCHIVE,
        "object": event.kind,
        "name": event.name,
        "action": event.action,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "reason": event.reason,
        "created_at": timestamp(event.created_at),
    }


async def head(session: AsyncSession, *, for_update: bool = False) -> AuditHead:
    """Return the chain's head (created on first use), optionally locking it."""
    stmt = select(AuditHead).where(AuditHead.id == HEAD_ID)
    if for_update:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        found = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(found)
        await session.flush()
    return found


async def read_head(session: AsyncSession) -> tuple[int, str]:
    """Return the chain's last position and hash, without writing."""
    found = (
        await session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID))
    ).scalar_one_or_none()
    return (found.seq, found.hash) if found else (0, GENESIS)


async def append(session: AsyncSession, payload: Mapping[str, Any]) -> Link:
    """Give an event the next link of the chain and move the head to it."""
    top = await head(session, for_update=True)
    seq = top.seq + 1
    link = Link(seq=seq, prev_hash=top.hash, hash=link_hash(top.hash, seq, payload))
    top.seq, top.hash = link.seq, link.hash
    return link


async def seal_label_event(
    session: AsyncSession, event: LabelEvent, *, prompt: str, content_hash: str
) -> None:
    """Link a label event into the chain (before it is flushed)."""
    link = await append(session, label_payload(event, prompt=prompt, content_hash=content_hash))
    event.seq, event.prev_hash, event.hash = link.seq, link.prev_hash, link.hash


async def seal_archive_event(session: AsyncSession, event: ArchiveEvent) -> None:
    """Link an archive event into the chain (before it is flushed)."""
    link = await append(session, archive_payload(event))
    event.seq, event.prev_hash, event.hash = link.seq, link.prev_hash, link.hash


async def seal_unlinked_label_events(session: AsyncSession) -> int:
    """Link label events recorded before the chain existed (an upgrade), oldest first."""
    rows = (
        await session.execute(
            select(LabelEvent, Prompt.name, PromptVersion.content_hash)
            .join(Prompt, col(Prompt.id) == col(LabelEvent.prompt_id))
            .join(
                PromptVersion,
                (col(PromptVersion.prompt_id) == col(LabelEvent.prompt_id))
                & (col(PromptVersion.version) == col(LabelEvent.to_version)),
            )
            .where(col(LabelEvent.seq).is_(None))
            .order_by(col(LabelEvent.id))
        )
    ).tuples()
    sealed = 0
    for event, prompt, digest in rows:
        await seal_label_event(session, event, prompt=prompt, content_hash=digest)
        sealed += 1
    if sealed:
        await session.flush()
    return sealed
