"""The promotion gate that `prompts.labels.move_label` consults on every label move.

For a label with a policy, a move is allowed when every pinned suite version has a completed,
passing run on this exact content hash whose manifest matches the pin (suite version and hash,
dataset version), fresh enough, and compared with the version the label holds now when the
suite has a baseline rule; or when the target held the label before through such a move (a
rollback). Otherwise an actor with the policy's force role may force it with a reason, marked
in the audit trail; everyone else gets the report (409), or 403 when forcing is above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import (
    ForceNotAllowedError,
    ForceReasonMissingError,
    GateFailedError,
    InvalidPolicyError,
)
from evals.models import PromotionPolicy, Run, Suite, SuiteVersion
from evals.promotion.policy import policy_for, policy_read
from evals.promotion.reports import GateReport, RollbackEvidence, SuiteEvidence, SuitePin
from evals.reports import RunManifest, RunStatus, Verdict
from evals.schemas import SuiteSpec
from promptlane_client.hashing import sha256_hex
from prompts import service as prompts
from prompts.archive import check_active
from prompts.base import utc_now
from prompts.errors import LabelProtectedError
from prompts.models import LabelEvent, Prompt, PromptVersion
from prompts.policy import (
    Actor,
    MoveRequest,
    PolicyDecision,
    ProtectedLabels,
    Role,
    UnsetRequest,
)

_CANDIDATE_RUNS = 20


def manifest_matches(run: Run, pin: SuitePin, content_hash: str) -> str | None:
    """Say why a run's manifest does not match a pin and a content hash (None: it does)."""
    # The hash covers the stored JSON itself, before any reading of it.
    if sha256_hex(run.manifest) != run.manifest_hash:
        return "its manifest does not match its manifest hash"
    manifest = RunManifest.model_validate(run.manifest)
    if manifest.prompt.content_hash != content_hash:
        return "it ran other prompt content"
    suite = manifest.suite
    if (suite.version, suite.content_hash) != (pin.version, pin.content_hash):
        return f"it ran suite version {suite.version}, the policy pins {pin.version}"
    if manifest.dataset.version != pin.dataset_version:
        return f"it ran dataset version {manifest.dataset.version}"
    if manifest.overrides is not None and manifest.overrides.fewer_repeats:
        o = manifest.overrides
        return f"it ran {o.repeats} repeat(s), fewer than the suite's {o.suite_repeats}"
    return None


def is_gated(event: LabelEvent) -> bool:
    """Say whether a move was allowed by pinned evidence (the only kind a rollback may cite)."""
    return (
        event.actor_role is not None
        and not event.is_forced
        and bool(event.evidence)
        and all("suite_content_hash" in e or "rollback_of" in e for e in event.evidence)
    )


async def _pinned_version(session: AsyncSession, pin: SuitePin) -> tuple[Suite, SuiteVersion]:
    found = (
        await session.execute(
            select(Suite, SuiteVersion)
            .join(SuiteVersion, col(SuiteVersion.suite_id) == col(Suite.id))
            .where(Suite.name == pin.suite, SuiteVersion.version == pin.version)
        )
    ).first()
    if found is None:  # pragma: no cover - suite versions are never deleted
        raise InvalidPolicyError(f"the pinned suite {pin.suite}:{pin.version} is missing")
    return found[0], found[1]


async def _candidate_runs(
    session: AsyncSession, suite_version: SuiteVersion, target: PromptVersion
) -> list[Run]:
    same_content = select(PromptVersion.id).where(
        PromptVersion.prompt_id == target.prompt_id,
        PromptVersion.content_hash == target.content_hash,
    )
    rows = await session.scalars(
        select(Run)
        .where(
            Run.suite_version_id == suite_version.id,
            col(Run.prompt_version_id).in_(same_content),
            Run.status == RunStatus.COMPLETED.value,
        )
        .order_by(col(Run.finished_at).desc())
        .limit(_CANDIDATE_RUNS)
    )
    return list(rows)


