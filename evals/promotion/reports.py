"""What promotion answers, as clients and CI parse it: policies, gate reports, the audit.

Pydantic only, so the CLI validates the server's answers into these without the server stack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SuitePin(BaseModel):
    """One suite version a policy requires: only runs of exactly this version count."""

    suite: str
    version: int
    content_hash: str = Field(description="The suite version's hash (spec, dataset, judges)")
    dataset: str
    dataset_version: int


class PolicyRead(BaseModel):
    """A stored promotion policy."""

    label: str
    prompt: str | None
    required_suites: list[str] = Field(description="The pinned suites' names")
    pins: list[SuitePin]
    max_age_seconds: int | None
    force_role: str
    auto_rollback: bool = Field(
        default=False,
        description="A monitor firing on this label moves it back to the last version that "
        "passed its gate (a gated move, never forced)",
    )
    updated_by: str
    updated_at: datetime


class PolicyEventRead(BaseModel):
    """One audited change of a policy."""

    seq: int
    action: Literal["created", "updated", "deleted", "recorded"]
    label: str
    prompt: str | None
    policy: PolicyRead | None = Field(description="The policy after the change (none: deleted)")
    actor: str
    actor_role: str
    reason: str
    created_at: datetime
    hash: str


class SuiteEvidence(BaseModel):
    """One pinned suite in a gate report: the run that satisfies it, or why none does."""

    suite: str
    suite_version: int = Field(description="The pinned version")
    current_version: int | None = Field(
        default=None, description="The suite's current version, when the policy pins another"
    )
    passed: bool
    run_id: int | None = None
    verdict: str | None = None
    finished_at: datetime | None = None
    manifest_hash: str | None = None
    detail: str | None = None


class RollbackEvidence(BaseModel):
    """The earlier gated move of the same version that makes a move a rollback."""

    rollback_of: int = Field(description="Id of the earlier label event")
    at: datetime


class GateReport(BaseModel):
    """Whether a version may take a label under its policy, suite by suite."""

    prompt: str
    label: str
    version: int
    content_hash: str
    current_version: int | None
    policy: PolicyRead | None
    suites: list[SuiteEvidence]
    rollback: RollbackEvidence | None = None
    allowed: bool
    detail: str


class AuditProblem(BaseModel):
    """One gap in the audit trail."""

    seq: int | None
    kind: Literal["label", "policy", "chain"]
    prompt: str | None = None
    label: str | None = None
    detail: str


class AuditReport(BaseModel):
    """What `promptlane audit verify` checked, and every gap it found."""

    ok: bool
    head_seq: int
    head_hash: str
    events: int = Field(description="Links of the chain checked")
    policy_events: int
    label_moves: int
    gated_moves: int = Field(description="Non-forced moves checked against the pins in force")
    rollbacks: int
    forced_moves: int
    ungated_moves: int = Field(description="Moves of labels with no policy in force")
    label_unsets: int = Field(default=0, description="Labels unset (not counted as moves)")
    archive_events: int = Field(default=0, description="Archives and restores")
    problems: list[AuditProblem]
