"""Online evaluation keeps a call's content for its scorers, then only when recording."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.db import Database
from evals.gateway.calls import record_generations
from evals.online.evaluator import OnlineEvaluator
from evals.online.sampling import ContentGate, is_sampled
from tests.evals.online_support import (
    EMAIL,
    HANG_GUARD,
    GatedJudge,
    configure,
    evaluator,
    prompt,
    reload,
    run,
)
from tests.factories import generation_row
from tracing.models import Generation

__all__ = ["prompt"]  # the fixture


# --- content: kept for scorers, then only when recorded --------------------------------------

MESSAGES = [{"role": "user", "content": EMAIL}]


def content_row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "prompt_label": None,
        "input_messages": MESSAGES,
        "output_text": EMAIL,
    }
    values.update(overrides)
    return generation_row(**values)


def sampled_at(rate: float, *, inside: bool) -> dict[str, Any]:
    """Return a row that falls inside (or outside) a `rate` sample."""
    while True:
        row = content_row()
        if is_sampled(row["trace_id"], row["span_id"], rate) == inside:
            return row


async def insert(db: Database, rows: list[dict[str, Any]]) -> list[Generation]:
    async with db.transaction() as session:
        stored, dropped = await record_generations(session, rows)
    assert not dropped
    return stored


async def test_the_gate_keeps_content_of_sampled_rows_only(db: Database, prompt: str) -> None:
    await configure(db, rate=0.5)
    ev = evaluator(db)
    inside, outside = sampled_at(0.5, inside=True), sampled_at(0.5, inside=False)
    other = content_row(prompt_name="no/config")
    await ContentGate(ev.configs, record_content=False).prepare([inside, outside, other])
    assert (inside["online_eval"], inside["output_text"], inside["input_messages"]) == (
        "pending",
        EMAIL,
        MESSAGES,
    )
    for row in (outside, other):
        assert (row["online_eval"], row["output_text"], row["input_messages"]) == (None, None, None)


async def test_the_gate_keeps_all_content_when_recording(db: Database, prompt: str) -> None:
    await configure(db, rate=0.5)
    inside, outside = sampled_at(0.5, inside=True), sampled_at(0.5, inside=False)
    await ContentGate(evaluator(db).configs, record_content=True).prepare([inside, outside])
    assert [r["online_eval"] for r in (inside, outside)] == ["pending", None]
    assert [r["output_text"] for r in (inside, outside)] == [EMAIL, EMAIL]


async def test_without_evaluation_or_configs_no_content_is_kept(db: Database) -> None:
    off = content_row()
    await ContentGate(None, record_content=False).prepare([off])

    def broken() -> Any:
        raise RuntimeError("database on fire")

    unreadable = content_row()
    await ContentGate(OnlineEvaluator(broken).configs, record_content=False).prepare([unreadable])
    for row in (off, unreadable):
        assert (row["online_eval"], row["output_text"], row["input_messages"]) == (None, None, None)


@pytest.mark.parametrize(
    ("record_content", "keep_content"), [(False, False), (True, False), (False, True)]
)
async def test_content_waits_for_the_scorer_then_goes_unless_kept(
    db: Database, prompt: str, record_content: bool, keep_content: bool
) -> None:
    await configure(db, rate=0.5, scorers=[{"type": "pii"}])
    ev = evaluator(db, record_content=record_content, keep_content=keep_content)
    rows = [sampled_at(0.5, inside=True)]
    outside = [sampled_at(0.5, inside=False)]
    await ContentGate(ev.configs, record_content=record_content).prepare([*rows, *outside])
    (unsampled,) = await reload(db, await insert(db, outside))
    # Keeping content is for sampled calls only: the others keep theirs only when recording.
    assert unsampled.output_text == (EMAIL if record_content else None)
    stored = await insert(db, rows)
    (waiting,) = await reload(db, stored)
    assert (waiting.online_eval, waiting.output_text) == ("pending", EMAIL)  # for its scorer
    await run(ev, stored)
    (row,) = await reload(db, stored)
    assert row.online_eval == "scored"
    assert row.safety_flags == ["pii"]  # the scorer read the answer
    kept = (MESSAGES, EMAIL) if record_content or keep_content else (None, None)
    assert (row.input_messages, row.output_text) == kept


async def test_a_skipped_generation_loses_its_content(db: Database, prompt: str) -> None:
    await configure(db, scorers=[{"type": "toxicity"}], judge_model="fake/judge")
    judge = GatedJudge()
    ev = evaluator(db, model=judge, judge_model="fake/judge", queue_size=1)
    rows = [content_row() for _ in range(3)]
    await ContentGate(ev.configs, record_content=False).prepare(rows)
    await ev.start()  # before the inserts, as a server does: nothing to recover
    try:
        first, queued, late = [await insert(db, [r]) for r in rows]
        await ev.submit(first)
        await asyncio.wait_for(judge.started.wait(), HANG_GUARD)
        await ev.submit(queued)
        await ev.submit(late)  # no room
        (skipped,) = await reload(db, late)
        assert (skipped.online_eval, skipped.output_text, skipped.input_messages) == (
            "skipped",
            None,
            None,
        )
        judge.gate.set()
        await asyncio.wait_for(ev.join(), HANG_GUARD)
    finally:
        await ev.stop()
    for row in await reload(db, [*first, *queued]):
        assert (row.online_eval, row.output_text) == ("scored", None)
