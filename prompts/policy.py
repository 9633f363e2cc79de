"""Who may move or unset which label: the policy that `move_label` and `unset_label` consult.

The policy is a protocol so the evaluation gate can plug in without changing the move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from prompts.errors import LabelProtectedError
from prompts.models import Prompt, PromptVersion


class Role(StrEnum):
    """What an actor may do; each role includes the ones before it."""

    READER = "reader"
    WRITER = "writer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Return the role's rank (reader 0, writer 1, admin 2)."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Return whether this role includes `needed`."""
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Actor:
    """Who is acting: an API key's id, display name and role."""

    id: str
    name: str
    role: Role


@dataclass(frozen=True)
class MoveRequest:
    """A proposed label move, as the policy sees it."""

    prompt: Prompt
    label: str
    target: PromptVersion
    current: PromptVersion | None
    actor: Actor
    reason: str
    force: bool = False


@dataclass(frozen=True)
class UnsetRequest:
    """A proposed label unset, as the policy sees it."""

    prompt: Prompt
    label: str
    current: PromptVersion
    actor: Actor
    reason: str


@dataclass(frozen=True)
class PolicyDecision:
    """The policy's answer: allowed or not, why, and the evidence that allowed it."""

    allowed: bool
    reason: str = ""
    evidence: Sequence[dict[str, Any]] = field(default_factory=tuple)
    forced: bool = False


class LabelPolicy(Protocol):
    """Decides whether a label move or unset may happen."""

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        """Return the decision for `request`; raise a LabelMoveDeniedError to refuse."""
        ...

    async def check_unset(self, session: AsyncSession, request: UnsetRequest) -> PolicyDecision:
        """Return the decision for an unset; raise a LabelMoveDeniedError to refuse."""
        ...


@dataclass(frozen=True)
class ProtectedLabels:
    """Protected labels may be moved only by admins; other labels by writers."""

    protected: frozenset[str] = frozenset({"production"})

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        """Refuse a non-admin move of a protected label."""
        self._admin_only(request.label, request.actor, "move")
        return PolicyDecision(allowed=True)

    async def check_unset(self, session: AsyncSession, request: UnsetRequest) -> PolicyDecision:
        """Refuse a non-admin unset of a protected label."""
        self._admin_only(request.label, request.actor, "unset")
        return PolicyDecision(allowed=True)

    def _admin_only(self, label: str, actor: Actor, verb: str) -> None:
        if label in self.protected and not actor.role.allows(Role.ADMIN):
            raise LabelProtectedError(
                f"label {label!r} is protected: only an admin key may {verb} it"
            )
