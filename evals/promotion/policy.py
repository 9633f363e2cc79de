"""Promotion policies: which suite versions a label requires, changed only by admins, audited.

A policy pins exact suite versions (each pinning its dataset and judges), so what a gate
measures changes only when an admin pins another version. Every change is a PolicyEvent
linked into the audit chain (prompts.audit) with actor, reason and time.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import InvalidPolicyError, PolicyNotFoundError
from evals.models import DatasetVersion, PolicyEvent, PromotionPolicy, Suite, SuiteVersion
from evals.promotion.reports import PolicyEventRead, PolicyRead, SuitePin
from evals.promotion.schemas import PolicyUpdate, parse_suite_ref
from prompts import audit, events
from prompts import service as prompts
from prompts.base import upsert_insert, utc_now
from prompts.policy import Actor
from prompts.schemas import LATEST, Page, label_problem

GLOBAL: Final = "*"
# What the audit chain hashes of a policy: everything but who and when it was last changed.
_STATE_KEYS: Final = ("label", "scope", "pins", "max_age_seconds", "force_role")
# Recorded since monitors (absent from older events: false).
_OPTIONAL_KEYS: Final = ("auto_rollback",)


def policy_read(row: PromotionPolicy) -> PolicyRead:
    """Return a stored policy as the API shows it."""
    pins = [SuitePin.model_validate(pin) for pin in row.pins]
    return PolicyRead(
        label=row.label,
        prompt=None if row.scope == GLOBAL else row.scope,
        required_suites=[pin.suite for pin in pins],
        pins=pins,
        max_age_seconds=row.max_age_seconds,
        force_role=row.force_role,
        auto_rollback=row.auto_rollback,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def policy_state(row: PromotionPolicy) -> dict[str, Any]:
    """Return what a policy demands, as its audit events record it."""
    return {
        "label": row.label,
        "scope": row.scope,
        "pins": row.pins,
        "max_age_seconds": row.max_age_seconds,
        "force_role": row.force_role,
        "auto_rollback": row.auto_rollback,
    }


def policy_payload(event: PolicyEvent) -> dict[str, Any]:
    """Return what the audit chain hashes of a policy event."""
    return {
        "kind": audit.POLICY,
        "action": event.action,
        "label": event.label,
        "scope": event.scope,
        "policy": event.policy,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "reason": event.reason,
        "created_at": audit.timestamp(event.created_at),
    }


async def record_policy_event(
    session: AsyncSession,
    *,
    action: str,
    label: str,
    scope: str,
    state: dict[str, Any] | None,
    actor: Actor,
    reason: str,
) -> PolicyEvent:
    """Append one policy change to the audit chain."""
    event = PolicyEvent(
        seq=0,
        action=action,
        label=label,
        scope=scope,
        policy=state,
        actor=actor.name,
        actor_role=actor.role.value,
        reason=reason,
        created_at=utc_now(),
        prev_hash="",
        hash="",
    )
    link = await audit.append(session, policy_payload(event))
    event.seq, event.prev_hash, event.hash = link.seq, link.prev_hash, link.hash
    session.add(event)
    await session.flush()
    if action != "recorded":  # an upgrade recording a policy as found changes nothing
        data = {
            "action": action,
            "label": label,
            "prompt": None if scope == GLOBAL else scope,
            "policy": state,
            "reason": reason,
            "seq": event.seq,
        }
        await events.emit(session, events.POLICY_CHANGED, data, actor=actor.name)
    return event


def _check_label(label: str) -> None:
    problem = label_problem(label)
    if problem or label == LATEST:
        raise InvalidPolicyError(problem or "'latest' cannot have a policy: it is never moved")


async def _pin(session: AsyncSession, ref: str, kept: dict[str, int]) -> dict[str, Any]:
    """Pin one required suite: the version named, else the one kept, else the current one."""
    name, version = parse_suite_ref(ref)
    suite = await session.scalar(select(Suite).where(Suite.name == name))
    if suite is None:
        raise InvalidPolicyError(f"suite {name!r} does not exist: push it first")
    number = version or kept.get(name) or suite.current_version
    row = await session.scalar(
        select(SuiteVersion).where(
            SuiteVersion.suite_id == suite.id, SuiteVersion.version == number
        )
    )
    if row is None:
        raise InvalidPolicyError(f"suite {name!r} has no version {number}")
    dataset = (
        await session.get(DatasetVersion, row.dataset_version_id)
        if row.dataset_version_id is not None
        else None
    )
    if dataset is None:
        raise InvalidPolicyError(
            f"suite {name!r} version {row.version} pins no dataset version (it was stored "
            "before suites pinned their dataset): push the suite again and pin the new version"
        )
    dataset_name = str(row.spec["dataset"]["name"])
    return SuitePin(
        suite=name,
        version=row.version,
        content_hash=row.content_hash,
        dataset=dataset_name,
        dataset_version=dataset.version,
    ).model_dump()


async def _locked_policy(session: AsyncSession, label: str, scope: str) -> PromotionPolicy | None:
    stmt = select(PromotionPolicy).where(
        PromotionPolicy.label == label, PromotionPolicy.scope == scope
    )
    return await session.scalar(stmt.with_for_update())


async def put_policy(
    session: AsyncSession, *, label: str, data: PolicyUpdate, actor: Actor
) -> PolicyRead:
    """Create or replace a label's policy (every prompt, or one) and audit the change."""
    _check_label(label)
    if data.prompt is not None:
        await prompts.find_version(session, name=data.prompt, label=LATEST)
    scope = data.prompt or GLOBAL
    # Insert-or-nothing first, so concurrent identical PUTs wait on one row instead of
    # colliding on the unique constraint (PostgreSQL).
    table = PromotionPolicy.__table__  # type: ignore[attr-defined]
    values = {"label": label, "scope": scope, "pins": [], "force_role": "admin"}
    insert = upsert_insert(session, table).values(
        updated_by=actor.name, updated_at=utc_now(), **values
    )
    created = (
        await session.execute(
            insert.on_conflict_do_nothing(index_elements=["label", "scope"]).returning(table.c.id)
        )
    ).first() is not None
    row = await _locked_policy(session, label, scope)
    assert row is not None
    kept = {pin["suite"]: int(pin["version"]) for pin in row.pins}
    before = None if created else policy_state(row)
    row.pins = [await _pin(session, ref, kept) for ref in data.required_suites]
    row.max_age_seconds, row.force_role = data.max_age_seconds, data.force_role
    row.auto_rollback = data.auto_rollback
    after = policy_state(row)
    if after != before:
        row.updated_by, row.updated_at = actor.name, utc_now()
        await record_policy_event(
            session,
            action="created" if created else "updated",
            label=label,
            scope=scope,
            state=after,
            actor=actor,
            reason=data.reason,
        )
    await session.flush()
    return policy_read(row)


