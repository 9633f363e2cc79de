"""Any ingested span as a `spans` row, and the one INSERT that stores them.

A span row keeps the trace's shape (ids, name, kind, service, timing, status), the prompt link
the span carries itself (`linkage.link_of`) and its attributes, bounded as a generation's are
(`tracing/rows.py`: at most 64, values cut to 1,024 characters), without message content:
the inputs and outputs of model calls, chains, tools and retrievals are never kept on a span
(a model call's content is the generation's, stored when the span recorded it), so a trace
tree holds nothing a reader key may not see. Rows are normalised like generation rows and
inserted with ON CONFLICT DO NOTHING (an exporter's retry is stored once); a row the database
refuses costs only itself (`inserts.isolate`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing import dialects, rows, semconv
from tracing.base import upsert_insert
from tracing.inserts import isolate
from tracing.models import Span
from tracing.normalise import columns_of, normalise_row
from tracing.otlp import STATUS_CODE_ERROR, SpanRecord
from tracing.traces import linkage

log = logging.getLogger("promptlane.tracing")

TABLE: Final = cast(sa.Table, Span.__table__)  # type: ignore[attr-defined]
COLUMNS: Final = columns_of(TABLE)
KINDS: Final = ("unspecified", "internal", "server", "client", "producer", "consumer")
# Message content in the dialects promptlane reads, and in OpenInference's and OpenLLMetry's
# non-LLM spans (chain, tool, retriever, reranker, embedding inputs and outputs).
CONTENT_KEYS: Final = frozenset(
    {
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        dialects.GEN_AI_SYSTEM_INSTRUCTIONS,
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "input.value",
        "output.value",
        "llm.prompt_template.variables",
        "reranker.query",
        "traceloop.entity.input",
        "traceloop.entity.output",
    }
)
CONTENT_PREFIXES: Final = (
    *dialects.CONTENT_PREFIXES,
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.prompts.",
    "retrieval.documents.",
    "reranker.input_documents.",
    "reranker.output_documents.",
    "embedding.embeddings.",
    "message.",
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAME_CHARS: Final = 200
_STATUS_CHARS: Final = 1024


def is_content(key: str) -> bool:
    """Return whether an attribute holds message content (never stored on a span)."""
    return key in CONTENT_KEYS or key.startswith(CONTENT_PREFIXES)


def span_attributes(span: SpanRecord) -> dict[str, Any]:
    """Return a span's attributes without content, bounded like a generation's."""
    kept: dict[str, Any] = {}
    dropped = 0
    for key, value in span.attributes.items():
        if is_content(key):
            continue
        if len(kept) >= rows.MAX_ATTRIBUTES or len(key) > rows.MAX_KEY_CHARS:
            dropped += 1
        else:
            kept[rows.clean(key, rows.MAX_KEY_CHARS)] = rows.bounded(key, value)
    for key in rows.RESOURCE_KEPT:
        if key in span.resource and key not in kept:
            kept[key] = rows.bounded(key, span.resource[key])
    if dropped:
        kept[rows.DROPPED] = dropped
    return kept


def _time(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def span_row(span: SpanRecord, *, created_at: datetime, is_generation: bool) -> dict[str, Any]:
    """Return the `spans` row of any span: its shape, its own link, bounded attributes."""
    ended = span.end_ns >= span.start_ns > 0
    link = linkage.link_of(span.attributes) or linkage.NO_LINK
    is_error = span.status_code == STATUS_CODE_ERROR or semconv.ERROR_TYPE in span.attributes
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": rows.clean(span.name, _NAME_CHARS),
        "kind": KINDS[span.kind] if 0 <= span.kind < len(KINDS) else KINDS[0],
        "service_name": span.service_name,
        "scope": span.scope or None,
        "started_at": _time(span.start_ns),
        "ended_at": _time(span.end_ns) if ended else None,
        "duration_ms": (span.end_ns - span.start_ns) / 1e6 if ended else None,
        "is_error": is_error,
        "status_message": rows.clean(span.status_message, _STATUS_CHARS) or None,
        "is_generation": is_generation,
        **link.columns(),
        "attributes": span_attributes(span),
        "created_at": created_at,
    }


def nodes_of(span_rows: Mapping[linkage.Key, Mapping[str, Any]]) -> dict[linkage.Key, linkage.Node]:
    """Return what linkage needs of span rows: each one's parent and own link."""
    return {
        key: linkage.Node(row["parent_span_id"], linkage.Link.of_columns(row))
        for key, row in span_rows.items()
    }


async def store_spans(
    session: AsyncSession, span_rows: Iterable[Mapping[str, Any]]
) -> set[linkage.Key]:
    """Normalise and insert span rows (a span already stored is kept); return the new ones' keys.

    A row the database refuses is dropped alone and logged (its reason, never its content).
    """
    clean = [normalise_row(row, COLUMNS) for row in span_rows]
    statement = (
        upsert_insert(session, TABLE)
        .on_conflict_do_nothing(index_elements=["trace_id", "span_id"])
        .returning(TABLE.c.trace_id, TABLE.c.span_id)
    )

    async def insert(part: Sequence[dict[str, Any]]) -> list[Any]:
        async with session.begin_nested():
            return list((await session.execute(statement, list(part))).all())

    stored, refused = await isolate(clean, insert)
    for reason, count in Counter(reason for _, reason in refused).items():
        log.warning("dropped %d ingested span(s), not storable: %s", count, reason)
    return {(trace_id, span_id) for trace_id, span_id in stored}
