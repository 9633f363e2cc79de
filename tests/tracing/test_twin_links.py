"""A gateway call of a plain model takes its prompt link from its twin, whichever comes first."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from api.db import Database
from tests.conftest import BACKEND, DatabaseFactory
from tests.factories import generation_row
from tests.otlp_requests import genai, record
from tracing import analytics, dedupe, ingest
from tracing.inserts import insert_rows
from tracing.models import Generation
from tracing.otlp import SpanRecord
from tracing.pricing import PriceBook
from tracing.rollups.rebuild import rebuild
from tracing.traces.linkage import Link

START_NS = 1_700_000_000_000_000_000  # the spans' start (tests.otlp_requests.record)
STARTED = datetime.fromtimestamp(START_NS / 1e9, UTC)
WINDOW = {"start": STARTED - timedelta(minutes=1), "end": STARTED + timedelta(hours=1)}
NONE = {"promptlane.prompt.name": None, "promptlane.prompt.version": None}
NONE |= {"promptlane.prompt.label": None}
OWN = Link("support/triage", 2, "production")  # what genai() carries


def twin(response_id: str, *, parent: SpanRecord | None = None, **attributes: Any) -> SpanRecord:
    span = record(genai(**{"gen_ai.response.id": response_id, **attributes}))
    if parent is None:
        return span
    return dataclasses.replace(span, trace_id=parent.trace_id, parent_span_id=parent.span_id)


def gateway(response_id: str | None, **overrides: Any) -> dict[str, Any]:
    unlinked = {"prompt_name": None, "prompt_version": None, "prompt_label": None}
    unlinked |= {"content_hash": None}
    return generation_row(response_id=response_id, started_at=STARTED, **(unlinked | overrides))


async def ingest_batch(session: AsyncSession, *spans: SpanRecord) -> ingest.IngestResult:
    return await ingest.ingest_spans(session, spans, prices=PriceBook(loader=lambda: None))


async def store_gateway(session: AsyncSession, *rows: dict[str, Any]) -> None:
    inserted = await insert_rows(session, rows)
    assert len(inserted.stored) == len(rows)


async def gateway_link(session: AsyncSession, response_id: str) -> Link | None:
    (row,) = await session.scalars(
        select(Generation).where(
            Generation.response_id == response_id, Generation.source == "gateway"
        )
    )
    return Link.of_columns(row.model_dump())


async def by_prompt(session: AsyncSession) -> list[tuple[str | None, int | None, int]]:
    """Return the calls per prompt version from the rollups, checked against a rebuild."""
    report = await analytics.usage(session, group_by=["prompt", "version"], **WINDOW)
    rows = sorted(((r.prompt, r.version, r.calls) for r in report.rows), key=repr)
    await rebuild(session)
    rebuilt = await analytics.usage(session, group_by=["prompt", "version"], **WINDOW)
    assert sorted(((r.prompt, r.version, r.calls) for r in rebuilt.rows), key=repr) == rows
    return rows


async def test_a_gateway_row_stored_after_its_twin_takes_its_link(session: AsyncSession) -> None:
    rid = dedupe.gateway_response_id()
    await ingest_batch(session, twin(rid))
    await store_gateway(session, gateway(rid))
    assert await gateway_link(session, rid) == OWN
    assert await by_prompt(session) == [("support/triage", 2, 1)]  # the call, counted once


async def test_a_twin_stored_after_its_gateway_row_gives_it_its_link(
    session: AsyncSession,
) -> None:
    rid = dedupe.gateway_response_id()
    await store_gateway(session, gateway(rid))
    assert await by_prompt(session) == [(None, None, 1)]
    span = twin(rid)
    result = await ingest_batch(session, span)
    (change,) = result.calls_linked
    assert Link.of_columns(change.before) is None
    assert Link.of_columns(change.after) == OWN
    assert change.after["source"] == "gateway"
    assert await gateway_link(session, rid) == OWN
    assert await by_prompt(session) == [("support/triage", 2, 1)]  # moved, not added
    again = await ingest_batch(session, span)  # a resent twin changes nothing
    assert (again.stored, again.calls_linked) == (0, [])
    assert await by_prompt(session) == [("support/triage", 2, 1)]


async def test_a_twin_linked_by_a_late_ancestor_gives_the_link(session: AsyncSession) -> None:
    rid = dedupe.gateway_response_id()
    parent = record({"promptlane.prompt.name": "outer", "promptlane.prompt.version": 7})
    child = twin(rid, parent=parent, **NONE)
    await ingest_batch(session, child)
    await store_gateway(session, gateway(rid))
    assert await gateway_link(session, rid) is None  # its twin has no link yet
    result = await ingest_batch(session, parent)
    assert [Link.of_columns(c.after) for c in result.relinked] == [Link("outer", 7)]
    assert [Link.of_columns(c.after) for c in result.calls_linked] == [Link("outer", 7)]
    assert await gateway_link(session, rid) == Link("outer", 7)
    assert await by_prompt(session) == [("outer", 7, 1)]
    again = await ingest_batch(session, parent)
    assert (again.relinked, again.calls_linked) == ([], [])


async def test_a_linked_gateway_row_keeps_its_link(session: AsyncSession) -> None:
    first, second = dedupe.gateway_response_id(), dedupe.gateway_response_id()
    own = {"prompt_name": "gw", "prompt_version": 3, "prompt_label": "staging"}
    await store_gateway(session, gateway(first, **own))
    result = await ingest_batch(session, twin(first))  # gateway first
    assert result.calls_linked == []
    await ingest_batch(session, twin(second))
    await store_gateway(session, gateway(second, **own))  # twin first
    assert await gateway_link(session, first) == await gateway_link(session, second)
    assert await gateway_link(session, first) == Link("gw", 3, "staging")
    assert await by_prompt(session) == [("gw", 3, 2)]
    run_linked = dedupe.gateway_response_id()
    await store_gateway(session, gateway(run_linked, run_id=5))
    assert (await ingest_batch(session, twin(run_linked))).calls_linked == []
    assert await gateway_link(session, run_linked) == Link(run_id=5)


async def test_only_a_linked_twin_of_that_response_id_gives_a_link(
    session: AsyncSession,
) -> None:
    unlinked, other, counterfeit = (dedupe.gateway_response_id() for _ in range(3))
    await ingest_batch(session, twin(unlinked, **NONE), twin(other))
    # A linked row with the call's id that is not its twin (not marked a duplicate).
    fake = generation_row(source="ingest", response_id=counterfeit, started_at=STARTED)
    await store_gateway(session, fake)
    await store_gateway(session, gateway(unlinked), gateway(counterfeit), gateway(None))
    assert await gateway_link(session, unlinked) is None
    assert await gateway_link(session, counterfeit) is None
    assert await by_prompt(session) == [("support/triage", 1, 1), (None, None, 3)]
    late = dedupe.gateway_response_id()
    await store_gateway(session, gateway(late))
    result = await ingest_batch(session, twin(unlinked, **NONE), twin(other, parent=twin(late)))
    assert result.calls_linked == []  # a resent unlinked twin; a linked twin of another call
    assert await gateway_link(session, late) is None


async def test_of_several_twins_the_first_stored_linked_one_gives_the_link(
    session: AsyncSession,
) -> None:
    rid = dedupe.gateway_response_id()
    await ingest_batch(session, twin(rid, **NONE))
    await ingest_batch(session, twin(rid, **NONE | {"promptlane.prompt.name": "a"}))
    await ingest_batch(session, twin(rid, **NONE | {"promptlane.prompt.name": "b"}))
    await store_gateway(session, gateway(rid))
    assert await gateway_link(session, rid) == Link("a")
    rid = dedupe.gateway_response_id()
    await store_gateway(session, gateway(rid))
    result = await ingest_batch(session, twin(rid, **NONE), twin(rid))
    assert len(result.calls_linked) == 1
    assert await gateway_link(session, rid) == OWN
    await ingest_batch(session, twin(rid, **NONE | {"promptlane.prompt.name": "later"}))
    assert await gateway_link(session, rid) == OWN  # linked by its first twin: kept


async def _advisory_waiters(db: Database) -> int:
    async with db.reader() as s:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return int(await s.scalar(sa.text(query)) or 0)


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one writer: nothing races")
@pytest.mark.parametrize("first", ["twin", "gateway"])
async def test_a_twin_and_its_gateway_row_stored_at_once_are_linked(
    databases: DatabaseFactory, first: str
) -> None:
    rid = dedupe.gateway_response_id()
    store: dict[str, Callable[[AsyncSession], Awaitable[Any]]] = {
        "twin": lambda s: ingest_batch(s, twin(rid)),
        "gateway": lambda s: store_gateway(s, gateway(rid)),
    }
    second = "gateway" if first == "twin" else "twin"
    db = Database.from_url(databases.create())
    try:
        async with db.transaction() as s:
            await store[first](s)  # not committed yet: the other cannot see it...

            async def other() -> None:
                async with db.transaction() as t:
                    await store[second](t)

            task = asyncio.create_task(other())
            while await _advisory_waiters(db) == 0:  # ...so it waits for this one's commit
                assert not task.done(), task.result()
                await asyncio.sleep(0.01)
        await asyncio.wait_for(task, timeout=60)  # a bound against a hang only
        async with db.writer() as s:  # by_prompt rebuilds the rollups: rolled back
            assert await gateway_link(s, rid) == OWN
            assert await by_prompt(s) == [("support/triage", 2, 1)]
    finally:
        await db.dispose()
