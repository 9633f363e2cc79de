"""One check of one label: re-run its pinned suites (schedule), or read a signal, and decide.

A schedule check starts its runs through the normal run machinery and stays `running`; the
scheduler settles it when they end (or times it out). A signal check decides at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import EvalsError
from evals.models import Run
from evals.monitors.firing import Check, finish, fire
from evals.monitors.models import Monitor, MonitorEvent
from evals.monitors.schemas import SignalSpec
from evals.monitors.signals import check_signal
from evals.promotion.policy import policy_for
from evals.promotion.reports import SuitePin
from evals.reports import RunStatus, Verdict
from evals.runs.service import ACTIVE, start_run
from evals.schemas import RunCreate
from prompts import events
from prompts.errors import PromptsError


async def start_check(
    session: AsyncSession,
    monitor: Monitor,
    check: Check,
    *,
    now: datetime,
    content_hash: str,
    protected: frozenset[str],
) -> tuple[str, list[int]]:
    """Begin a check: return its status and the ids of the runs it started."""
    if monitor.trigger == "signal":
        assert monitor.signal is not None
        assert check.version is not None
        spec = SignalSpec.model_validate(monitor.signal)
        outcome = await check_signal(
            session, spec, prompt=check.prompt, label=check.label, version=check.version, now=now
        )
        await _decide(session, check, outcome.status, outcome.evidence, protected=protected)
        return outcome.status, []
    evidence: dict[str, Any] = {
        "trigger": "schedule",
        "version": check.version,
        "content_hash": content_hash,
        "runs": [],
    }
    policy = await policy_for(session, label=check.label, prompt=check.prompt)
    if policy is None or not policy.pins:
        evidence["detail"] = "no promotion policy pins suites for this label: nothing to re-run"
        await finish(session, check, "error", evidence)
        return "error", []
    try:
        for raw in policy.pins:
            pin = SuitePin.model_validate(raw)
            data = RunCreate(
                suite=pin.suite,
                suite_version=pin.version,
                prompt=check.prompt,
                version=check.version,
            )
            run = await start_run(session, data=data, actor=f"monitor:{check.monitor}")
            evidence["runs"].append(
                {"run_id": run.id, "suite": pin.suite, "suite_version": pin.version}
            )
    except (EvalsError, PromptsError) as exc:
        evidence["detail"] = f"could not start a run: {exc.detail}"[:2_000]
        await finish(session, check, "error", evidence)
        return "error", []
    await store(session, check, evidence)
    return "running", [r["run_id"] for r in evidence["runs"]]


async def store(session: AsyncSession, check: Check, evidence: dict[str, Any]) -> None:
    """Store a running check's evidence (its runs) so far."""
    await session.execute(
        sa.update(MonitorEvent)
        .where(col(MonitorEvent.id) == check.event_id)
        .values(evidence=events.clean(evidence))
    )


async def _decide(
    session: AsyncSession,
    check: Check,
    status: str,
    evidence: dict[str, Any],
    *,
    protected: frozenset[str],
) -> None:
    if await finish(session, check, status, evidence) and status == "fired":
        await fire(session, check, evidence, protected=protected)


def _run_outcome(run: Run) -> dict[str, Any]:
    return {"status": run.status, "verdict": run.verdict, "error": (run.error or "")[:300] or None}


async def settle_check(
    session: AsyncSession,
    check: Check,
    evidence: dict[str, Any],
    *,
    started_at: datetime,
    now: datetime,
    limit: timedelta,
    protected: frozenset[str],
) -> str | None:
    """Decide a running schedule check whose runs ended (or timed out); None: still running."""
    ids = [int(r["run_id"]) for r in evidence.get("runs", [])]
    runs = {run.id: run for run in await session.scalars(select(Run).where(col(Run.id).in_(ids)))}
    if any(runs[i].status in ACTIVE for i in ids if i in runs):
        if now - started_at < limit:
            return None
        evidence = {**evidence, "detail": f"runs did not finish within {limit}"}
        return "timed_out" if await finish(session, check, "timed_out", evidence) else None
    entries = [
        {**r, **_run_outcome(runs[r["run_id"]])} for r in evidence["runs"] if r["run_id"] in runs
    ]
    evidence = {**evidence, "runs": entries}
    failed = [
        e for e in entries
        if e["status"] == RunStatus.COMPLETED.value and e["verdict"] != Verdict.PASSED.value
    ]  # fmt: skip
    broken = [e for e in entries if e["status"] != RunStatus.COMPLETED.value]
    if len(entries) < len(ids):
        broken.append({"detail": "a run of this check no longer exists"})
    status = "fired" if failed else ("error" if broken else "ok")
    await _decide(session, check, status, evidence, protected=protected)
    return status
