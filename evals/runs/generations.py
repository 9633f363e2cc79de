"""Generations of eval runs: one row per model call a run makes, written with its item's row.

A model call's row is built by `generation` (the gateway's calls too), as a `GenerationRow`.
A response-cache hit is no model call and gets no row. Rows are inserted as dicts by the
runner's batched flush in the same transaction as the item rows they belong to, and only for
items whose row that flush actually inserted (so a resumed or doubly executed item never
yields a second generation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypedDict, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.errors import ModelCallError
from evals.llm.client import Completion, error_type, provider_of
from evals.models import RunItem
from evals.scorers.context import JudgeCall
from prompts.base import upsert_insert, utc_now
from tracing import semconv
from tracing.generation import GenerationRow, Source
from tracing.inserts import Dropped, insert_rows
from tracing.normalise import columns_of, normalise_row
from tracing.telemetry import PromptRef, new_span_ids

SOURCE: Final = "run"

# An item is named by (variant, position, repeat), the run_items key within a run.
ItemKey = tuple[str, int, int]
ITEM_KEY: Final = ("variant", "position", "repeat")
TABLE: Final = cast(sa.Table, RunItem.__table__)  # type: ignore[attr-defined]
RUN_ITEMS: Final = columns_of(TABLE)


@dataclass(frozen=True, slots=True)
class Call:
    """One model call as its maker saw it: what was asked, when, and for which prompt version."""

    prompt: PromptRef | None
    model: str
    messages: Sequence[Mapping[str, Any]]
    started_at: datetime
    parent: tuple[str, str] | None = None  # (trace id, span id) current when the call began


def _span_ids(call: Call, outcome: Completion | ModelCallError) -> tuple[str, str]:
    if outcome.trace_id is not None and outcome.span_id is not None:
        return outcome.trace_id, outcome.span_id
    trace_id, span_id = new_span_ids()  # the call failed before its span opened
    return (call.parent[0] if call.parent else trace_id), span_id  # still in its caller's trace


class _Answered(TypedDict):
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    finish_reasons: list[str]
    output_text: str | None


def _answered(model: str, answer: Completion | None, *, record_content: bool) -> _Answered:
    if answer is None:
        return _Answered(
            response_model=None,
            input_tokens=None,
            output_tokens=None,
            cost_usd=None,
            finish_reasons=[],
            output_text=None,
        )
    return _Answered(
        response_model=str((answer.raw or {}).get("model") or model),
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cost_usd=answer.cost_usd,
        finish_reasons=[answer.finish_reason] if answer.finish_reason else [],
        output_text=answer.text if record_content else None,
    )


def generation(
    source: Source,
    call: Call,
    outcome: Completion | ModelCallError,
    *,
    duration_ms: float,
    record_content: bool,
    attributes: dict[str, Any],
) -> GenerationRow:
    """Return the generation of a model call that answered or failed (scores are added later)."""
    p, parent = call.prompt, call.parent
    trace_id, span_id = _span_ids(call, outcome)
    answer = outcome if isinstance(outcome, Completion) else None
    failure = outcome if isinstance(outcome, ModelCallError) else None
    return GenerationRow(
        trace_id=trace_id,
        span_id=span_id,
        # The chat span's parent: the HTTP span, or a caller's (its traceparent) on the fast path.
        parent_span_id=parent[1] if parent and parent[0] == trace_id else None,
        source=source,
        operation=semconv.OPERATION_CHAT,
        provider=provider_of(call.model),
        request_model=call.model,
        prompt_name=p.name if p else None,
        prompt_version=p.version if p else None,
        prompt_label=p.label if p else None,
        content_hash=p.content_hash if p else None,
        run_id=p.run_id if p else None,
        started_at=call.started_at,
        duration_ms=duration_ms,
        is_error=failure is not None,
        error_type=error_type(failure) if failure is not None else None,
        input_chars=sum(len(str(m.get("content") or "")) for m in call.messages),
        input_messages=[dict(m) for m in call.messages] if record_content else None,
        **_answered(call.model, answer, record_content=record_content),
        scores={},
        safety_flags=[],
        attributes=attributes,
        created_at=utc_now(),
    )


def call_row(
    call: Call,
    key: ItemKey,
    answer: Completion | ModelCallError,
    *,
    duration_ms: float,
    record_content: bool = False,
) -> dict[str, Any]:
    """Return the generation row of a run's call that answered or failed, with its item's key."""
    attributes = {
        semconv.RUN_VARIANT: key[0],
        semconv.ITEM_POSITION: key[1],
        semconv.ITEM_REPEAT: key[2],
    }
    made = generation(
        SOURCE,
        call,
        answer,
        duration_ms=duration_ms,
        record_content=record_content,
        attributes=attributes,
    )
    return made.as_insert()


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
    table = TABLE
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
