"""The runner: executes a run's pending items with bounded concurrency, persisting as it goes.

A run is claimed with a lease (owner + expiry) that the runner renews with every batch it
writes, so a crashed process's runs become claimable again and another process (or the same
one after a restart) resumes them. Results are inserted with ON CONFLICT DO NOTHING on
(run, variant, position, repeat): every item ends up recorded exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals import observe
from evals.errors import EvalsError, ModelCallError
from evals.llm import Completion, ModelClient, cache_key, ensure_litellm
from evals.models import DatasetItem, Run, RunItem, SuiteVersion
from evals.response_cache import ResponseCache
from evals.results import BASELINE, CANDIDATE, run_verdict, score_item
from evals.runs import parse_prompt_ref
from evals.schemas import RunStatus, SuiteSpec
from evals.scorers.base import Scorer
from evals.scorers.context import JudgePrompt, ScorerContext
from evals.scorers.registry import build_scorers
from prompts import service as prompts
from prompts.base import metadata, upsert_insert, utc_now
from prompts.errors import PromptsError
from prompts.models import Prompt, PromptVersion
from prompts.render import PromptContent, render_prompt
from prompts.service import content_of
from tracing.telemetry import PromptRef, Telemetry, mark_error

log = logging.getLogger("promptlane.runner")

SessionFactory = Callable[[], AsyncSession]


@dataclass(frozen=True)
class Target:
    """A prompt version as the runner calls it."""

    name: str
    version: PromptVersion
    content: PromptContent
    label: str | None = None

    def ref(self, run_id: int) -> PromptRef:
        """Return the prompt version as spans and metrics name it."""
        v = self.version
        return PromptRef(self.name, v.version, self.label, v.content_hash, run_id)


@dataclass
class Plan:
    """Everything a run needs, loaded once when it starts."""

    run_id: int
    spec: SuiteSpec
    targets: dict[str, Target]
    items: list[DatasetItem]
    scorers: list[Scorer]
    pending: list[tuple[str, int, int]]
    cached: dict[str, Completion] = field(default_factory=dict)


@dataclass
class _Batch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    fresh: dict[str, tuple[str, Completion]] = field(default_factory=dict)


class Runner:
    """Executes runs; one instance per process, shared by every run it executes."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        model: ModelClient,
        owner: str,
        lease_seconds: float = 20.0,
        flush_interval: float = 0.25,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.sessions = sessions
        self.telemetry = telemetry or Telemetry.disabled()
        self.model = model
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.flush_interval = flush_interval
        self.cache = ResponseCache(sessions)
        self._renewed: dict[int, float] = {}

    # --- leases -------------------------------------------------------------------------

    async def claim(self, run_id: int) -> bool:
        """Take the run's lease if it is free, expired or ours; return whether we hold it."""
        now = utc_now()
        table = metadata.tables["runs"]
        async with self.sessions() as session:
            result = await session.execute(
                sa.update(table)
                .where(
                    table.c.id == run_id,
                    table.c.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]),
                    sa.or_(
                        table.c.lease_owner.is_(None),
                        table.c.lease_owner == self.owner,
                        table.c.lease_expires_at < now,
                    ),
                )
                .values(
                    status=RunStatus.RUNNING.value,
                    lease_owner=self.owner,
                    lease_expires_at=now + self.lease,
                    started_at=sa.func.coalesce(table.c.started_at, now),
                )
            )
            await session.commit()
        return bool(getattr(result, "rowcount", 0))

    async def claimable(self) -> list[int]:
        """Return runs that are queued or whose worker stopped renewing its lease."""
        now = utc_now()
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Run.id).where(
                    col(Run.status).in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]),
                    sa.or_(col(Run.lease_expires_at).is_(None), col(Run.lease_expires_at) < now),
                )
            )
            return [r for r in rows if r is not None]

    async def release(self, run_id: int) -> None:
        """Give the lease back (on shutdown) so a restart resumes the run at once."""
        async with self.sessions() as session:
            await session.execute(
                sa.update(Run)
                .where(col(Run.id) == run_id, col(Run.lease_owner) == self.owner)
                .values(lease_expires_at=utc_now())
            )
            await session.commit()

    # --- execution ----------------------------------------------------------------------

    async def execute(self, run_id: int) -> None:
        """Run every pending item of a run we can claim, then record its verdict."""
        if not await self.claim(run_id):
            return
        # litellm takes seconds to import: do it off the event loop, so a server's first run
        # does not stall every request it is serving.
        await asyncio.to_thread(ensure_litellm)
        with observe.run_span(self.telemetry, run_id) as span:
            try:
                plan = await self._plan(run_id)
                if plan.spec.cache:
                    keys = [self._key(plan, *p) for p in plan.pending]
                    plan.cached = await self.cache.get_many(keys)
                cancelled = await self._work(plan)
                await self._finish(plan, cancelled=cancelled)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.release(run_id))
                raise
            except Exception as exc:
                log.exception("run %s failed", run_id)
                mark_error(span, type(exc).__name__, str(exc)[:300])
                await self._fail(run_id, exc)

    async def _plan(self, run_id: int) -> Plan:
        async with self.sessions() as session:
            run = await session.get(Run, run_id)
            assert run is not None
            spec = SuiteSpec.model_validate(await _suite_spec(session, run))
            targets = {CANDIDATE: await _target(session, run.prompt_version_id, run.label)}
            if run.baseline_version_id is not None:
                targets[BASELINE] = await _target(session, run.baseline_version_id)
            items = list(
                await session.scalars(
                    select(DatasetItem)
                    .where(DatasetItem.dataset_version_id == run.dataset_version_id)
                    .order_by(col(DatasetItem.position))
                )
            )
            done = set(
                (
                    await session.execute(
                        select(RunItem.variant, RunItem.position, RunItem.repeat).where(
                            RunItem.run_id == run_id
                        )
                    )
                ).tuples()
            )
            judges = await _judge_prompts(session, run.manifest.get("judges", {}))
        scorers = build_scorers(spec.scorers, ScorerContext(model=self.model, judges=judges))
        pending = [
            (variant, index, repeat)
            for variant in targets
            for index in range(len(items))
            for repeat in range(spec.repeats)
            if (variant, items[index].position, repeat) not in done
        ]
        return Plan(run_id, spec, targets, items, scorers, pending)

    def _key(self, plan: Plan, variant: str, index: int, repeat: int) -> str:
        target = plan.targets[variant]
        item = plan.items[index]
        try:
            messages = render_prompt(target.content, item.input).messages
        except PromptsError:
            messages = []
        config = target.version.config
        params = {k: v for k, v in config.items() if k != "model"}
        # The repeat is part of the key: repeats exist to sample variation, and a cache that
        # answered every repeat alike would hide it.
        return cache_key(str(config.get("model")), messages, {**params, "repeat": repeat})

    async def _work(self, plan: Plan) -> bool:
        """Process pending items with `concurrency` workers; return True if cancelled."""
        queue: asyncio.Queue[tuple[str, int, int]] = asyncio.Queue()
        for entry in plan.pending:
            queue.put_nowait(entry)
        batch = _Batch()

        async def worker() -> None:
            while not queue.empty():
                variant, index, repeat = queue.get_nowait()
                row, fresh = await self._process(plan, variant, index, repeat)
                batch.rows.append(row)
                if fresh is not None:
                    batch.fresh[fresh[0]] = (fresh[1], fresh[2])

        workers = [
            asyncio.create_task(worker())
            for _ in range(min(plan.spec.concurrency, len(plan.pending)))
        ]
        try:
            while workers:
                done, _ = await asyncio.wait(workers, timeout=self.flush_interval)
                workers = [w for w in workers if w not in done]
                for task in done:
                    task.result()
                if await self._flush(plan.run_id, batch):
                    return True
            return await self._flush(plan.run_id, batch, force=True)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _process(
        self, plan: Plan, variant: str, index: int, repeat: int
    ) -> tuple[dict[str, Any], tuple[str, str, Completion] | None]:
        target, position = plan.targets[variant], plan.items[index].position
        ref = target.ref(plan.run_id)
        with observe.item_span(
            self.telemetry, ref, variant=variant, position=position, repeat=repeat
        ) as span:
            row, fresh = await self._attempt(plan, variant, index, repeat, ref)
            model = str(target.version.config.get("model"))
            observe.finish_item(self.telemetry, span, row, ref, model=model, scorers=plan.scorers)
        return row, fresh

    async def _attempt(
        self, plan: Plan, variant: str, index: int, repeat: int, ref: PromptRef
    ) -> tuple[dict[str, Any], tuple[str, str, Completion] | None]:
        item, target = plan.items[index], plan.targets[variant]
        row: dict[str, Any] = {
            "run_id": plan.run_id,
            "variant": variant,
            "position": item.position,
            "repeat": repeat,
            "status": "error",
            "output": None,
            "error": None,
            "latency_ms": None,
            "cost_usd": None,
            "input_tokens": None,
            "output_tokens": None,
            "scores": {},
            "is_cached": False,
            "trace_id": None,
            "created_at": utc_now(),
        }
        try:
            messages = render_prompt(target.content, item.input).messages
        except PromptsError as exc:
            return {**row, "error": f"render: {exc.detail}"}, None
        key = self._key(plan, variant, index, repeat) if plan.spec.cache else None
        completion = plan.cached.get(key) if key else None
        fresh = None
        if completion is None:
            try:
                completion = await self.model.complete(
                    messages=messages,
                    config=target.version.config,
                    metadata={"promptlane_item": _item_payload(item)},
                    timeout=plan.spec.timeout_seconds,
                    prompt=ref,
                )
            except ModelCallError as exc:
                return {**row, "error": exc.detail}, None
            if key:
                fresh = (key, str(target.version.config.get("model")), completion)
        stats = {
            "latency_ms": completion.latency_ms,
            "cost_usd": completion.cost_usd,
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
        }
        scores = await score_item(plan.scorers, completion, item, stats)
        return {
            **row,
            **stats,
            "status": "ok",
            "output": completion.text,
            "is_cached": completion.is_cached,
            "scores": scores,
        }, fresh

    async def _flush(self, run_id: int, batch: _Batch, *, force: bool = False) -> bool:
        """Write buffered results and renew the lease; return whether cancel was requested."""
        due = time.monotonic() - self._renewed.get(run_id, 0.0) > self.lease.total_seconds() / 4
        if not (batch.rows or force or due):
            return False
        self._renewed[run_id] = time.monotonic()
        rows, batch.rows = batch.rows, []
        fresh, batch.fresh = batch.fresh, {}
        table = metadata.tables["run_items"]
        async with self.sessions() as session:
            if rows:
                # executemany: the statement compiles once, however many rows the batch has.
                stmt = upsert_insert(session, table).on_conflict_do_nothing(
                    index_elements=["run_id", "variant", "position", "repeat"]
                )
                await session.execute(stmt, rows)
            counts = (
                await session.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.count().filter(table.c.status != "ok"),
                    ).where(table.c.run_id == run_id)
                )
            ).one()
            run = await session.get(Run, run_id, with_for_update=True)
            assert run is not None
            run.completed, run.errors = int(counts[0]), int(counts[1])
            run.lease_expires_at = utc_now() + self.lease
            cancel = run.is_cancel_requested
            await session.commit()
        if fresh:
            await self.cache.put_many(fresh)
        return cancel

    async def _finish(self, plan: Plan, *, cancelled: bool) -> None:
        async with self.sessions() as session:
            run = await session.get(Run, plan.run_id, with_for_update=True)
            assert run is not None
            now = utc_now()
            if cancelled:
                run.status = RunStatus.CANCELLED.value
            else:
                rows = list(await session.scalars(select(RunItem).where(RunItem.run_id == run.id)))
                summary, verdict, report = run_verdict(
                    plan.spec, rows, has_baseline=BASELINE in plan.targets
                )
                run.summary, run.gate, run.verdict = summary, report, verdict
                run.status = RunStatus.COMPLETED.value
            run.finished_at, run.lease_owner, run.lease_expires_at = now, None, None
            await session.commit()

    async def _fail(self, run_id: int, exc: Exception) -> None:
        detail = exc.detail if isinstance(exc, EvalsError | PromptsError) else repr(exc)
        async with self.sessions() as session:
            run = await session.get(Run, run_id, with_for_update=True)
            if run is not None:
                run.status, run.error = RunStatus.FAILED.value, str(detail)[:2_000]
                run.finished_at, run.lease_owner, run.lease_expires_at = utc_now(), None, None
                await session.commit()


def _item_payload(item: DatasetItem) -> dict[str, Any]:
    return {"input": item.input, "expected": item.expected, "metadata": item.item_metadata}


async def _suite_spec(session: AsyncSession, run: Run) -> dict[str, Any]:
    row = await session.get(SuiteVersion, run.suite_version_id)
    assert row is not None
    return row.spec


async def _target(session: AsyncSession, version_id: int, label: str | None = None) -> Target:
    version = await session.get(PromptVersion, version_id)
    assert version is not None
    prompt = await session.get(Prompt, version.prompt_id)
    assert prompt is not None
    return Target(prompt.name, version, content_of(version), label)


async def _judge_prompts(
    session: AsyncSession, pinned: dict[str, dict[str, Any]]
) -> dict[str, JudgePrompt]:
    """Load the exact judge versions the run's manifest pinned when it was created."""
    judges: dict[str, JudgePrompt] = {}
    for ref, entry in pinned.items():
        name, _, _ = parse_prompt_ref(ref)
        _, version = await prompts.find_version(session, name=name, version=entry["version"])
        judges[ref] = JudgePrompt.from_version(name, version)
    return judges
