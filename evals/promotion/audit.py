"""Check the audit trail: the hash chain, and the evidence behind every gated label move.

`verify_audit` walks label, policy and archive events in chain order. It recomputes every link
(an edited, deleted or reordered event breaks it), then replays the policies: every non-forced
move of a label with a policy in force must cite, for each suite version pinned at that
moment, a completed passing run whose manifest matches the pin and the moved content (and was
fresh enough); a rollback must cite an earlier such move of the same version; an unset of a
protected or gated label must be an admin's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.models import PolicyEvent, Run
from evals.promotion.gate import manifest_matches
from evals.promotion.policy import GLOBAL, policy_payload, record_unaudited_policies
from evals.promotion.reports import AuditProblem, AuditReport, SuitePin
from evals.reports import RunStatus, Verdict
from prompts import audit
from prompts.models import ArchiveEvent, LabelEvent, Prompt, PromptVersion
from prompts.policy import Actor, Role

UPGRADE_ACTOR: Final = Actor(id="system", name="promptlane upgrade", role=Role.ADMIN)


async def ensure_chain(session: AsyncSession) -> tuple[int, int]:
    """Link events stored before the chain existed; return (label events, policies) linked."""
    sealed = await audit.seal_unlinked_label_events(session)
    recorded = await record_unaudited_policies(session, UPGRADE_ACTOR)
    return sealed, recorded


@dataclass(frozen=True)
class _Move:
    event: LabelEvent
    prompt: str
    content_hash: str | None


@dataclass
class _Walk:
    """The state of one verification: policies in force, valid moves, counts, problems."""

    protected: frozenset[str]
    runs: dict[int, Run]
    policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    valid: dict[int, _Move] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[AuditProblem] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def problem(self, move: _Move, detail: str) -> None:
        e = move.event
        self.problems.append(
            AuditProblem(seq=e.seq, kind="label", prompt=move.prompt, label=e.label, detail=detail)
        )

    def apply(self, event: PolicyEvent) -> None:
        key = (event.label, event.scope)
        if event.policy is None:
            self.policies.pop(key, None)
        else:
            self.policies[key] = event.policy

    def check(self, move: _Move) -> None:
        e = move.event
        policy = self.policies.get((e.label, move.prompt)) or self.policies.get((e.label, GLOBAL))
        if e.to_version is None:
            self._unset(move, gated=policy is not None)
            return
        self.count("label_moves")
        if policy is None:
            self.count("ungated_moves")
            if e.label in self.protected and e.actor_role not in (None, Role.ADMIN.value):
                self.problem(move, f"moved by a {e.actor_role} key with no policy in force")
            return
        if e.is_forced:
            self.count("forced_moves")
            if e.actor_role is not None and not Role(e.actor_role).allows(
                Role(policy["force_role"])
            ):
                needed = policy["force_role"]
                self.problem(move, f"forced by a {e.actor_role} key; the policy needs {needed}")
            return
        problem = self._rollback(move) if _is_rollback(e) else self._gated(move, policy)
        if problem is not None:
            self.problem(move, problem)
        elif e.id is not None:
            self.valid[e.id] = move

    def _unset(self, move: _Move, *, gated: bool) -> None:
        self.count("label_unsets")
        e = move.event
        if (gated or e.label in self.protected) and e.actor_role != Role.ADMIN.value:
            self.problem(move, f"unset by a {e.actor_role} key; only an admin may unset it")

    def _rollback(self, move: _Move) -> str | None:
        self.count("rollbacks")
        earlier = self.valid.get(int(move.event.evidence[0]["rollback_of"]))
        if earlier is None:
            return "a rollback citing no earlier gated move"
        same = (earlier.prompt, earlier.event.label, earlier.event.to_version)
        if same != (move.prompt, move.event.label, move.event.to_version):
            return "a rollback citing a move of another prompt, label or version"
        return None

    def _gated(self, move: _Move, policy: dict[str, Any]) -> str | None:
        self.count("gated_moves")
        cited = {(e.get("suite"), e.get("suite_version")): e for e in move.event.evidence}
        for raw in policy["pins"]:
            pin = SuitePin.model_validate(raw)
            entry = cited.get((pin.suite, pin.version))
            if entry is None:
                return f"no evidence for the pinned suite {pin.suite}:{pin.version}"
            problem = self._run_problem(move, pin, entry, policy.get("max_age_seconds"))
            if problem is not None:
                return f"{pin.suite}:{pin.version}: {problem}"
        return None

    def _run_problem(
        self, move: _Move, pin: SuitePin, entry: dict[str, Any], max_age: int | None
    ) -> str | None:
        run = self.runs.get(int(entry.get("run_id") or 0))
        if run is None:
            return f"run {entry.get('run_id')} does not exist"
        if entry.get("manifest_hash") != run.manifest_hash:
            return f"run {run.id}'s manifest hash differs from the one recorded"
        if (run.status, run.verdict) != (RunStatus.COMPLETED.value, Verdict.PASSED.value):
            return f"run {run.id} is {run.status}, {run.verdict}"
        if move.content_hash is None:
            return f"version {move.event.to_version} does not exist"
        mismatch = manifest_matches(run, pin, move.content_hash)
        if mismatch is not None:
            return f"run {run.id}: {mismatch}"
        moved_at = move.event.created_at
        if run.finished_at is None or run.finished_at > moved_at:
            return f"run {run.id} finished after the move"
        if max_age and run.finished_at < moved_at - timedelta(seconds=max_age):
            return f"run {run.id} was older than the policy's max age"
        return None


def _is_rollback(event: LabelEvent) -> bool:
    return len(event.evidence) == 1 and "rollback_of" in event.evidence[0]


async def _moves(session: AsyncSession) -> list[_Move]:
    rows = await session.execute(
        select(LabelEvent, Prompt.name, PromptVersion.content_hash)
        .join(Prompt, col(Prompt.id) == col(LabelEvent.prompt_id))
        .outerjoin(
            PromptVersion,
            (col(PromptVersion.prompt_id) == col(LabelEvent.prompt_id))
            & (col(PromptVersion.version) == col(LabelEvent.to_version)),
        )
        .order_by(col(LabelEvent.seq), col(LabelEvent.id))
    )
    return [_Move(event, prompt, digest) for event, prompt, digest in rows.tuples()]


async def _runs(session: AsyncSession, moves: Iterable[_Move]) -> dict[int, Run]:
    ids = {
        int(e["run_id"])
        for m in moves
        for e in m.event.evidence
        if isinstance(e.get("run_id"), int) and 0 < e["run_id"] < 2**63
    }
    if not ids:
        return {}
    rows = await session.scalars(select(Run).where(col(Run.id).in_(ids)))
    return {run.id: run for run in rows if run.id is not None}


_Link = _Move | PolicyEvent | ArchiveEvent


def _payload(item: _Link) -> dict[str, Any]:
    if isinstance(item, PolicyEvent):
        return policy_payload(item)
    if isinstance(item, ArchiveEvent):
        return audit.archive_payload(item)
    return audit.label_payload(item.event, prompt=item.prompt, content_hash=item.content_hash or "")


def _link_of(item: _Link) -> tuple[int | None, str | None, str | None]:
    e = item.event if isinstance(item, _Move) else item
    return e.seq, e.prev_hash, e.hash


def _kind(item: _Link) -> str:
    if isinstance(item, PolicyEvent):
        return "policy"
    return "archive" if isinstance(item, ArchiveEvent) else "label"


def _chain_problems(chain: list[_Link], head: tuple[int, str]) -> list[AuditProblem]:
    problems: list[AuditProblem] = []
    prev, expected = audit.GENESIS, 1
    for item in chain:
        seq, prev_hash, stored = _link_of(item)
        kind = _kind(item)
        if seq is None:
            detail = f"a {kind} event is not linked (start the server once to link it)"
            problems.append(AuditProblem(seq=None, kind="chain", detail=detail))
            continue
        if seq != expected:
            detail = f"links {expected}..{seq - 1} are missing"
            problems.append(AuditProblem(seq=seq, kind="chain", detail=detail))
        if prev_hash != prev or audit.link_hash(prev, seq, _payload(item)) != stored:
            problems.append(
                AuditProblem(seq=seq, kind="chain", detail=f"the {kind} event at {seq} was changed")
            )
        prev, expected = stored or prev, seq + 1
    if head != (expected - 1, prev):
        detail = "the chain's head does not match its last link"
        problems.append(AuditProblem(seq=head[0], kind="chain", detail=detail))
    return problems


async def verify_audit(session: AsyncSession, *, protected: frozenset[str]) -> AuditReport:
    """Check the whole chain and every move's evidence; report what was checked and gaps."""
    moves = await _moves(session)
    policies = list(await session.scalars(select(PolicyEvent).order_by(col(PolicyEvent.seq))))
    archives = list(await session.scalars(select(ArchiveEvent).order_by(col(ArchiveEvent.seq))))
    chain: list[_Link] = sorted(
        [*moves, *policies, *archives], key=lambda item: _link_of(item)[0] or 0
    )
    head = await audit.read_head(session)
    walk = _Walk(protected=protected, runs=await _runs(session, moves))
    walk.problems.extend(_chain_problems(chain, head))
    for item in chain:
        if isinstance(item, PolicyEvent):
            walk.apply(item)
        elif isinstance(item, _Move):
            walk.check(item)
    return AuditReport(
        ok=not walk.problems,
        head_seq=head[0],
        head_hash=head[1],
        events=len(chain),
        policy_events=len(policies),
        label_moves=walk.counts.get("label_moves", 0),
        gated_moves=walk.counts.get("gated_moves", 0),
        rollbacks=walk.counts.get("rollbacks", 0),
        forced_moves=walk.counts.get("forced_moves", 0),
        ungated_moves=walk.counts.get("ungated_moves", 0),
        label_unsets=walk.counts.get("label_unsets", 0),
        archive_events=len(archives),
        problems=walk.problems,
    )