@dataclass(frozen=True)
class _Rules:
    """What a run must also satisfy beyond its manifest: freshness and the baseline."""

    oldest: datetime | None
    baseline: bool
    current: PromptVersion | None

    def problem(self, run: Run) -> str | None:
        if run.verdict != Verdict.PASSED.value:
            return f"the newest run ({run.id}) is {run.verdict}"
        if self.oldest is not None and (run.finished_at is None or run.finished_at < self.oldest):
            return f"run {run.id} passed but is older than the policy's max age"
        # A baseline rule compares with the version the label holds *now*: a run that
        # compared with an older holder says nothing about regressing against this one.
        current = self.current.id if self.current is not None else None
        if self.baseline and current is not None and run.baseline_version_id != current:
            return f"run {run.id} passed but compared with another baseline"
        return None


async def _suite_evidence(
    session: AsyncSession, *, pin: SuitePin, target: PromptVersion, rules: _Rules
) -> SuiteEvidence:
    """Find the newest run that satisfies one pin, and say why if there is none."""
    suite, version = await _pinned_version(session, pin)
    current = suite.current_version if suite.current_version != pin.version else None
    report = SuiteEvidence(
        suite=pin.suite, suite_version=pin.version, current_version=current, passed=False
    )
    runs = await _candidate_runs(session, version, target)
    if not runs:
        report.detail = f"no completed run of {pin.suite}:{pin.version} on this content"
        return report
    spec = SuiteSpec.model_validate(version.spec)
    rules = _Rules(rules.oldest, spec.baseline is not None, rules.current)
    for run in runs:
        problem = manifest_matches(run, pin, target.content_hash) or rules.problem(run)
        if problem is None:
            return report.model_copy(
                update={
                    "passed": True,
                    "run_id": run.id,
                    "verdict": run.verdict,
                    "finished_at": run.finished_at,
                    "manifest_hash": run.manifest_hash,
                }
            )
        report.detail = report.detail or problem
    newest = runs[0]
    return report.model_copy(update={"run_id": newest.id, "verdict": newest.verdict})


async def _rollback_evidence(
    session: AsyncSession, *, prompt: Prompt, label: str, target: PromptVersion
) -> RollbackEvidence | None:
    """Return the earlier gated move of `target` onto `label`, if there was one."""
    events = await session.scalars(
        select(LabelEvent)
        .where(
            LabelEvent.prompt_id == prompt.id,
            LabelEvent.label == label,
            LabelEvent.to_version == target.version,
        )
        .order_by(col(LabelEvent.id).desc())
    )
    for event in events:
        if is_gated(event):
            assert event.id is not None
            return RollbackEvidence(rollback_of=event.id, at=event.created_at)
    return None


async def gate_report(
    session: AsyncSession,
    *,
    prompt: Prompt,
    label: str,
    target: PromptVersion,
    current: PromptVersion | None,
) -> GateReport:
    """Say whether `target` may take `label` under its policy, pinned suite by suite."""
    policy = await policy_for(session, label=label, prompt=prompt.name)
    report = GateReport(
        prompt=prompt.name,
        label=label,
        version=target.version,
        content_hash=target.content_hash,
        current_version=current.version if current else None,
        policy=policy_read(policy) if policy else None,
        suites=[],
        allowed=True,
        detail="no promotion policy for this label",
    )
    if policy is None:
        return report
    oldest = (
        utc_now() - timedelta(seconds=policy.max_age_seconds) if policy.max_age_seconds else None
    )
    rules = _Rules(oldest, False, current)
    for raw in policy.pins:
        pin = SuitePin.model_validate(raw)
        report.suites.append(await _suite_evidence(session, pin=pin, target=target, rules=rules))
    if all(s.passed for s in report.suites):
        report.detail = "every pinned suite passed on this content"
        return report
    report.rollback = await _rollback_evidence(session, prompt=prompt, label=label, target=target)
    if report.rollback is not None:
        report.detail = "rollback to a version that passed this label's gate before"
        return report
    failing = ", ".join(f"{s.suite}:{s.suite_version}" for s in report.suites if not s.passed)
    report.allowed = False
    report.detail = f"no qualifying passing run on this content hash for: {failing}"
    return report


