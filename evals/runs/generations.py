"""Generations of eval runs: one row per model call a run makes, written with its item's row.

A response-cache hit is no model call and gets no row. Rows are plain dicts, inserted by the
runner's batched flush in the same transaction as the item rows they belong to, and only for
items whose row that flush actually inserted (so a resumed or doubly executed item never
yields a second generation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evals.errors import ModelCallError
from evals.llm.client import Completion, error_type, provider_of
from evals.scorers.context import JudgeCall
from prompts.base import metadata, upsert_insert, utc_now
from tracing import semconv
from tracing.inserts import Dropped, insert_rows
from tracing.normalise import columns_of, normalise_row
from tracing.telemetry import PromptRef, new_span_ids

SOURCE: Final = "run"

# An item is named by (variant, position, repeat), the run_items key within a run.
ItemKey = tuple[str, int, int]
ITEM_KEY: Final = ("variant", "position", "repeat")
RUN_ITEMS: Final = columns_of(metadata.tables["run_items"])


@dataclass(frozen=True, slots=True)
class Call:
    """One model call as the runner saw it: what was asked, when, and for how long."""

    prompt: PromptRef
    model: str
    messages: Sequence[Mapping[str, Any]]
    started_at: datetime


def call_row(
    call: Call,
    key: ItemKey,
    answer: Completion | ModelCallError,
    *,
    duration_ms: float,
    record_content: bool = False,
) -> dict[str, Any]:
    """Return the generation row of a call that answered or failed (scores are added later)."""
    p = call.prompt
    trace_id, span_id = answer.trace_id, answer.span_id
    if trace_id is None or span_id is None:  # the call failed before its span opened
        trace_id, span_id = new_span_ids()
    failure = answer if isinstance(answer, ModelCallError) else None
    row: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": None,
        "source": SOURCE,
        "service_name": None,
        "operation": semconv.OPERATION_CHAT,
        "provider": provider_of(call.model),
        "request_model": call.model,
        "response_model": None,
        "prompt_name": p.name,
        "prompt_version": p.version,
        "prompt_label": p.label,
        "content_hash": p.content_hash,
        "run_id": p.run_id,
        "started_at": call.started_at,
        "duration_ms": duration_ms,
        "input_tokens": None,
        "output_tokens": None,
        "cost_usd": None,
        "is_error": failure is not None,
        "error_type": error_type(failure) if failure is not None else None,
        "finish_reasons": [],
        "input_chars": sum(len(str(m.get("content") or "")) for m in call.messages),
        "input_messages": [dict(m) for m in call.messages] if record_content else None,
        "output_text": None,
        "online_eval": None,
        "scores": {},
        "safety_flags": [],
        "attributes": {
            semconv.RUN_VARIANT: key[0],
            semconv.ITEM_POSITION: key[1],
            semconv.ITEM_REPEAT: key[2],
        },
        "created_at": utc_now(),
    }
    if isinstance(answer, Completion):
        row.update(_answer(call, answer, record_content=record_content))
    return row


def judge_rows(
    calls: Sequence[JudgeCall], key: ItemKey, *, run_id: int, record_content: bool = False
) -> list[dict[str, Any]]:
    """Return the generation rows of the judge calls made while scoring one item.

    Each is a call of the judge's prompt version (so analytics report judges per version),
    in the run, with the scorer's name; what the judge model answered is its output.
    """
    rows = []
    for judged in calls:
        if not isinstance(judged.answer, Completion | ModelCallError):
            continue  # a stand-in model client (tests) gives no call to record
        j = judged.judge
        ref = PromptRef(j.name, j.version, None, j.content_hash, run_id)
        call = Call(ref, judged.model, judged.messages, judged.started_at)
        row = call_row(
            call, key, judged.answer, duration_ms=judged.duration_ms, record_content=record_content
        )
        row["attributes"][semconv.SCORER_NAME] = judged.scorer
        rows.append(row)
    return rows


def _answer(call: Call, completion: Completion, *, record_content: bool) -> dict[str, Any]:
    raw = completion.raw or {}
    return {
        "response_model": str(raw.get("model") or call.model),
        "input_tokens": completion.input_tokens,
        "output_tokens": completion.output_tokens,
        "cost_usd": completion.cost_usd,
        "finish_reasons": [completion.finish_reason] if completion.finish_reason else [],
        "output_text": completion.text if record_content else None,
    }


def score_values(scores: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Return an item's scores as name → value (scorers that failed have no value)."""
    out: dict[str, float] = {}
    for name, result in scores.items():
        value = result.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


async def insert_items(
    session: AsyncSession, rows: list[dict[str, Any]], gens: dict[ItemKey, list[dict[str, Any]]]
) -> list[Dropped]:
    """Insert run_items rows, and the generations of the rows this insert actually added.

    Generations go through the one generations INSERT (normalised; a span already stored, by
    OTLP ingest say, is kept); the rows it had to drop are returned, to be counted.
    """
    table = metadata.tables["run_items"]
    # A model's answer may hold NUL, a scorer's value may be NaN (ragas returns it): stored
    # as they are, PostgreSQL would refuse the whole batch, so the run could never finish.
    rows = [normalise_row(row, RUN_ITEMS) for row in rows]
    stmt = upsert_insert(session, table).on_conflict_do_nothing(
        index_elements=["run_id", *ITEM_KEY]
    )
    if not gens:
        # executemany: the statement compiles once, however many rows the batch has.
        await session.execute(stmt, rows)
        return []
    # RETURNING names the rows inserted: an item that is already recorded (a resumed run, or
    # a lease that expired under a live worker) must not get a second generation.
    inserted = await session.execute(stmt.returning(*(table.c[c] for c in ITEM_KEY)), rows)
    added = [made for key in map(tuple, inserted.tuples()) for made in gens.get(key, ())]
    return (await insert_rows(session, added)).dropped
