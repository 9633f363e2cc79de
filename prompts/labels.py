"""Labels: where each points, moving or unsetting one under the label policy, its audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prompts import audit, events, service
from prompts.archive import check_active
from prompts.base import utc_now
from prompts.errors import InvalidPromptError, LabelMoveDeniedError, LabelNotFoundError
from prompts.models import Label, LabelEvent, PromptVersion
from prompts.policy import Actor, LabelPolicy, MoveRequest, PolicyDecision, UnsetRequest
from prompts.repository import PromptRepository
from prompts.schemas import LATEST, LabelEventRead, LabelMove, LabelRead, Page, label_problem


def _event_read(event: LabelEvent) -> LabelEventRead:
    assert event.id is not None
    return LabelEventRead(
        id=event.id,
        label=event.label,
        from_version=event.from_version,
        to_version=event.to_version,
        actor=event.actor,
        reason=event.reason,
        is_forced=event.is_forced,
        evidence=event.evidence,
        created_at=event.created_at,
        actor_role=event.actor_role,
        seq=event.seq,
        hash=event.hash,
    )


async def list_labels(session: AsyncSession, *, name: str) -> list[LabelRead]:
    """Return where each of the prompt's labels points."""
    prompt = await service.prompt_row(session, name=name)
    assert prompt.id is not None
    return [
        LabelRead(
            name=label.name,
            version=number,
            updated_by=label.updated_by,
            updated_at=label.updated_at,
        )
        for label, number in await PromptRepository(session).label_rows(prompt.id)
    ]


async def get_label(session: AsyncSession, *, name: str, label: str) -> LabelRead:
    """Return where one label points."""
    for found in await list_labels(session, name=name):
        if found.name == label:
            return found
    raise LabelNotFoundError(f"prompt {name!r} has no label {label!r}")


def _check_label(label: str) -> None:
    problem = label_problem(label)
    if problem:
        raise InvalidPromptError(problem)
    if label == LATEST:
        raise InvalidPromptError(
            "'latest' always means the highest version: it is never moved or unset"
        )


async def move_label(
    session: AsyncSession,
    *,
    name: str,
    label: str,
    move: LabelMove,
    actor: Actor,
    policy: LabelPolicy,
) -> LabelEventRead:
    """Point `label` at a version if the policy allows it, and record the move."""
    _check_label(label)
    repo = PromptRepository(session)
    prompt, target = await service.find_version(
        session, name=name, version=move.version, for_update=True
    )
    assert prompt.id is not None
    check_active("prompt", prompt, doing="moving its labels")
    row = await repo.label(prompt.id, label)
    current = await repo.version_by_id(row.version_id) if row else None
    if row is not None and current is not None and current.id == target.id:
        events, _ = await repo.history(prompt.id, label, limit=1, offset=0)
        return _event_read(events[0])

    request = MoveRequest(
        prompt=prompt,
        label=label,
        target=target,
        current=current,
        actor=actor,
        reason=move.reason,
        force=move.force,
    )
    try:
        decision = await policy.check(session, request)
        if not decision.allowed:
            raise LabelMoveDeniedError(decision.reason or f"moving {label!r} is not allowed")
    except Exception as exc:
        _defer_refusal(session, exc, request.prompt.name, label, current, target.version, actor)
        raise
    event = await _record_move(session, request, row, decision)
    service.mark_changed(session, name)
    return _event_read(event)


async def _record_move(
    session: AsyncSession, request: MoveRequest, row: Label | None, decision: PolicyDecision
) -> LabelEvent:
    """Point the label row at the target and append the sealed audit event."""
    prompt, target, actor = request.prompt, request.target, request.actor
    now = utc_now()
    assert prompt.id is not None
    assert target.id is not None
    if row is None:
        session.add(
            Label(
                prompt_id=prompt.id,
                name=request.label,
                version_id=target.id,
                updated_by=actor.name,
                updated_at=now,
            )
        )
    else:
        row.version_id, row.updated_by, row.updated_at = target.id, actor.name, now
    event = LabelEvent(
        prompt_id=prompt.id,
        label=request.label,
        from_version=request.current.version if request.current else None,
        to_version=target.version,
        actor=actor.name,
        reason=request.reason,
        is_forced=decision.forced,
        evidence=list(decision.evidence),
        created_at=now,
        actor_role=actor.role.value,
    )
    await audit.seal_label_event(
        session, event, prompt=prompt.name, content_hash=target.content_hash
    )
    session.add(event)
    await session.flush()
    await _emit_moved(session, prompt.name, event)
    return event


