"""The runner: executes a run's pending items with bounded concurrency, persisting as it goes.

A run is claimed with a lease (owner + expiry) that the runner renews with every batch it
writes, so a crashed process's runs become claimable again and another process (or the same
one after a restart) resumes them. Results are inserted with ON CONFLICT DO NOTHING on
(run, variant, position, repeat): every item ends up recorded exactly once. Every write is
fenced on the lease (evals/runs/leases.py): a worker whose run was taken over has its write
refused, its batch rolled back, and stops. A configuration error (no connection or key, a key
or model the provider refuses, for the model or a judge) stops the run at once: what was done
is written, the rest stays pending for `resume`, and the run fails with the cause. The end
(verdict or failure, and its `run.finished` event) is written by evals/runs/finish.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from opentelemetry.trace import Span
from sqlalchemy.ext.asyncio import AsyncSession

from evals.errors import LeaseLostError, ModelCallError, RunStoppedError
from evals.llm.cache import ResponseCache
from evals.llm.client import Completion, ModelClient, cache_key
from evals.llm.failures import is_configuration_error
from evals.models import DatasetItem
from evals.runs import canary, finish, generations, leases, observe
from evals.runs.batch import Batch, Outcome, item_row
from evals.runs.generations import Call
from evals.runs.plan import Plan, Target, load_plan
from evals.runs.results import score_item
from evals.scorers.context import JUDGE_CALLS
from promptlane_client.errors import TemplateError
from promptlane_client.params import call_config
from promptlane_client.render import DEFAULT_BUDGET, RenderBudget
from prompts.base import utc_now
from prompts.render_pool import render_prompt_async
from tracing.inserts import count_dropped
from tracing.telemetry import PromptRef, Telemetry, mark_error

log = logging.getLogger("promptlane.runner")

SessionFactory = Callable[[], AsyncSession]


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
        render_budget: RenderBudget = DEFAULT_BUDGET,
        prepare_model: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`prepare_model` is awaited before each run's calls (the server's litellm readiness)."""
        self.sessions = sessions
        self.prepare_model = prepare_model
        self.render_budget = render_budget
        self.telemetry = telemetry or Telemetry.disabled()
        self.model = model
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.flush_interval = flush_interval
        self.cache = ResponseCache(sessions)
        self._renewed: dict[int, float] = {}

    # --- leases (evals/runs/leases.py: every write of a run is fenced on its owner) ------------

    async def claim(self, run_id: int) -> bool:
        """Take the run's lease if it is free, expired or ours; return whether we hold it."""
        async with self.sessions() as session:
            held = await leases.claim(
                session, run_id=run_id, owner=self.owner, until=utc_now() + self.lease
            )
            await session.commit()
        if held:
            self._renewed[run_id] = time.monotonic()
        return held

    async def claimable(self) -> list[int]:
        """Return runs that are queued or whose worker stopped renewing its lease."""
        async with self.sessions() as session:
            return await leases.claimable(session)

    async def release(self, run_id: int) -> None:
        """Give the lease back (on shutdown) so a restart resumes the run at once."""
        async with self.sessions() as session:
            await leases.release(session, run_id=run_id, owner=self.owner)
            await session.commit()

    # --- execution ----------------------------------------------------------------------

    async def execute(self, run_id: int) -> None:
        """Run every pending item of a run we can claim, then record its verdict."""
        if not await self.claim(run_id):
            return
        if self.prepare_model is not None:
            await self.prepare_model()
        with observe.run_span(self.telemetry, run_id) as span:
            try:
                await self._execute(run_id, span)
            except LeaseLostError as exc:
                # Another worker resumed the run (ours looked dead): it is theirs to finish.
                log.warning("run %s: worker %s lost its lease; stopping", run_id, self.owner)
                mark_error(span, type(exc).__name__, exc.detail)
            finally:
                self._renewed.pop(run_id, None)

    async def _execute(self, run_id: int, span: Span) -> None:
        try:
            plan = await self._plan(run_id)
            if plan.spec.cache:
                keys = [
                    self._key(
                        plan, variant, await self._render(plan, variant, index, repeat), repeat
                    )
                    for variant, index, repeat in plan.pending
                ]
                plan.cached = await self.cache.get_many(keys)
            cancelled = await self._work(plan)
            await self._finish(plan, cancelled=cancelled)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.release(run_id))
            raise
        except LeaseLostError:
            raise
        except RunStoppedError as exc:
            log.warning("run %s stopped early: %s", run_id, exc.detail)
            mark_error(span, type(exc).__name__, exc.detail[:300])
            detail = (
                f"stopped early: {exc.detail}; fix that, then "
                f"`promptlane eval resume {run_id}` runs the items not done yet"
            )
            await self._fail(run_id, RunStoppedError(detail))
        except Exception as exc:
            log.exception("run %s failed", run_id)
            mark_error(span, type(exc).__name__, str(exc)[:300])
            await self._fail(run_id, exc)

    async def _plan(self, run_id: int) -> Plan:
        async with self.sessions() as session:
            return await load_plan(
                session,
                run_id=run_id,
                model=self.model,
                connections=self.model.connections,
                render_budget=self.render_budget,
            )

    async def _render(
        self, plan: Plan, variant: str, index: int, repeat: int
    ) -> list[dict[str, Any]]:
        """Return an item's messages as sent, its canary included ([] when it does not render)."""
        item = plan.items[index]
        try:
            rendered = await render_prompt_async(
                plan.targets[variant].content, item.input, self.render_budget
            )
        except TemplateError:
            return []
        messages, _ = canary.insert(
            plan.canary, rendered.messages, variant=variant, position=item.position, repeat=repeat
        )
        return messages

    def _key(self, plan: Plan, variant: str, messages: list[dict[str, Any]], repeat: int) -> str:
        params = call_config(plan.targets[variant].version.config)
        model = str(params.pop("model", None))
        # The repeat is part of the key: repeats exist to sample variation, and a cache that
        # answered every repeat alike would hide it.
        return cache_key(model, messages, {**params, "repeat": repeat})

    async def _work(self, plan: Plan) -> bool:
        """Process pending items with `concurrency` workers; return True if cancelled."""
        queue: asyncio.Queue[tuple[str, int, int]] = asyncio.Queue()
        for entry in plan.pending:
            queue.put_nowait(entry)
        batch = Batch()

        async def worker() -> None:
            while not queue.empty():
                variant, index, repeat = queue.get_nowait()
                batch.add(await self._process(plan, variant, index, repeat))

        workers = [
            asyncio.create_task(worker())
            for _ in range(min(plan.spec.concurrency, len(plan.pending)))
        ]
        try:
            while workers:
                done, _ = await asyncio.wait(workers, timeout=self.flush_interval)
                workers = [w for w in workers if w not in done]
                # Read every finished worker's exception (none is left unretrieved), raise one.
                raised = [exc for task in done if (exc := task.exception()) is not None]
                if raised:
                    raise raised[0]
                if await self._flush(plan.run_id, batch):
                    return True
            return await self._flush(plan.run_id, batch, force=True)
        except RunStoppedError:
            # Keep what finished; the items in flight stay pending (no row) for `resume`.
            await self._flush(plan.run_id, batch, force=True)
            raise
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _process(self, plan: Plan, variant: str, index: int, repeat: int) -> Outcome:
        target, position = plan.targets[variant], plan.items[index].position
        ref = target.ref(plan.run_id)
        with observe.item_span(
            self.telemetry, ref, variant=variant, position=position, repeat=repeat
        ) as span:
            outcome = await self._attempt(plan, variant, index, repeat, ref)
            row = outcome.row
            flags = observe.finish_item(
                self.telemetry, span, row, ref, model=target.model, scorers=plan.scorers
            )
            generation = outcome.generation
            if generation is not None:
                generation["scores"] = generations.score_values(row["scores"])
                generation["safety_flags"] = flags
            outcome.judge_generations = generations.judge_rows(
                outcome.judged,
                (variant, position, repeat),
                run_id=plan.run_id,
                record_content=self.telemetry.record_content,
            )
            parent = span.get_span_context()
            if parent.is_valid:  # the item span is the parent of its chat spans
                own = [generation] if generation is not None else []
                for made in own + outcome.judge_generations:
                    made["parent_span_id"] = format(parent.span_id, "016x")
        return outcome

    async def _attempt(
        self, plan: Plan, variant: str, index: int, repeat: int, ref: PromptRef
    ) -> Outcome:
        item, target = plan.items[index], plan.targets[variant]
        row = item_row(plan.run_id, variant, item.position, repeat)
        try:
            rendered = await render_prompt_async(target.content, item.input, self.render_budget)
        except TemplateError as exc:  # a render over budget too: an item error, not a run's
            return Outcome({**row, "error": f"render: {exc.detail}"})
        # The canary is in the messages before the cache key is made: a cached answer to
        # another canary would hide a leak or invent one.
        messages, inserted = canary.insert(
            plan.canary, rendered.messages, variant=variant, position=item.position, repeat=repeat
        )
        key = self._key(plan, variant, messages, repeat) if plan.spec.cache else None
        completion = plan.cached.get(key) if key else None
        outcome = Outcome(row)
        if completion is None:
            answer, outcome.generation = await self._call(plan, item, target, messages, ref, row)
            if isinstance(answer, ModelCallError):
                if is_configuration_error(answer):  # every item would fail alike: stop
                    raise RunStoppedError(answer.detail) from answer
                outcome.row = {**row, "error": answer.detail}
                return outcome
            completion = answer
            if key:
                outcome.fresh = (key, target.model, completion)
        stats = {
            "latency_ms": completion.latency_ms,
            "cost_usd": completion.cost_usd,
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
        }
        token = JUDGE_CALLS.set(outcome.judged)
        try:
            scores = await score_item(plan.scorers, completion, item, stats, canary=inserted)
        finally:
            JUDGE_CALLS.reset(token)
        outcome.row = {
            **row,
            **stats,
            "status": "ok",
            "output": completion.text,
            "is_cached": completion.is_cached,
            "scores": scores,
        }
        return outcome

    async def _call(
        self,
        plan: Plan,
        item: DatasetItem,
        target: Target,
        messages: list[dict[str, Any]],
        ref: PromptRef,
        row: dict[str, Any],
    ) -> tuple[Completion | ModelCallError, dict[str, Any]]:
        """Call the model (retries inside); return its answer or error, and the generation."""
        call = Call(ref, target.model, messages, utc_now())
        clock = time.monotonic()
        answer: Completion | ModelCallError
        try:
            answer = await self.model.complete(
                messages=messages,
                config=target.version.config,
                metadata={"promptlane_item": _item_payload(item)},
                timeout=plan.spec.timeout_seconds,
                prompt=ref,
            )
        except ModelCallError as exc:
            answer = exc
        generation = generations.call_row(
            call,
            (row["variant"], row["position"], row["repeat"]),
            answer,
            duration_ms=(time.monotonic() - clock) * 1000.0,
            record_content=self.telemetry.record_content,
        )
        return answer, generation

    async def _flush(self, run_id: int, batch: Batch, *, force: bool = False) -> bool:
        """Write buffered results and renew the lease; return whether cancel was requested."""
        due = time.monotonic() - self._renewed.get(run_id, 0.0) > self.lease.total_seconds() / 4
        if not (batch.rows or force or due):
            return False
        self._renewed[run_id] = time.monotonic()
        rows, batch.rows = batch.rows, []
        fresh, batch.fresh = batch.fresh, {}
        gens, batch.generations = batch.generations, {}
        async with self.sessions() as session:
            # The fenced renewal comes first: it locks the run row before any item is written,
            # so a worker that lost the lease writes nothing (its transaction rolls back), and
            # two workers never wait on each other's item rows in opposite orders.
            cancel = await leases.renew(
                session, run_id=run_id, owner=self.owner, until=utc_now() + self.lease
            )
            dropped = []
            if rows:
                dropped = await generations.insert_items(session, rows, gens)
                await leases.record_progress(session, run_id=run_id, owner=self.owner)
            await session.commit()
        count_dropped(self.telemetry.metrics, dropped)
        if fresh:
            await self.cache.put_many(fresh)
        return cancel

    async def _finish(self, plan: Plan, *, cancelled: bool) -> None:
        await finish.finish_run(self.sessions, plan, owner=self.owner, cancelled=cancelled)

    async def _fail(self, run_id: int, exc: Exception) -> None:
        await finish.fail_run(self.sessions, run_id, exc, owner=self.owner)


def _item_payload(item: DatasetItem) -> dict[str, Any]:
    return {"input": item.input, "expected": item.expected, "metadata": item.item_metadata}
