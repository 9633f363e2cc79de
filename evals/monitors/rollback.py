"""Auto-rollback: where a label's policy opts in, a firing moves it back to its last good version.

The move is an ordinary gated move (`prompts.labels.move_label` through the promotion gate,
never forced) by the actor `monitor:<name>`, so it lands in the audit hash chain like any
other; its evidence is the gate's with the firing's `monitor_event_id` added. A gate that
refuses moves nothing: its `label.move_refused` event is written and the refusal returned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import EvalsError
from evals.promotion.gate import GatePolicy, is_gated
from evals.promotion.policy import policy_for
from prompts import events
from prompts import service as prompts
from prompts.errors import PromptsError
from prompts.labels import move_label
from prompts.models import LabelEvent, Prompt, PromptVersion
from prompts.policy import (
    Actor,
    LabelPolicy,
    MoveRequest,
    PolicyDecision,
    ProtectedLabels,
    Role,
    UnsetRequest,
)
from prompts.schemas import LabelMove


def monitor_actor(name: str) -> Actor:
    """Return who a monitor acts as: `monitor:<name>`, with a writer's role (never forcing)."""
    return Actor(id=f"monitor:{name}", name=f"monitor:{name}", role=Role.WRITER)


@dataclass(frozen=True)
class _CitingFiring:
    """The gate, with the firing that asked for the move added to its evidence."""

    gate: LabelPolicy
    monitor_event_id: int

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        decision = await self.gate.check(session, request)
        cited = [{**e, "monitor_event_id": self.monitor_event_id} for e in decision.evidence]
        return replace(decision, evidence=cited)

    async def check_unset(self, session: AsyncSession, request: UnsetRequest) -> PolicyDecision:
        return await self.gate.check_unset(session, request)  # pragma: no cover - never unsets


async def last_good_version(
    session: AsyncSession, *, prompt: Prompt, label: str, current: PromptVersion | None
) -> int | None:
    """Return the newest version, other than the current one, a gated move put on the label."""
    found = await session.scalars(
        select(LabelEvent)
        .where(LabelEvent.prompt_id == prompt.id, LabelEvent.label == label)
        .order_by(col(LabelEvent.id).desc())
    )
    now = current.version if current is not None else None
    for event in found:
        if event.to_version is not None and event.to_version != now and is_gated(event):
            return int(event.to_version)
    return None


async def auto_rollback(
    session: AsyncSession,
    *,
    prompt: str,
    label: str,
    monitor: str,
    monitor_event_id: int,
    protected: frozenset[str],
) -> dict[str, Any] | None:
    """Move the label back if its policy opts in; return what happened (None: not opted in)."""
    policy = await policy_for(session, label=label, prompt=prompt)
    if policy is None or not policy.auto_rollback:
        return None
    row = await prompts.prompt_row(session, name=prompt)
    current = await prompts.labelled_version(session, prompt=row, label=label)
    target = await last_good_version(session, prompt=row, label=label, current=current)
    base: dict[str, Any] = {"from_version": current.version if current else None}
    if target is None:
        return {**base, "moved": False, "detail": "no earlier version passed this label's gate"}
    move = LabelMove(
        version=target,
        reason=f"auto-rollback: monitor {monitor} fired (monitor event {monitor_event_id})",
    )
    gate = _CitingFiring(GatePolicy(ProtectedLabels(protected)), monitor_event_id)
    try:
        async with session.begin_nested():
            moved = await move_label(
                session, name=prompt, label=label, move=move, actor=monitor_actor(monitor),
                policy=gate,
            )  # fmt: skip
    except (EvalsError, PromptsError) as exc:
        refused = {"refusal": exc.title, "detail": exc.detail[:2_000]}
        # The gate kept its refusal's event for after a rollback: the savepoint's was that
        # rollback. A refusal before the gate (an archived prompt) kept none: say it here.
        pending = events.deferred(session) or [
            events.DeferredEvent(
                type=events.LABEL_MOVE_REFUSED,
                data={"prompt": prompt, "label": label, "to_version": target, **base, **refused},
                actor=monitor_actor(monitor).name,
            )
        ]
        await events.write_deferred(session, pending)
        return {**base, "moved": False, "to_version": target, **refused}
    return {**base, "moved": True, "to_version": target, "label_event_id": moved.id}
