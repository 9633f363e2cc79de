"""Online evaluation: score a sample of production generations in the background.

`OnlineEvaluator.submit` is handed generations after they are committed (by the OTLP ingest
route and the gateway's writer). Their sampling was decided before the insert
(evals/online/sampling.py: sampled rows are stored "pending", with the content their scorers
read); a generation stored without that decision is sampled here, by the same hash of
(trace_id, span_id) and the config from a short-lived cache (one query per TTL, never one per
generation), and marked "pending". Pending ids are queued. When the bounded queue is full, a
sampled generation stays stored, is marked "skipped" and counted
(`promptlane_online_eval_skipped_total`). Workers score and write scores, safety flags and
the status in one transaction, guarded on "pending" so a row is recorded once even when two
processes score it; unless content recording is on, that write also clears the content.
On start, rows left "pending" by a crash are queued again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import sqlalchemy as sa
from opentelemetry.util.types import AttributeValue
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.connections.resolver import ConnectionSource
from evals.errors import InvalidOnlineEvaluationError
from evals.llm.client import ModelClient
from evals.online.configs import ConfigSnapshot, OnlineConfig, build_online_scorers
from evals.online.sampling import ConfigCache, cleared, in_sample
from evals.online.scoring import (
    FAILED,
    PENDING,
    SKIPPED,
    Outcome,
    record,
    score_generation,
)
from evals.scorers.base import Scorer
from evals.scorers.context import JudgeModel
from evals.scorers.registry import is_judged
from promptlane_client.render import DEFAULT_BUDGET, RenderBudget
from prompts.base import metadata
from tracing import semconv
from tracing.models import Generation
from tracing.normalise import normalise_row
from tracing.rollups import write as rollups
from tracing.telemetry import Telemetry

log = logging.getLogger("promptlane.online")

SessionFactory = Callable[[], AsyncSession]
_RECOVERY_PAGE: Final = 500


class OnlineEvaluator:
    """Samples generations, queues them, and scores them with bounded concurrency."""

    def __init__(
        self,
        writer: SessionFactory,
        *,
        reader: SessionFactory | None = None,
        model: JudgeModel | None = None,
        telemetry: Telemetry | None = None,
        queue_size: int = 1000,
        concurrency: int = 4,
        config_ttl: float = 5.0,
        judge_model: str | None = None,
        connections: ConnectionSource | None = None,
        render_budget: RenderBudget = DEFAULT_BUDGET,
        prepare_model: Callable[[], Awaitable[None]] | None = None,
        record_content: bool = False,
        keep_content: bool = False,
    ) -> None:
        """Use `writer` sessions for writes and `reader` ones (default: writer) for reads.

        Unless `record_content` (every call's content is kept) or `keep_content` (a sampled
        call's is), a generation's messages and answer are cleared once it is scored, failed or
        skipped (they were kept for its scorers only).

        `prepare_model` is awaited before judged scorers call the model (the server's litellm
        readiness: the import takes seconds and must not block the event loop).
        """
        self._writer = writer
        self._reader = reader or writer
        self.model = model
        self.connections = connections
        self.telemetry = telemetry or Telemetry.disabled()
        self.concurrency = concurrency
        self.judge_model = judge_model
        self.render_budget = render_budget
        self.configs = ConfigCache(self._reader, ttl=config_ttl)
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=queue_size)
        self._reserved = 0
        self._queued: set[int] = set()
        self._built: dict[int, list[Scorer] | InvalidOnlineEvaluationError] = {}
        self._built_for: ConfigSnapshot | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._recovery: asyncio.Task[None] | None = None
        self.prepare_model = prepare_model
        self.record_content = record_content
        self.keeps_content = record_content or keep_content

    # --- the hot path ---------------------------------------------------------------------

    async def submit(self, generations: Sequence[Generation]) -> None:
        """Sample committed generations and queue them for scoring; never raises, never waits.

        Call it after the generations' transaction has committed.
        """
        try:
            await self._admit(generations)
        except Exception:
            log.exception("online evaluation could not take %d generation(s)", len(generations))

    def invalidate(self) -> None:
        """Make the next submit read the configs again (called after a config changes)."""
        self.configs.invalidate()

    async def _admit(self, generations: Sequence[Generation]) -> None:
        snapshot = await self.configs.get()
        # Sampled before the insert (stored pending, content kept), or sampled now.
        marked = await self._ids([g for g in generations if g.online_eval == PENDING])
        marked = [gid for gid in marked if gid not in self._queued]  # recovery found it first
        fresh = await self._ids([g for g in generations if _due(snapshot, g)])
        if not marked and not fresh:
            return
        free = max(0, self._queue.maxsize - self._queue.qsize() - self._reserved)
        accepted = [*marked, *fresh][:free]
        self._count_skipped(len(marked) + len(fresh) - len(accepted))
        self._reserved += len(accepted)
        try:
            await self._mark(PENDING, fresh[:free], was=None)
            await self._mark(SKIPPED, fresh[free:], was=None)
            await self._mark(SKIPPED, marked[free:], was=PENDING)
        finally:
            self._reserved -= len(accepted)
        late = [gid for gid in accepted if not self._enqueue(gid)]
        if late:  # recovery filled the queue meanwhile
            self._count_skipped(len(late))
            await self._mark(SKIPPED, late, was=PENDING)

    async def _ids(self, generations: Sequence[Generation]) -> list[int]:
        """Return the generations' ids, looking up (in one query) those stored without one."""
        ids = [g.id for g in generations if g.id is not None]
        missing = [(g.trace_id, g.span_id) for g in generations if g.id is None]
        if missing:
            key = sa.tuple_(col(Generation.trace_id), col(Generation.span_id))
            async with self._reader() as session:
                found = await session.scalars(select(Generation.id).where(key.in_(missing)))
                ids.extend(i for i in found if i is not None)
        return ids

    def _enqueue(self, generation_id: int) -> bool:
        if generation_id in self._queued:
            return True  # queued already (by recovery)
        try:
            self._queue.put_nowait(generation_id)
        except asyncio.QueueFull:
            return False
        self._queued.add(generation_id)
        return True

    def _count_skipped(self, count: int) -> None:
        if count:
            self.telemetry.metrics.online_eval_skipped.inc(count)

    async def _mark(self, status: str, ids: list[int], *, was: str | None) -> None:
        """Set the status of generations that are still `was` (None: not sampled yet).

        A skipped generation will not be scored: its content goes unless recording is on.
        """
        if not ids:
            return
        table = metadata.tables["generations"]
        current = table.c.online_eval.is_(None) if was is None else table.c.online_eval == was
        values: dict[str, Any] = {"online_eval": status}
        if status == SKIPPED and not self.keeps_content:
            values.update(cleared())
        async with self._writer() as session:
            await session.execute(
                sa.update(table).where(table.c.id.in_(ids), current).values(values)
            )
            await session.commit()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers, and queue the generations a crash left pending."""
        if self._workers:
            return
        self._workers = [
            asyncio.create_task(self._work(), name=f"promptlane-online-eval-{i}")
            for i in range(self.concurrency)
        ]
        # The first page is read here, so a server with nothing to recover starts no task.
        first = await self._pending_page(after=0)
        if first:
            log.info("online evaluation: re-queuing generations left pending")
            self._recovery = asyncio.create_task(
                self._recover(first), name="promptlane-online-eval-recovery"
            )

    async def join(self) -> None:
        """Wait until recovery is done and every queued generation is processed."""
        if self._recovery is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        await self._queue.join()

    async def stop(self) -> None:
        """Stop recovery and the workers (unfinished work stays pending); close the model's pool."""
        tasks = [t for t in (self._recovery, *self._workers) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers, self._recovery = [], None
        if isinstance(self.model, ModelClient):
            await self.model.aclose()

    async def _pending_page(self, *, after: int) -> list[int]:
        async with self._reader() as session:
            rows = await session.scalars(
                select(Generation.id)
                .where(col(Generation.online_eval) == PENDING, col(Generation.id) > after)
                .order_by(col(Generation.id))
                .limit(_RECOVERY_PAGE)
            )
            return [r for r in rows if r is not None]

    async def _recover(self, page: list[int]) -> None:
        count = 0
        while page:
            for generation_id in page:
                if generation_id not in self._queued:
                    self._queued.add(generation_id)
                    await self._queue.put(generation_id)
                    count += 1
            # One page in flight at a time: memory stays bounded however many rows wait.
            await self._queue.join()
            page = await self._pending_page(after=page[-1])
        log.info("online evaluation: re-queued %d pending generation(s)", count)

    # --- workers --------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            generation_id = await self._queue.get()
            try:
                await self._process(generation_id)
            except Exception:  # the row stays pending; the next start retries it
                log.exception("online evaluation of generation %s failed", generation_id)
            finally:
                self._queued.discard(generation_id)
                self._queue.task_done()

    async def _process(self, generation_id: int) -> None:
        async with self._reader() as session:
            row = await session.get(Generation, generation_id)
        if row is None or row.online_eval != PENDING:
            return  # gone, or another process got there first
        with self.telemetry.span(semconv.SPAN_ONLINE_EVAL, _span_attributes(row)) as span:
            outcome = await self._outcome(row)
            if await self._finish(row, outcome):
                record(self.telemetry.metrics, span, row, outcome)

    async def _outcome(self, row: Generation) -> Outcome:
        config = (await self.configs.get()).match(row.prompt_name, row.prompt_label)
        if config is None or not config.enabled:
            return Outcome(SKIPPED, reasons=["the online evaluation was removed or disabled"])
        built = await self._scorers(config)
        if isinstance(built, InvalidOnlineEvaluationError):
            return Outcome(FAILED, reasons=[built.detail])
        if self.prepare_model is not None and any(is_judged(s) for s in config.scorers):
            await self.prepare_model()
        return await score_generation(row, config.scorers, built)

    async def _scorers(self, config: OnlineConfig) -> list[Scorer] | InvalidOnlineEvaluationError:
        """Build a config's scorers once per snapshot (judge prompts resolved then)."""
        snapshot = await self.configs.get()
        if snapshot is not self._built_for:
            self._built, self._built_for = {}, snapshot
        built = self._built.get(config.id)
        if built is None:
            try:
                async with self._reader() as session:
                    built = await build_online_scorers(
                        session,
                        specs=config.scorers,
                        model=self.model,
                        judge_model=self.judge_model,
                        connections=self.connections,
                        render_budget=self.render_budget,
                    )
            except InvalidOnlineEvaluationError as exc:
                built = exc
            self._built[config.id] = built
        return built

    async def _finish(self, row: Generation, outcome: Outcome) -> bool:
        """Write scores, flags and status in one transaction; return whether this process did."""
        attributes = dict(row.attributes or {})
        attributes.pop(semconv.ONLINE_EVAL_REASON, None)
        if outcome.reason:
            attributes[semconv.ONLINE_EVAL_REASON] = outcome.reason
        flags = list(dict.fromkeys([*(row.safety_flags or ()), *outcome.flags]))
        table = metadata.tables["generations"]
        # A judge's reason may hold NUL, a ragas score may be NaN: normalised like every
        # generation row, or PostgreSQL would refuse the update and the row stay pending.
        values = normalise_row(
            {
                "online_eval": outcome.status,
                "scores": {**(row.scores or {}), **outcome.scores},
                "safety_flags": flags,
                "attributes": attributes,
                # Scored: its content goes now, unless the deployment keeps it.
                **({} if self.keeps_content else cleared()),
            }
        )
        async with self._writer() as session:
            # Locked first: the rollups take the row out as it is and add it back scored.
            before = (
                await session.execute(
                    sa.select(*(table.c[name] for name in rollups.ROW_FIELDS))
                    .where(table.c.id == row.id, table.c.online_eval == PENDING)
                    .with_for_update()
                )
            ).first()
            if before is None:
                return False
            await session.execute(
                sa.update(table)
                .where(table.c.id == row.id, table.c.online_eval == PENDING)
                .values(**values)
            )
            old = dict(before._mapping)
            await rollups.apply_change(session, old, {**old, **values})
            await session.commit()
        return True


def _due(snapshot: ConfigSnapshot, generation: Generation) -> bool:
    if generation.online_eval is not None or generation.is_duplicate:
        return False
    return in_sample(
        snapshot,
        prompt=generation.prompt_name,
        label=generation.prompt_label,
        trace_id=generation.trace_id,
        span_id=generation.span_id,
    )


def _span_attributes(row: Generation) -> dict[str, AttributeValue]:
    out: dict[str, AttributeValue] = {}
    if row.id is not None:
        out[semconv.GENERATION_ID] = row.id
    if row.prompt_name is not None:
        out[semconv.PROMPT_NAME] = row.prompt_name
    if row.prompt_version is not None:
        out[semconv.PROMPT_VERSION] = row.prompt_version
    if row.prompt_label is not None:
        out[semconv.PROMPT_LABEL] = row.prompt_label
    return out
