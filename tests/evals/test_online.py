"""Online evaluation: sampling, config precedence, scoring, backpressure, crash recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from api.db import Database
from evals.models import OnlineEvaluation
from evals.online import configs as online_configs
from evals.online.evaluator import OnlineEvaluator
from evals.online.sampling import ConfigCache, is_sampled, sample_point
from evals.schemas import ScorerSpec
from evals.scorers.registry import needs_expected, needs_output
from prompts.models import Prompt
from tests.evals.online_support import (
    EMAIL,
    HANG_GUARD,
    PROMPT,
    SKIPPED_TOTAL,
    GatedJudge,
    configure,
    evaluator,
    prompt,
    reload,
    run,
    sample,
    store,
)
from tracing import semconv
from tracing.analytics import usage
from tracing.models import Generation

__all__ = ["prompt"]  # the fixture


# --- sampling -------------------------------------------------------------------------------


def test_sampling_is_a_pure_function_of_the_ids() -> None:
    ids = [(f"{i:032x}", f"{i * 7:016x}") for i in range(2_000)]
    points = [sample_point(t, s) for t, s in ids]
    assert points == [sample_point(t, s) for t, s in ids]
    assert all(0.0 <= p < 1.0 for p in points)
    assert not any(is_sampled(t, s, 0.0) for t, s in ids)
    assert all(is_sampled(t, s, 1.0) for t, s in ids)
    share = sum(is_sampled(t, s, 0.25) for t, s in ids) / len(ids)
    assert 0.2 < share < 0.3


async def test_rate_zero_samples_nothing(db: Database, prompt: str) -> None:
    await configure(db, rate=0.0)
    rows = await store(db, 5, output_text=EMAIL)
    await run(evaluator(db), rows)
    for row in await reload(db, rows):
        assert row.online_eval is None
        assert row.scores == {}
        assert row.safety_flags == []


async def test_rate_one_stores_scores_flags_and_metrics(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "pii"}, {"type": "refusal"}])
    rows = await store(db, 2, output_text=EMAIL, prompt_label="production", prompt_version=3)
    ev = evaluator(db)
    await run(ev, rows)
    for row in await reload(db, rows):
        assert row.online_eval == "scored"
        assert row.scores["pii"]["value"] == 0.0
        assert row.scores["pii"]["reason"].startswith("email: output[9:29] email")
        assert row.scores["refusal"]["value"] == 1.0
        assert row.safety_flags == ["pii"]
        assert semconv.ONLINE_EVAL_REASON not in row.attributes
    text = ev.telemetry.metrics.exposition().decode()
    labels = {
        "gen_ai_request_model": "openai/gpt-4o-mini",
        "prompt": PROMPT,
        "version": "3",
        "label": "production",
    }
    assert sample(text, "promptlane_safety_flags_total", flag="pii", **labels) == 2.0
    assert sample(text, "promptlane_eval_score_count", metric="refusal", **labels) == 2.0
    assert sample(text, "promptlane_eval_score_sum", metric="pii", **labels) == 0.0
    async with db.reader() as session:  # the rollups count the scores that came later
        [totals] = (await usage(session, group_by=[])).rows
    assert (totals.calls, totals.safety_flags) == (2, {"pii": 2})
    assert {name: (s.mean, s.count) for name, s in totals.scores.items()} == {
        "pii": (0.0, 2),
        "refusal": (1.0, 2),
    }


async def test_fractional_rate_follows_the_hash(db: Database, prompt: str) -> None:
    await configure(db, rate=0.5)
    rows = await store(db, 40)
    await run(evaluator(db), rows)
    stored = await reload(db, rows)
    expected = {r.id for r in rows if is_sampled(r.trace_id, r.span_id, 0.5)}
    assert {r.id for r in stored if r.online_eval == "scored"} == expected
    assert {r.id for r in stored if r.online_eval is None} == {r.id for r in rows} - expected


async def test_generations_without_ids_are_found_by_span(db: Database, prompt: str) -> None:
    await configure(db)
    (row,) = await store(db, output_text=EMAIL)
    detached = Generation(**{**row.model_dump(), "id": None})
    await run(evaluator(db), [detached])
    (found,) = await reload(db, [row])
    assert found.online_eval == "scored"
    assert found.safety_flags == ["pii"]


# --- which config -----------------------------------------------------------------------------


async def test_label_config_wins_over_any_label(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "pii"}])
    await configure(
        db, label="production", scorers=[{"type": "length", "params": {"max_chars": 5}}]
    )
    await configure(db, label="staging", enabled=False)
    rows = [
        *(await store(db, prompt_label="production")),
        *(await store(db, prompt_label="canary")),
        *(await store(db, prompt_label=None)),
        *(await store(db, prompt_label="staging")),
        *(await store(db, prompt_name="other/prompt")),
    ]
    await run(evaluator(db), rows)
    production, canary, unlabelled, staging, other = await reload(db, rows)
    assert set(production.scores) == {"length"}
    assert production.scores["length"]["passed"] is False
    assert set(canary.scores) == {"pii"}
    assert set(unlabelled.scores) == {"pii"}
    assert staging.online_eval is None  # a disabled label config switches its label off
    assert other.online_eval is None


async def test_configs_are_cached_until_invalidated(db: Database, prompt: str) -> None:
    found = await configure(db)
    ev = evaluator(db, config_ttl=3_600)
    first = await store(db)
    await run(ev, first)
    async with db.transaction() as session:
        await online_configs.delete_online_evaluation(session, evaluation_id=found.id)
    cached = await store(db)
    await run(ev, cached)  # the cache still holds the config: no query per generation
    ev.invalidate()
    fresh = await store(db)
    await run(ev, fresh)
    statuses = [r.online_eval for r in await reload(db, [*first, *cached, *fresh])]
    assert statuses == ["scored", "scored", None]


async def test_cache_reads_once_per_ttl(db: Database, prompt: str) -> None:
    now = [0.0]
    reads: list[int] = []

    def sessions() -> Any:
        reads.append(1)
        return db.reader()

    cache = ConfigCache(sessions, ttl=10.0, clock=lambda: now[0])
    await asyncio.gather(*(cache.get() for _ in range(5)))
    now[0] = 9.0
    await cache.get()
    assert len(reads) == 1
    now[0] = 10.5
    await cache.get()
    assert len(reads) == 2


# --- what can be scored -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected", "output"),
    [
        ({"type": "exact_match"}, True, True),
        ({"type": "contains"}, True, True),
        ({"type": "contains", "params": {"value": "refund"}}, False, True),
        ({"type": "regex", "params": {"pattern": "^ok"}}, False, True),
        ({"type": "regex"}, True, True),
        ({"type": "pii"}, False, True),
        ({"type": "latency", "params": {"max_ms": 10}}, False, False),
        ({"type": "cost", "params": {"max_usd": 1}}, False, False),
    ],
)
def test_what_a_scorer_needs(spec: dict[str, Any], expected: bool, output: bool) -> None:
    parsed = ScorerSpec.model_validate(spec)
    assert (needs_expected(parsed), needs_output(parsed)) == (expected, output)


async def stored_before_checks(db: Database, scorers: list[dict[str, Any]]) -> None:
    """Store a config as a server without the runnable check could (PUT refuses it now)."""
    async with db.transaction() as session:
        prompt_id = await session.scalar(sa.select(Prompt.id).where(Prompt.name == PROMPT))
        assert prompt_id is not None
        row = OnlineEvaluation(prompt_id=prompt_id, label="*", sample_rate=1.0, scorers=scorers)
        row.updated_by = "tests"
        session.add(row)


async def test_scorers_needing_expected_wait_for_it(db: Database, prompt: str) -> None:
    await stored_before_checks(db, [{"type": "exact_match"}, {"type": "pii"}])
    with_expected = await store(db, output_text="yes", attributes={semconv.EXPECTED: "yes"})
    without = await store(db, output_text="yes")
    await run(evaluator(db), [*with_expected, *without])
    got, missing = await reload(db, [*with_expected, *without])
    assert got.scores["exact_match"]["value"] == 1.0
    assert got.attributes == {semconv.EXPECTED: "yes"}
    assert set(missing.scores) == {"pii"}
    assert missing.online_eval == "scored"
    assert "exact_match" in missing.attributes[semconv.ONLINE_EVAL_REASON]


async def test_no_output_text_fails_with_a_reason(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "pii"}])
    await configure(
        db, label="fast", scorers=[{"type": "pii"}, {"type": "latency", "params": {"max_ms": 50}}]
    )
    rows = [
        *(await store(db, output_text=None)),
        *(await store(db, output_text=None, prompt_label="fast")),
    ]
    await run(evaluator(db), rows)
    failed, timed = await reload(db, rows)
    assert failed.online_eval == "failed"
    assert failed.scores == {}
    assert "no output text" in failed.attributes[semconv.ONLINE_EVAL_REASON]
    assert timed.online_eval == "scored"
    assert timed.scores["latency"] == {
        "value": 100.0,
        "reason": "100 ms > max 50 ms",
        "unit": "ms",
        "passed": False,
    }


async def test_judge_scorers_call_the_model(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    judge = GatedJudge.open('{"score": 4, "reason": "hateful"}')
    rows = await store(db)
    await run(evaluator(db, model=judge, judge_model="fake/judge"), rows)
    (row,) = await reload(db, rows)
    assert judge.calls == 1
    assert row.scores["toxicity"]["value"] == pytest.approx(0.25)
    assert row.scores["toxicity"]["cost_usd"] == 0.0004  # what judging it cost
    assert row.safety_flags == ["toxicity"]


async def test_a_judge_reason_with_nul_is_stored_not_lost(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    judge = GatedJudge.open('{"score": 1, "reason": "fine\\u0000 really"}')
    rows = await store(db)
    await run(evaluator(db, model=judge, judge_model="fake/judge"), rows)
    (row,) = await reload(db, rows)
    assert row.online_eval == "scored"
    assert row.scores["toxicity"]["reason"] == "fine really"


async def test_unbuildable_scorers_fail_the_generation(db: Database, prompt: str) -> None:
    # Valid when saved (a default judge model existed); this process has none configured.
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    rows = await store(db)
    await run(evaluator(db, model=GatedJudge.open()), rows)
    (row,) = await reload(db, rows)
    assert row.online_eval == "failed"
    assert "names no model" in row.attributes[semconv.ONLINE_EVAL_REASON]


# --- backpressure and crashes -----------------------------------------------------------------


async def test_full_queue_skips_and_counts(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    judge = GatedJudge()
    ev = evaluator(db, model=judge, judge_model="fake/judge", queue_size=1)
    first, queued, late, later = (
        (await store(db)),
        (await store(db)),
        (await store(db)),
        (await store(db)),
    )
    await ev.start()
    try:
        await ev.submit(first)
        await asyncio.wait_for(judge.started.wait(), HANG_GUARD)  # the worker holds `first`
        await ev.submit(queued)  # fills the queue
        await ev.submit([*late, *later])  # no room: stored, skipped, counted
        statuses = [r.online_eval for r in await reload(db, [*first, *queued, *late, *later])]
        assert statuses == ["pending", "pending", "skipped", "skipped"]
        judge.gate.set()
        await asyncio.wait_for(ev.join(), HANG_GUARD)
    finally:
        await ev.stop()
    statuses = [r.online_eval for r in await reload(db, [*first, *queued, *late, *later])]
    assert statuses == ["scored", "scored", "skipped", "skipped"]
    assert judge.calls == 2
    assert sample(ev.telemetry.metrics.exposition().decode(), SKIPPED_TOTAL) == 2.0


async def test_pending_rows_survive_a_crash(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    stuck = GatedJudge()
    crashed = evaluator(db, model=stuck, judge_model="fake/judge")
    in_flight = await store(db)
    await crashed.start()
    await crashed.submit(in_flight)
    await asyncio.wait_for(stuck.started.wait(), HANG_GUARD)
    await crashed.stop()  # as good as a crash: the worker dies mid-scoring
    left = await store(db, online_eval="pending")  # marked, never queued
    assert [r.online_eval for r in await reload(db, [*in_flight, *left])] == ["pending"] * 2

    restarted = evaluator(db, model=GatedJudge.open(), judge_model="fake/judge")
    await restarted.start()
    try:
        await asyncio.wait_for(restarted.join(), HANG_GUARD)
    finally:
        await restarted.stop()
    for row in await reload(db, [*in_flight, *left]):
        assert row.online_eval == "scored"
        assert row.scores["toxicity"]["value"] == 1.0


async def test_a_row_is_recorded_once(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    judge = GatedJudge('{"score": 5}')
    ev = evaluator(db, model=judge, judge_model="fake/judge")
    rows = await store(db)
    await ev.start()
    try:
        await ev.submit(rows)
        await asyncio.wait_for(judge.started.wait(), HANG_GUARD)
        table = Generation.__table__  # type: ignore[attr-defined]
        async with db.transaction() as session:  # another process finishes it first
            await session.execute(
                sa.update(table).where(table.c.id == rows[0].id).values(online_eval="scored")
            )
        judge.gate.set()
        await asyncio.wait_for(ev.join(), HANG_GUARD)
    finally:
        await ev.stop()
    (row,) = await reload(db, rows)
    assert row.scores == {}
    assert row.safety_flags == []
    assert "promptlane_safety_flags_total{" not in ev.telemetry.metrics.exposition().decode()


async def test_submit_never_raises(db: Database, prompt: str) -> None:
    def broken() -> Any:
        raise RuntimeError("database on fire")

    ev = OnlineEvaluator(broken)
    rows = await store(db)
    assert await ev.submit(rows) is None
