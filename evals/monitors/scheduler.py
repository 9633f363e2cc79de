"""The monitor scheduler: `tick(now)` runs every due period once, across any number of replicas.

For each enabled monitor whose `next_due_at` has passed, one replica advances it by
compare-and-set (`UPDATE ... WHERE next_due_at = <what it read>`) and, in the same
transaction, inserts one event per watched label for the newest passed period; the unique
(monitor, prompt, label, period) key turns a second insert into a no-op. Periods missed
while no scheduler ran (at most `CATCH_UP`) are recorded `superseded`: a restart neither
skips nor doubles one. Running checks are settled on every tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.models import PromotionPolicy
from evals.monitors.cadence import period_key
from evals.monitors.candidates import candidates, start_candidate_check
from evals.monitors.checks import settle_check, start_check, store
from evals.monitors.firing import Check
from evals.monitors.models import Monitor, MonitorEvent
from evals.monitors.service import cadence_of
from evals.promotion.policy import GLOBAL
from prompts import events
from prompts.base import upsert_insert, utc_now
from prompts.models import Label, Prompt, PromptVersion
from prompts.service import changed_prompts

SessionFactory = Callable[[], AsyncSession]
log = logging.getLogger("promptlane.monitors")
_SETTLE_BATCH = 100


@dataclass(frozen=True)
class Target:
    """A label a monitor watches, with the version it holds now."""

    prompt: str
    label: str
    version: int
    content_hash: str


@dataclass
class TickReport:
    """What one tick did, and what the server should do after it."""

    started: dict[str, int] = field(default_factory=dict)  # status -> events
    settled: dict[str, int] = field(default_factory=dict)
    run_ids: list[int] = field(default_factory=list)
    changed: bool = False  # a label moved: resolve caches are stale
    emitted: bool = False  # events were written: wake webhook delivery

    def after(self, session: AsyncSession) -> None:
        """Note what a committed session changed."""
        self.changed = self.changed or bool(changed_prompts(session))
        self.emitted = self.emitted or events.emitted(session)

    def summary(self) -> str | None:
        """Return a line to log, or None when nothing happened."""
        if not self.started and not self.settled:
            return None
        return f"started {self.started or '{}'}, settled {self.settled or '{}'}"


def _count(into: dict[str, int], status: str) -> None:
    into[status] = into.get(status, 0) + 1


async def targets(
    session: AsyncSession, monitor: Monitor, protected: frozenset[str]
) -> list[Target]:
    """Return the labels a monitor watches: its own, or every gated or protected one."""
    stmt = (
        select(Prompt.name, Label.name, PromptVersion.version, PromptVersion.content_hash)
        .join(Label, col(Label.prompt_id) == col(Prompt.id))
        .join(PromptVersion, col(PromptVersion.id) == col(Label.version_id))
        .where(col(Prompt.archived_at).is_(None))
        .order_by(col(Prompt.name), col(Label.name))
    )
    if monitor.prompt is not None:
        stmt = stmt.where(Prompt.name == monitor.prompt)
    if monitor.label is not None:
        stmt = stmt.where(Label.name == monitor.label)
    rows = [Target(*row) for row in (await session.execute(stmt)).tuples()]
    if monitor.label is not None:
        return rows
    gated = {
        (label, scope)
        for label, scope in (
            await session.execute(sa.select(col(PromotionPolicy.label), col(PromotionPolicy.scope)))
        ).tuples()
    }
    return [
        t
        for t in rows
        if t.label in protected or (t.label, t.prompt) in gated or (t.label, GLOBAL) in gated
    ]


async def insert_event(
    session: AsyncSession,
    monitor: Monitor,
    target: Target,
    key: str,
    status: str,
    *,
    now: datetime,
) -> int | None:
    """Insert a period's event; None when it exists (another replica, or a restart, did it)."""
    table = MonitorEvent.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "monitor_id": monitor.id,
        "prompt": target.prompt,
        "label": target.label,
        "version": target.version,
        "period_key": key,
        "status": status,
        "evidence": {},
        "started_at": now,
        "finished_at": None if status == "running" else now,
    }
    stmt = (
        upsert_insert(session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["monitor_id", "prompt", "label", "period_key"])
        .returning(table.c.id)
    )
    found = (await session.execute(stmt)).first()
    return None if found is None else int(found[0])


async def run_check(
    session: AsyncSession,
    monitor: Monitor,
    target: Target,
    key: str,
    *,
    now: datetime,
    protected: frozenset[str],
    report: TickReport,
) -> int | None:
    """Insert a period's running event for one label and start its check; None: it existed."""
    if monitor.trigger == "dataset":
        return await run_dataset_checks(session, monitor, target, now=now, report=report)
    event_id = await insert_event(session, monitor, target, key, "running", now=now)
    if event_id is None:
        return None
    check = _check(monitor, target, key, event_id)
    status, run_ids = await start_check(
        session, monitor, check, now=now, content_hash=target.content_hash, protected=protected
    )
    _count(report.started, status)
    report.run_ids += run_ids
    return event_id


def _check(monitor: Monitor, target: Target, key: str, event_id: int) -> Check:
    """Return the check of one label for one period, its event inserted as `event_id`."""
    return Check(
        event_id=event_id,
        monitor=monitor.name,
        trigger=monitor.trigger,
        prompt=target.prompt,
        label=target.label,
        version=target.version,
        period_key=key,
    )


