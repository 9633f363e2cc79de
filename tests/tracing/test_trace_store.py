"""Every ingested span stored, and prompt links that follow the trace across export batches."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from tests.otlp_requests import genai, record
from tracing import ingest
from tracing.models import Generation, Span
from tracing.otlp import SpanRecord
from tracing.pricing import PriceBook
from tracing.traces.linkage import Link

T = "a" * 32
UNLINKED = {"promptlane.prompt.name": None, "promptlane.prompt.version": None}
UNLINKED |= {"promptlane.prompt.label": None}
META = json.dumps({"promptlane.prompt.name": "support/triage", "promptlane.prompt.version": 4})


def rec(span_id: str, parent: str | None, attributes: dict[str, Any], **kw: Any) -> SpanRecord:
    return dataclasses.replace(
        record(attributes, **kw),
        trace_id=T,
        span_id=span_id * 16,
        parent_span_id=parent and parent * 16,
    )


def llm(span_id: str, parent: str | None, **attributes: Any) -> SpanRecord:
    return rec(span_id, parent, genai(**{**UNLINKED, **attributes}))


async def ingest_batch(session: AsyncSession, *spans: SpanRecord) -> ingest.IngestResult:
    return await ingest.ingest_spans(session, spans, prices=PriceBook(loader=lambda: None))


async def links(session: AsyncSession) -> dict[str, tuple[str | None, int | None]]:
    rows = await session.scalars(select(Generation).where(Generation.trace_id == T))
    return {g.span_id[0]: (g.prompt_name, g.prompt_version) for g in rows}


async def test_every_span_is_stored_once_without_content(session: AsyncSession) -> None:
    content = {
        "input.value": "secret question",
        "output.value": "secret answer",
        "retrieval.documents.0.document.content": "secret document",
        "traceloop.entity.input": "secret",
        "openinference.span.kind": "RETRIEVER",
        "db.system": "pgvector",
    }
    spans = [
        rec("1", None, {"http.route": "/ask"}, status_code=2),
        rec("2", "1", content),
        llm("3", "2", **{"gen_ai.prompt.0.content": "secret", "gen_ai.prompt.0.role": "user"}),
    ]
    first = await ingest_batch(session, *spans)
    assert (first.spans, first.stored, first.non_genai) == (3, 1, 2)
    again = await ingest_batch(session, *spans)
    assert (again.spans, again.stored, again.duplicates) == (0, 0, 1)
    rows = {s.span_id[0]: s for s in await session.scalars(select(Span).where(Span.trace_id == T))}
    assert sorted(rows) == ["1", "2", "3"]
    assert (rows["1"].is_error, rows["1"].kind, rows["1"].is_generation) == (True, "client", False)
    assert rows["3"].is_generation
    assert rows["3"].parent_span_id == "2" * 16
    assert rows["2"].attributes == {"openinference.span.kind": "RETRIEVER", "db.system": "pgvector"}
    assert "secret" not in json.dumps([r.attributes for r in rows.values()])
    assert rows["3"].attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert (rows["1"].duration_ms, rows["1"].service_name) == (250.0, "support-bot")


async def test_span_attributes_are_bounded(session: AsyncSession) -> None:
    attributes: dict[str, Any] = {f"k{i}": i for i in range(80)}
    attributes["k0"] = "x" * 5000
    attributes["k1"] = "nul\x00here"
    await ingest_batch(session, rec("1", None, attributes, start_ns=1, end_ns=0))
    (row,) = await session.scalars(select(Span).where(Span.trace_id == T))
    assert len(row.attributes) == 65
    assert row.attributes["promptlane.attributes_dropped"] == 16
    assert (len(row.attributes["k0"]), row.attributes["k1"]) == (1024, "nulhere")
    assert (row.duration_ms, row.ended_at) == (None, None)


async def test_a_generation_takes_its_nearest_ancestors_link_in_the_same_batch(
    session: AsyncSession,
) -> None:
    result = await ingest_batch(
        session,
        llm("3", "2"),
        rec("2", "1", {"metadata": META}),
        rec("1", None, {"promptlane.prompt.name": "outer", "promptlane.prompt.version": 1}),
        llm("4", "1"),
        llm("5", "2", **{"promptlane.prompt.name": "own", "promptlane.prompt.version": 9}),
    )
    assert result.relinked == []
    assert await links(session) == {
        "3": ("support/triage", 4),
        "4": ("outer", 1),
        "5": ("own", 9),
    }


async def test_an_ancestor_arriving_later_relinks_stored_generations(
    session: AsyncSession,
) -> None:
    await ingest_batch(session, llm("3", "2"), llm("4", "2", **{"promptlane.prompt.name": "own"}))
    assert await links(session) == {"3": (None, None), "4": ("own", None)}
    result = await ingest_batch(session, rec("2", "1", {"metadata": META}), rec("1", None, {}))
    assert await links(session) == {"3": ("support/triage", 4), "4": ("own", None)}
    (change,) = result.relinked
    assert (change.before["prompt_name"], change.before["span_id"]) == (None, "3" * 16)
    assert (change.after["prompt_name"], change.after["prompt_version"]) == ("support/triage", 4)
    assert change.after["input_tokens"] == change.before["input_tokens"] == 120
    again = await ingest_batch(session, rec("2", "1", {"metadata": META}))
    assert again.relinked == []  # a resent ancestor changes nothing


async def test_a_child_arriving_after_its_linked_ancestors_looks_them_up(
    session: AsyncSession,
) -> None:
    await ingest_batch(
        session,
        rec("1", None, {"traceloop.association.properties.promptlane.prompt.name": "p"}),
        rec("2", "1", {}),
    )
    await ingest_batch(session, rec("3", "2", {}))
    result = await ingest_batch(session, llm("4", "3"))
    assert result.relinked == []
    assert await links(session) == {"4": ("p", None)}


async def test_a_missing_middle_span_connects_the_link_when_it_arrives(
    session: AsyncSession,
) -> None:
    await ingest_batch(
        session,
        rec("1", None, {"llm.prompt_template.version": "support/triage@2"}),
        llm("5", "4"),  # its parent 4, and 4's parent 3, are not there yet
        rec("6", "5", {}),
    )
    await ingest_batch(session, rec("4", "3", {}))
    assert await links(session) == {"5": (None, None)}
    result = await ingest_batch(session, rec("3", "1", {}))
    assert await links(session) == {"5": ("support/triage", 2)}
    assert len(result.relinked) == 1


async def test_a_nearer_ancestor_arriving_later_wins(session: AsyncSession) -> None:
    await ingest_batch(session, rec("1", None, {"promptlane.prompt.name": "far"}), llm("4", "3"))
    await ingest_batch(session, rec("2", "1", {}))
    await ingest_batch(session, rec("3", "2", {"promptlane.prompt.name": "near"}))
    assert await links(session) == {"4": ("near", None)}


async def test_a_resent_span_keeps_its_first_attributes(session: AsyncSession) -> None:
    await ingest_batch(session, rec("1", None, {"promptlane.prompt.name": "far"}), llm("3", "2"))
    await ingest_batch(session, rec("2", "1", {}))
    assert await links(session) == {"3": ("far", None)}
    # The same span again with a link changes nothing: a span is stored once, as first sent.
    await ingest_batch(session, rec("2", "1", {"promptlane.prompt.name": "near"}))
    assert await links(session) == {"3": ("far", None)}


async def test_only_generations_of_the_same_trace_are_linked(session: AsyncSession) -> None:
    other = dataclasses.replace(llm("3", "1"), trace_id="b" * 32)
    await ingest_batch(session, other)
    await ingest_batch(session, rec("1", None, {"promptlane.prompt.name": "p"}))
    (generation,) = await session.scalars(select(Generation))
    assert generation.prompt_name is None
    assert await session.scalar(sa.select(sa.func.count()).select_from(Span)) == 2


async def test_many_descendants_are_relinked_in_chunks(session: AsyncSession) -> None:
    children = [dataclasses.replace(llm("3", "1"), span_id=f"{i:016x}") for i in range(1200)]
    await ingest_batch(session, *children)
    result = await ingest_batch(session, rec("1", None, {"promptlane.prompt.name": "p"}))
    assert len(result.relinked) == 1200
    names = await session.scalars(select(Generation.prompt_name).distinct())
    assert list(names) == ["p"]
    assert Link.of_columns(result.relinked[0].after) == Link("p")
