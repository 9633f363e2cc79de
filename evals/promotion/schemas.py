"""Contracts of promotion policies, gate reports and the audit: what clients and CI parse."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field, Strict, field_validator

from prompts.schemas import name_problem
from tracing.validation import StrictModel

# A required suite as an admin names it: `name` or `name:<version>`.
SUITE_REF_RE: Final = re.compile(r"(?P<name>[^:]+)(?::(?P<version>[1-9][0-9]{0,8}))?")
MAX_AGE_LIMIT: Final = 10 * 365 * 24 * 3600  # ten years: beyond it "max age" means nothing


class _Strict(StrictModel):
    """A request model of promotion policies."""


def parse_suite_ref(ref: str) -> tuple[str, int | None]:
    """Split `name` or `name:<version>`; raise ValueError when it is neither."""
    match = SUITE_REF_RE.fullmatch(ref)
    problem = name_problem(match["name"]) if match else f"invalid suite reference {ref!r}"
    if match is None or problem:
        raise ValueError(
            (problem or "").replace("prompt name", "suite name")
            + "; name a suite as <name> or <name>:<version>"
        )
    version = match["version"]
    return match["name"], int(version) if version else None


class PolicyUpdate(_Strict):
    """What a label demands before a version may take it."""

    required_suites: list[str] = Field(
        min_length=1,
        max_length=32,
        description=(
            "Suites whose passing run counts, as `name` or `name:<version>`. A bare name keeps "
            "the version this policy pins already, or pins the suite's current version."
        ),
    )
    max_age_seconds: Annotated[int, Strict()] | None = Field(default=None, ge=60, le=MAX_AGE_LIMIT)
    force_role: Literal["admin", "writer"] = "admin"
    prompt: str | None = Field(
        default=None, max_length=200, description="Scope to one prompt; default: all"
    )
    reason: str = Field(default="", max_length=2_000, description="Recorded in the audit trail")

    @field_validator("required_suites")
    @classmethod
    def _suites(cls, value: list[str]) -> list[str]:
        names = [parse_suite_ref(ref)[0] for ref in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"suite {repeated[0]!r} is named more than once")
        return value


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
    problems: list[AuditProblem]
