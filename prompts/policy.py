"""Who may move which label: the promotion policy that `move_label` consults.

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
class PolicyDecision:
    """The policy's answer: allowed or not, why, and the evidence that allowed it."""

    allowed: bool
    reason: str = ""
    evidence: Sequence[dict[str, Any]] = field(default_factory=tuple)
    forced: bool = False


class LabelPolicy(Protocol):
    """Decides whether a label move may happen."""

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        """Return the decision for `request`; raise a LabelMoveDeniedError to refuse."""
        ...


@dataclass(frozen=True)
class ProtectedLabels:
    """Protected labels may be moved only by admins; other labels by writers."""

    protected: frozenset[str] = frozenset({"production"})

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        """Refuse a non-admin move of a protected label."""
        if request.label in self.protected and not request.actor.role.allows(Role.ADMIN):
            raise LabelProtectedError(
                f"label {request.label!r} is protected: only an admin key may move it"
            )
        return PolicyDecision(allowed=True)
