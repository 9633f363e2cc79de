"""Promotion policies and the gate that enforces them on every label move.

`GatePolicy` plugs into `prompts.service.move_label` as its `LabelPolicy`. For a label with a
policy, a move is allowed when, for every required suite, a completed run on the suite's
current version passed on this exact content hash (fresh enough, and compared with the
version the label holds now when the suite has a baseline rule); or when the target held the
label before through such evidence (a rollback). Otherwise an actor with the policy's force
role may force it with a reason, marked in the audit trail; everyone else gets the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import GateFailedError, InvalidPolicyError, PolicyNotFoundError
from evals.models import PromotionPolicy, Run, Suite, SuiteVersion
from evals.schemas import PolicyRead, PolicyUpdate, RunStatus, SuiteSpec, Verdict
from prompts import service as prompts
from prompts.base import utc_now
from prompts.models import LabelEvent, Prompt, PromptVersion
from prompts.policy import MoveRequest, PolicyDecision, ProtectedLabels, Role
from prompts.schemas import LABEL_RE

GLOBAL = "*"


def _policy_read(row: PromotionPolicy) -> PolicyRead:
    return PolicyRead(
        label=row.label,
        prompt=None if row.scope == GLOBAL else row.scope,
        required_suites=row.required_suites,
        max_age_seconds=row.max_age_seconds,
        force_role=row.force_role,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


async def put_policy(
    session: AsyncSession, *, label: str, data: PolicyUpdate, actor: str
) -> PolicyRead:
    """Create or replace the policy of a label (for every prompt, or one)."""
    if not LABEL_RE.match(label) or label == "latest":
        raise InvalidPolicyError(f"invalid label {label!r}")
    if data.prompt is not None:
        await prompts.find_version(session, name=data.prompt, label="latest")
    scope = data.prompt or GLOBAL
    row = await session.scalar(
        select(PromotionPolicy)
        .where(PromotionPolicy.label == label, PromotionPolicy.scope == scope)
        .with_for_update()
    )
    if row is None:
        row = PromotionPolicy(label=label, scope=scope, required_suites=[], force_role="admin")
        session.add(row)
    row.required_suites = list(dict.fromkeys(data.required_suites))
    row.max_age_seconds = data.max_age_seconds
    row.force_role = data.force_role
    row.updated_by, row.updated_at = actor, utc_now()
    await session.flush()
    return _policy_read(row)


async def list_policies(session: AsyncSession) -> list[PolicyRead]:
    """Return every promotion policy by label and scope."""
    rows = await session.scalars(
        select(PromotionPolicy).order_by(col(PromotionPolicy.label), col(PromotionPolicy.scope))
    )
    return [_policy_read(row) for row in rows]


async def delete_policy(session: AsyncSession, *, label: str, prompt: str | None) -> None:
    """Remove a label's policy (the label is then only protected by role, if at all)."""
    row = await session.scalar(
        select(PromotionPolicy).where(
            PromotionPolicy.label == label, PromotionPolicy.scope == (prompt or GLOBAL)
        )
    )
    if row is None:
        raise PolicyNotFoundError(f"no promotion policy for label {label!r}")
    await session.delete(row)
    await session.flush()


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


async def _suite_evidence(
    session: AsyncSession,
    *,
    suite_name: str,
    target: PromptVersion,
    current: PromptVersion | None,
    max_age: int | None,
) -> dict[str, Any]:
    """Find the newest qualifying run of one required suite, and say why if there is none."""
    suite = await session.scalar(select(Suite).where(Suite.name == suite_name))
    report: dict[str, Any] = {"suite": suite_name, "passed": False, "run_id": None}
    if suite is None:
        return {**report, "detail": f"suite {suite_name!r} does not exist"}
    latest = await session.scalar(
        select(SuiteVersion)
        .where(SuiteVersion.suite_id == suite.id)
        .order_by(col(SuiteVersion.version).desc())
        .limit(1)
    )
    assert latest is not None
    runs = list(
        await session.scalars(
            select(Run)
            .where(
                Run.suite_version_id == latest.id,
                col(Run.prompt_version_id).in_(
                    select(PromptVersion.id).where(
                        PromptVersion.prompt_id == target.prompt_id,
                        PromptVersion.content_hash == target.content_hash,
                    )
                ),
                Run.status == RunStatus.COMPLETED.value,
            )
            .order_by(col(Run.finished_at).desc())
            .limit(20)
        )
    )
    report["suite_version"] = latest.version
    return _pick_run(report, runs, SuiteSpec.model_validate(latest.spec), current, max_age)


