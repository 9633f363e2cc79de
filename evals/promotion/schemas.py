"""Requests of promotion policies (what they answer, clients parse: evals/promotion/reports.py)."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import Field, Strict, field_validator

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
    auto_rollback: Annotated[bool, Strict()] = Field(
        default=False,
        description="When a monitor fires on this label, move it back to the last version that "
        "passed its gate (a gated move by `monitor:<name>`, never forced)",
    )
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