async def list_policies(session: AsyncSession) -> list[PolicyRead]:
    """Return every promotion policy by label and scope."""
    rows = await session.scalars(
        select(PromotionPolicy).order_by(col(PromotionPolicy.label), col(PromotionPolicy.scope))
    )
    return [policy_read(row) for row in rows]


async def delete_policy(
    session: AsyncSession, *, label: str, prompt: str | None, actor: Actor, reason: str = ""
) -> None:
    """Remove a label's policy (the label is then only protected by role, if at all)."""
    scope = prompt or GLOBAL
    row = await _locked_policy(session, label, scope)
    if row is None:
        raise PolicyNotFoundError(f"no promotion policy for label {label!r}")
    await session.delete(row)
    await record_policy_event(
        session, action="deleted", label=label, scope=scope, state=None, actor=actor, reason=reason
    )


async def policy_for(session: AsyncSession, *, label: str, prompt: str) -> PromotionPolicy | None:
    """Return the policy for a prompt's label: its own, else the label's global one."""
    rows = list(
        await session.scalars(
            select(PromotionPolicy).where(
                PromotionPolicy.label == label, col(PromotionPolicy.scope).in_([prompt, GLOBAL])
            )
        )
    )
    rows.sort(key=lambda r: r.scope == GLOBAL)
    return rows[0] if rows else None


def _event_read(event: PolicyEvent) -> PolicyEventRead:
    policy = None
    if event.policy is not None:
        row = PromotionPolicy(
            **{k: event.policy[k] for k in _STATE_KEYS},
            **{k: event.policy[k] for k in _OPTIONAL_KEYS if k in event.policy},
            updated_by=event.actor,
            updated_at=event.created_at,
        )
        policy = policy_read(row)
    return PolicyEventRead(
        seq=event.seq,
        action=event.action,  # type: ignore[arg-type]
        label=event.label,
        prompt=None if event.scope == GLOBAL else event.scope,
        policy=policy,
        actor=event.actor,
        actor_role=event.actor_role,
        reason=event.reason,
        created_at=event.created_at,
        hash=event.hash,
    )


async def policy_history(
    session: AsyncSession, *, label: str | None = None, limit: int = 50, offset: int = 0
) -> Page[PolicyEventRead]:
    """Return policy changes, newest first (of one label, or all)."""
    stmt = select(PolicyEvent)
    if label is not None:
        stmt = stmt.where(PolicyEvent.label == label)
    total = await session.scalar(select(sa.func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(
        stmt.order_by(col(PolicyEvent.seq).desc()).limit(limit).offset(offset)
    )
    items = [_event_read(e) for e in rows]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


async def record_unaudited_policies(session: AsyncSession, actor: Actor) -> int:
    """Record policies that have no event yet (stored before the audit chain) as they are."""
    audited = select(PolicyEvent.id).where(
        PolicyEvent.label == PromotionPolicy.label, PolicyEvent.scope == PromotionPolicy.scope
    )
    rows = list(
        await session.scalars(
            select(PromotionPolicy).where(~audited.exists()).order_by(col(PromotionPolicy.id))
        )
    )
    for row in rows:
        await record_policy_event(
            session,
            action="recorded",
            label=row.label,
            scope=row.scope,
            state=policy_state(row),
            actor=actor,
            reason="policy stored before the audit chain, recorded as found at upgrade",
        )
    return len(rows)