def _pick_run(
    report: dict[str, Any],
    runs: list[Run],
    spec: SuiteSpec,
    current: PromptVersion | None,
    max_age: int | None,
) -> dict[str, Any]:
    if not runs:
        return {**report, "detail": "no completed run of the suite's current version"}
    newest = runs[0]
    oldest_allowed = utc_now() - timedelta(seconds=max_age) if max_age else None
    for run in runs:
        fresh = oldest_allowed is None or (
            run.finished_at is not None and run.finished_at >= oldest_allowed
        )
        # A baseline rule compares with the version the label holds *now*: a run that
        # compared with an older holder says nothing about regressing against this one.
        baseline_ok = (
            spec.baseline is None or current is None or run.baseline_version_id == current.id
        )
        if run.verdict == Verdict.PASSED.value and fresh and baseline_ok:
            return {
                **report,
                "passed": True,
                "run_id": run.id,
                "verdict": run.verdict,
                "finished_at": run.finished_at,
                "manifest_hash": run.manifest_hash,
            }
    detail = f"the newest run ({newest.id}) is {newest.verdict}"
    if newest.verdict == Verdict.PASSED.value:
        detail = f"run {newest.id} passed but is too old or compared with another baseline"
    return {**report, "run_id": newest.id, "verdict": newest.verdict, "detail": detail}


async def _rollback_evidence(
    session: AsyncSession, *, prompt: Prompt, label: str, target: PromptVersion
) -> dict[str, Any] | None:
    """Return the earlier gated move of `target` onto `label`, if there was one."""
    events = await session.scalars(
        select(LabelEvent)
        .where(
            LabelEvent.prompt_id == prompt.id,
            LabelEvent.label == label,
            LabelEvent.to_version == target.version,
            col(LabelEvent.is_forced).is_(False),
        )
        .order_by(col(LabelEvent.id).desc())
    )
    for event in events:
        if any("run_id" in e or "rollback_of" in e for e in event.evidence):
            return {"rollback_of": event.id, "at": event.created_at.isoformat()}
    return None


async def gate_report(
    session: AsyncSession,
    *,
    prompt: Prompt,
    label: str,
    target: PromptVersion,
    current: PromptVersion | None,
) -> dict[str, Any]:
    """Say whether `target` may take `label` under its policy, suite by suite."""
    policy = await policy_for(session, label=label, prompt=prompt.name)
    report: dict[str, Any] = {
        "prompt": prompt.name,
        "label": label,
        "version": target.version,
        "content_hash": target.content_hash,
        "current_version": current.version if current else None,
        "policy": _policy_read(policy).model_dump(mode="json") if policy else None,
        "suites": [],
        "rollback": None,
    }
    if policy is None:
        return {**report, "allowed": True, "detail": "no promotion policy for this label"}
    for name in policy.required_suites:
        report["suites"].append(
            await _suite_evidence(
                session,
                suite_name=name,
                target=target,
                current=current,
                max_age=policy.max_age_seconds,
            )
        )
    if all(s["passed"] for s in report["suites"]):
        return {**report, "allowed": True, "detail": "every required suite passed"}
    rollback = await _rollback_evidence(session, prompt=prompt, label=label, target=target)
    if rollback is not None:
        return {
            **report,
            "rollback": rollback,
            "allowed": True,
            "detail": "rollback to a version that passed this label's gate before",
        }
    failing = [s["suite"] for s in report["suites"] if not s["passed"]]
    return {
        **report,
        "allowed": False,
        "detail": f"no fresh passing run on this content hash for: {', '.join(failing)}",
    }


async def check_promotion(
    session: AsyncSession, *, name: str, label: str, version: int
) -> dict[str, Any]:
    """Dry-run a label move: the gate report, without moving anything."""
    prompt, target = await prompts.find_version(session, name=name, version=version)
    current = await prompts.labelled_version(session, prompt=prompt, label=label)
    return await gate_report(session, prompt=prompt, label=label, target=target, current=current)


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
        evidence = [
            {k: s[k] for k in ("suite", "run_id", "manifest_hash")}
            for s in report["suites"]
            if s["passed"]
        ]
        if report["allowed"]:
            rollback = [report["rollback"]] if report["rollback"] else []
            return PolicyDecision(allowed=True, evidence=evidence or rollback)
        if request.force:
            return self._forced(request, policy, evidence)
        raise GateFailedError(
            f"cannot move {request.label!r} of {request.prompt.name!r} to version "
            f"{request.target.version}: {report['detail']}",
            report=report,
        )

    @staticmethod
    def _forced(
        request: MoveRequest, policy: PromotionPolicy, evidence: list[dict[str, Any]]
    ) -> PolicyDecision:
        if not request.actor.role.allows(Role(policy.force_role)):
            raise GateFailedError(
                f"only a {policy.force_role} key may force {request.label!r}",
                report={"forced": False, "force_role": policy.force_role},
            )
        if not request.reason.strip():
            raise InvalidPolicyError("a forced move needs a reason")
        return PolicyDecision(allowed=True, forced=True, evidence=evidence)
