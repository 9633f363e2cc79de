"""OTLP ingest: decode a request, store every span, and its GenAI spans as generations.

One request is one batch, whatever its transport: spans are decoded and mapped to rows
(CPU-bound: `decode_batch` for OTLP/HTTP, `decode_message` for OTLP/gRPC; run them in a
thread), priced from litellm's price map when a span has no `promptlane.cost_usd`, linked to
their prompt version along the trace (`traces.relink`), and inserted with a single
INSERT … ON CONFLICT DO NOTHING (`inserts.insert_rows`, which normalises every row and drops
only a row the database refuses), so a span delivered twice (OTLP clients retry) is stored
once; the spans it refused are the export's partial success (`export_response`). Every span,
model call or not, is also a `spans` row (`traces.spans`), the trace's tree. The caller owns
the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers

from tracing import dedupe, otlp
from tracing.base import utc_now
from tracing.inserts import Dropped, count_dropped, insert_rows
from tracing.metrics import Calls, Metrics
from tracing.models import Generation
from tracing.otlp import Encoding, SpanRecord
from tracing.pricing import PRICES, PriceBook
from tracing.rows import generation_row
from tracing.traces import relink
from tracing.traces.spans import nodes_of, span_row, store_spans

RowKey = tuple[str, str]  # (trace id, span id)
_NEW_GENERATION: Final = sa.inspect(Generation).class_manager.new_instance


@dataclass
class Batch:
    """The spans of one request mapped to rows by (trace id, span id), deduplicated.

    Every span has its `spans` row; the GenAI ones have their generation row too.
    """

    received: int
    non_genai: int
    rows: dict[RowKey, dict[str, Any]] = field(default_factory=dict)
    spans: dict[RowKey, dict[str, Any]] = field(default_factory=dict)


@dataclass
class IngestResult:
    """What one export request did: spans received and stored, generations stored, relinked."""

    received: int
    generations: list[Generation]
    duplicates: int
    non_genai: int
    dropped: list[Dropped] = field(default_factory=list)  # rows the database refused
    spans: int = 0  # spans stored (not stored before)
    relinked: list[relink.Relinked] = field(default_factory=list)  # stored, linked now
    # Stored gateway rows without a link that took their twin's (tracing/dedupe.py).
    calls_linked: list[relink.Relinked] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Return how many generations were stored."""
        return len(self.generations)


def build_batch(spans: Sequence[SpanRecord]) -> Batch:
    """Map spans to generation rows; a span repeated within the request is kept once."""
    created_at = utc_now()
    batch = Batch(received=len(spans), non_genai=0)
    for span in spans:
        key = (span.trace_id, span.span_id)
        row = generation_row(span, created_at=created_at)
        if row is None:
            batch.non_genai += 1
        else:
            response_id = dedupe.span_response_id(span.attributes)
            if response_id is not None:
                row["response_id"] = response_id
            batch.rows.setdefault(key, row)
        if key not in batch.spans:
            batch.spans[key] = span_row(span, created_at=created_at, is_generation=row is not None)
    dedupe.mark_gateway_twins(batch.rows.values())  # one call through the gateway: counted once
    return batch


def decode_batch(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_bytes: int
) -> tuple[Encoding, Batch]:
    """Decode an OTLP/HTTP request and map its spans (CPU-bound: run it off the event loop)."""
    decoded = otlp.decode_request(
        body, content_type=content_type, content_encoding=content_encoding, max_bytes=max_bytes
    )
    return decoded.encoding, build_batch(decoded.spans)


def decode_message(message: bytes) -> Batch:
    """Decode an OTLP/gRPC request message (gRPC has inflated it) and map its spans."""
    return build_batch(otlp.spans_of(otlp.parse(message, "protobuf")))


def _models(row: Mapping[str, Any]) -> list[str]:
    return [m for m in (row["response_model"], row["request_model"]) if m]


async def price_rows(rows: Iterable[dict[str, Any]], prices: PriceBook) -> None:
    """Fill `cost_usd` of rows without one from the price map (response model first)."""
    unpriced = [
        row
        for row in rows
        if row["cost_usd"] is None
        and (row["input_tokens"] is not None or row["output_tokens"] is not None)
        and _models(row)
    ]
    if not unpriced:
        return
    await prices.prepare((row["provider"], m) for row in unpriced for m in _models(row))
    for row in unpriced:
        tokens = (row["input_tokens"] or 0, row["output_tokens"] or 0)
        for model in _models(row):
            row["cost_usd"] = prices.cost(row["provider"], model, *tokens)
            if row["cost_usd"] is not None:
                break