async def run_dataset_checks(
    session: AsyncSession, monitor: Monitor, target: Target, *, now: datetime, report: TickReport
) -> int | None:
    """Try each new dataset version of the label's pinned suites once; return the last check."""
    last = None
    for candidate in await candidates(session, prompt=target.prompt, label=target.label):
        key = candidate.key(target.version)
        event_id = await insert_event(session, monitor, target, key, "running", now=now)
        if event_id is None:
            continue
        check = _check(monitor, target, key, event_id)
        status, evidence = await start_candidate_check(
            session, check, candidate, content_hash=target.content_hash
        )
        if status == "running":
            await store(session, check, evidence)
            report.run_ids += [r["run_id"] for r in evidence["runs"]]
        _count(report.started, status)
        last = event_id
    return last


class Scheduler:
    """Ticks monitors with an injected clock; every replica may run one."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        protected: frozenset[str] = frozenset({"production"}),
        timeout: timedelta = timedelta(hours=6),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.protected = protected
        self.timeout = timeout
        self.clock = clock

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Run every due period and settle running checks."""
        now = now or self.clock()
        report = TickReport()
        async with self.sessions() as session:
            due = list(
                (
                    await session.execute(
                        sa.select(col(Monitor.id), col(Monitor.next_due_at))
                        .where(col(Monitor.is_enabled), col(Monitor.next_due_at) <= now)
                        .where(col(Monitor.trigger) != "dataset")
                        .order_by(col(Monitor.id))
                    )
                ).tuples()
            )
        for monitor_id, next_due in due:
            try:
                await self._advance(monitor_id, next_due, now, report)
            except Exception:  # one broken monitor must not stop the others; retried next tick
                log.warning("monitor %s: its period could not run", monitor_id, exc_info=True)
        await self._watch_datasets(now, report)
        await self._settle(now, report)
        return report

    async def _watch_datasets(self, now: datetime, report: TickReport) -> None:
        """Run dataset monitors: each candidate is keyed, so any replica may look every tick."""
        async with self.sessions() as session:
            ids = list(
                await session.scalars(
                    select(col(Monitor.id)).where(
                        col(Monitor.is_enabled), col(Monitor.trigger) == "dataset"
                    )
                )
            )
        for monitor_id in ids:
            try:
                async with self.sessions() as session:
                    monitor = await session.get(Monitor, monitor_id)
                    if monitor is None:  # deleted meanwhile
                        continue
                    for target in await targets(session, monitor, self.protected):
                        await run_dataset_checks(session, monitor, target, now=now, report=report)
                    await session.commit()
                    report.after(session)
            except Exception:  # retried next tick; the others run meanwhile
                log.warning(
                    "monitor %s: its datasets could not be checked", monitor_id, exc_info=True
                )

    async def _advance(
        self, monitor_id: int | None, next_due: datetime, now: datetime, report: TickReport
    ) -> None:
        async with self.sessions() as session:
            monitor = await session.get(Monitor, monitor_id)
            if monitor is None:
                return
            cadence = cadence_of(monitor)
            claimed = await session.execute(
                sa.update(Monitor)
                .where(col(Monitor.id) == monitor_id, col(Monitor.next_due_at) == next_due)
                .values(next_due_at=cadence.next_after(now))
            )
            if getattr(claimed, "rowcount", 0) != 1:  # another replica advanced it
                await session.rollback()
                return
            ticks = cadence.passed(next_due, now)
            for target in await targets(session, monitor, self.protected):
                for missed in reversed(ticks[1:]):
                    if await insert_event(
                        session, monitor, target, period_key(missed), "superseded", now=now
                    ):
                        _count(report.started, "superseded")
                if ticks:
                    await run_check(
                        session,
                        monitor,
                        target,
                        period_key(ticks[0]),
                        now=now,
                        protected=self.protected,
                        report=report,
                    )
            await session.commit()
            report.after(session)

    async def _settle(self, now: datetime, report: TickReport) -> None:
        async with self.sessions() as session:
            running = list(
                await session.scalars(
                    select(col(MonitorEvent.id))
                    .where(col(MonitorEvent.status) == "running")
                    .order_by(col(MonitorEvent.id))
                    .limit(_SETTLE_BATCH)
                )
            )
        for event_id in running:
            try:
                async with self.sessions() as session:
                    status = await self._settle_one(session, event_id, now)
                    await session.commit()
                    report.after(session)
            except Exception:  # retried next tick; the others settle meanwhile
                log.warning("monitor event %s: could not settle", event_id, exc_info=True)
                continue
            if status is not None:
                _count(report.settled, status)

    async def _settle_one(self, session: AsyncSession, event_id: int, now: datetime) -> str | None:
        found = (
            await session.execute(
                select(MonitorEvent, Monitor)
                .join(Monitor, col(Monitor.id) == col(MonitorEvent.monitor_id))
                .where(col(MonitorEvent.id) == event_id, col(MonitorEvent.status) == "running")
            )
        ).first()
        if found is None:
            return None
        event, monitor = found
        check = Check(
            event_id=event_id,
            monitor=monitor.name,
            trigger=monitor.trigger,
            prompt=event.prompt,
            label=event.label,
            version=event.version,
            period_key=event.period_key,
        )
        return await settle_check(
            session,
            check,
            dict(event.evidence),
            started_at=event.started_at,
            now=now,
            limit=self.timeout,
            protected=self.protected,
        )