async def check_promotion(
    session: AsyncSession, *, name: str, label: str, version: int
) -> GateReport:
    """Dry-run a label move: the gate report, without moving anything."""
    prompt, target = await prompts.find_version(session, name=name, version=version)
    check_active("prompt", prompt, doing="moving its labels")
    current = await prompts.labelled_version(session, prompt=prompt, label=label)
    return await gate_report(session, prompt=prompt, label=label, target=target, current=current)


def _evidence(report: GateReport) -> list[dict[str, Any]]:
    pins = {pin.suite: pin for pin in report.policy.pins} if report.policy else {}
    return [
        {
            "suite": s.suite,
            "suite_version": s.suite_version,
            "suite_content_hash": pins[s.suite].content_hash,
            "run_id": s.run_id,
            "manifest_hash": s.manifest_hash,
        }
        for s in report.suites
        if s.passed
    ]


def _article(role: str) -> str:
    return "an" if role[:1] in "aeiou" else "a"


@dataclass(frozen=True)
class GatePolicy:
    """The label policy of a server: promotion gates, then role protection for the rest."""

    protected: ProtectedLabels

    async def check(self, session: AsyncSession, request: MoveRequest) -> PolicyDecision:
        """Allow the move with its evidence, allow a forced move, or raise with the report."""
        policy = await policy_for(session, label=request.label, prompt=request.prompt.name)
        if policy is None:
            return await self.protected.check(session, request)
        report = await gate_report(
            session,
            prompt=request.prompt,
            label=request.label,
            target=request.target,
            current=request.current,
        )
        evidence = _evidence(report)
        if report.allowed:
            if evidence and len(evidence) == len(report.suites):
                return PolicyDecision(allowed=True, evidence=evidence)
            assert report.rollback is not None
            return PolicyDecision(allowed=True, evidence=[report.rollback.model_dump(mode="json")])
        if request.force:
            return self._forced(request, policy, evidence)
        raise GateFailedError(
            f"cannot move {request.label!r} of {request.prompt.name!r} to version "
            f"{request.target.version}: {report.detail}",
            report=report,
        )

    async def dry_run(
        self, session: AsyncSession, *, name: str, label: str, version: int, actor: Actor
    ) -> GateReport:
        """Return the gate report of a move, as `actor` would meet it: nothing moves.

        The report is the gate's; `allowed` and `detail` also answer for the caller's role, so a
        dry run never says "allowed" for a move the server would refuse this key (403).
        """
        report = await check_promotion(session, name=name, label=label, version=version)
        if not actor.role.allows(Role.WRITER):
            refused = (
                f"a {actor.role.value} key may not move labels: only a writer or admin key may"
            )
        elif (
            report.policy is None
            and label in self.protected.protected
            and not actor.role.allows(Role.ADMIN)
        ):
            refused = f"label {label!r} is protected: only an admin key may move it"
        else:
            return report
        return report.model_copy(update={"allowed": False, "detail": refused})

    async def check_unset(self, session: AsyncSession, request: UnsetRequest) -> PolicyDecision:
        """Let only admins unset a label a promotion policy gates (or a protected one)."""
        policy = await policy_for(session, label=request.label, prompt=request.prompt.name)
        if policy is not None and not request.actor.role.allows(Role.ADMIN):
            raise LabelProtectedError(
                f"label {request.label!r} of {request.prompt.name!r} is gated by a promotion "
                "policy: only an admin key may unset it"
            )
        return await self.protected.check_unset(session, request)

    @staticmethod
    def _forced(
        request: MoveRequest, policy: PromotionPolicy, evidence: list[dict[str, Any]]
    ) -> PolicyDecision:
        if not request.actor.role.allows(Role(policy.force_role)):
            role = policy.force_role
            raise ForceNotAllowedError(
                f"only {_article(role)} {role} key may force {request.label!r}; "
                f"the key {request.actor.name!r} is {request.actor.role.value}"
            )
        if not request.reason.strip():
            raise ForceReasonMissingError(
                f"forcing {request.label!r} needs a reason (--reason / `reason`): it is audited"
            )
        return PolicyDecision(allowed=True, forced=True, evidence=evidence)