def loaded(stored: Iterable[tuple[Mapping[str, Any], int]]) -> list[Generation]:
    """Return the Generations of stored (row, id) pairs, built as if loaded from the database.

    This is how SQLAlchemy builds the instances it loads (no attribute events, no pydantic
    defaults to apply; a row holds every column): several times faster than
    `Generation(**row)`, which matters at hundreds of spans per request.
    """
    configure_mappers()  # the constructor would have; the instances need configured mappers
    out: list[Generation] = []
    for row, id_ in stored:
        generation: Generation = _NEW_GENERATION()
        generation.__dict__.update(row, id=id_)
        out.append(generation)
    return out


async def store_batch(
    session: AsyncSession, batch: Batch, *, prices: PriceBook = PRICES
) -> IngestResult:
    """Price, link and insert a batch's rows; return the generations stored (not duplicates).

    Generations stored earlier whose nearest linked ancestor arrives in this batch are
    relinked (`relink.relink`). A linked twin stored or relinked now gives its link to the
    stored gateway row of its call if that has none (`dedupe.link_gateway_calls`).
    """
    await price_rows(batch.rows.values(), prices)
    nodes = nodes_of(batch.spans)
    links = await relink.resolve_links(session, nodes)
    relink.fill_links(batch.rows, nodes, links)
    inserted = await insert_rows(session, batch.rows.values())
    new = await store_spans(session, batch.spans.values())
    # Only spans stored now pass their link down: a resent span is kept as first stored.
    below = await relink.inherited(session, {k: nodes[k] for k in new}, links, skip=nodes)
    relinked = await relink.relink(session, below)
    twins = [{**row, "id": id_} for row, id_ in inserted.stored if row.get("is_duplicate")]
    twins.extend(change.after for change in relinked if change.after["is_duplicate"])
    calls_linked = await dedupe.link_gateway_calls(session, twins)
    generations = loaded(inserted.stored)
    dropped = len(inserted.dropped)
    return IngestResult(
        received=batch.received,
        generations=generations,
        duplicates=batch.received - batch.non_genai - len(generations) - dropped,
        non_genai=batch.non_genai,
        dropped=inserted.dropped,
        spans=len(new),
        relinked=relinked,
        calls_linked=calls_linked,
    )


def export_response(result: IngestResult) -> ExportTraceServiceResponse:
    """Return the answer to an export: full success, or the spans the database refused."""
    response = ExportTraceServiceResponse()
    if result.dropped:
        reasons = sorted({d.reason for d in result.dropped})
        response.partial_success.rejected_spans = len(result.dropped)
        response.partial_success.error_message = (
            f"{len(result.dropped)} span(s) could not be stored: {', '.join(reasons)}"
        )
    return response


async def ingest_spans(
    session: AsyncSession, spans: Sequence[SpanRecord], *, prices: PriceBook = PRICES
) -> IngestResult:
    """Store the spans of one request, GenAI ones as generations too; count duplicates."""
    return await store_batch(session, build_batch(spans), prices=prices)


CallKey = tuple[str, str | None, int | None, str | None, str | None, str | None]


def _grouped(generations: Iterable[Generation]) -> dict[CallKey, Calls]:
    """Gather generations by (model, prompt, version, label, operation, error type)."""
    groups: dict[CallKey, Calls] = {}
    for g in generations:
        if g.is_duplicate:  # the gateway counted this call when it made it
            continue
        model = g.request_model or g.response_model or ""
        key = (model, g.prompt_name, g.prompt_version, g.prompt_label, g.operation, g.error_type)
        calls = groups.get(key)
        if calls is None:
            calls = groups[key] = Calls()
        if g.duration_ms is not None:
            calls.durations_s.append(g.duration_ms / 1000)
        if g.input_tokens is not None:
            calls.input_tokens.append(g.input_tokens)
        if g.output_tokens is not None:
            calls.output_tokens.append(g.output_tokens)
        calls.cost_usd += g.cost_usd or 0.0
        for metric, value in g.scores.items():
            if 0.0 <= value <= 1.0:  # the score histogram's buckets cover [0, 1]
                calls.scores.setdefault(metric, []).append(value)
        calls.flags.update(g.safety_flags)
    return groups


def observe(metrics: Metrics, result: IngestResult) -> None:
    """Record an ingest in the metrics: spans by kind; calls, tokens, cost, scores and flags."""
    metrics.record_ingest(genai=result.stored, duplicate=result.duplicates, other=result.non_genai)
    count_dropped(metrics, result.dropped)
    for (model, name, version, label, operation, error), calls in _grouped(
        result.generations
    ).items():
        labels = metrics.prompt_labels(model, name, version, label)
        metrics.record_calls(labels, calls, operation=operation, error_type=error)