def _moved_data(prompt: str, event: LabelEvent) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "label": event.label,
        "from_version": event.from_version,
        "to_version": event.to_version,
        "reason": event.reason,
        "is_forced": event.is_forced,
        "seq": event.seq,
    }


async def _emit_moved(session: AsyncSession, prompt: str, event: LabelEvent) -> None:
    """Emit `label.moved` (an unset: `to_version` null) in the move's transaction."""
    data = _moved_data(prompt, event)
    await events.emit(session, events.LABEL_MOVED, data, actor=event.actor)


def _defer_refusal(
    session: AsyncSession,
    exc: Exception,
    prompt: str,
    label: str,
    current: PromptVersion | None,
    to_version: int | None,
    actor: Actor,
) -> None:
    """Keep a `label.move_refused` event for after the rollback, if the policy refused."""
    detail = getattr(exc, "detail", None)
    if not isinstance(detail, str):  # not a refusal: a bug or a database error
        return
    data = {
        "prompt": prompt,
        "label": label,
        "from_version": current.version if current else None,
        "to_version": to_version,
        "refusal": getattr(exc, "title", type(exc).__name__),
        "detail": detail[:2_000],
    }
    events.defer_after_rollback(session, events.LABEL_MOVE_REFUSED, data, actor=actor.name)


async def unset_label(
    session: AsyncSession,
    *,
    name: str,
    label: str,
    actor: Actor,
    reason: str,
    policy: LabelPolicy,
) -> LabelEventRead:
    """Remove `label` from the prompt if the policy allows it, and record the unset."""
    _check_label(label)
    repo = PromptRepository(session)
    prompt = await service.prompt_row(session, name=name, for_update=True)
    assert prompt.id is not None
    check_active("prompt", prompt, doing="unsetting its labels")
    row = await repo.label(prompt.id, label)
    if row is None:
        raise LabelNotFoundError(f"prompt {name!r} has no label {label!r}")
    current = await repo.version_by_id(row.version_id)
    request = UnsetRequest(prompt=prompt, label=label, current=current, actor=actor, reason=reason)
    try:
        decision = await policy.check_unset(session, request)
        if not decision.allowed:
            raise LabelMoveDeniedError(decision.reason or f"unsetting {label!r} is not allowed")
    except Exception as exc:
        _defer_refusal(session, exc, prompt.name, label, current, None, actor)
        raise
    await session.delete(row)
    event = LabelEvent(
        prompt_id=prompt.id,
        label=label,
        from_version=current.version,
        to_version=None,
        actor=actor.name,
        reason=reason,
        created_at=utc_now(),
        actor_role=actor.role.value,
    )
    # An unset has no target: the chain hashes an empty content hash (as verify reads it).
    await audit.seal_label_event(session, event, prompt=prompt.name, content_hash="")
    session.add(event)
    await session.flush()
    await _emit_moved(session, prompt.name, event)
    service.mark_changed(session, name)
    return _event_read(event)


async def label_history(
    session: AsyncSession, *, name: str, label: str, limit: int = 50, offset: int = 0
) -> Page[LabelEventRead]:
    """Return a label's audit trail, newest first."""
    prompt = await service.prompt_row(session, name=name)
    assert prompt.id is not None
    events, total = await PromptRepository(session).history(
        prompt.id, label, limit=limit, offset=offset
    )
    return Page(items=[_event_read(e) for e in events], total=total, limit=limit, offset=offset)
