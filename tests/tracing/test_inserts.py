"""The one generations INSERT: rows normalised, a failing batch split so only bad rows drop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tests.factories import generation_row
from tests.tracing.test_metrics import sample
from tracing import inserts
from tracing.metrics import Metrics
from tracing.models import Generation


class CharacterNotInRepertoireError(Exception):
    """Stands for the driver's error (what psycopg raises for a NUL)."""


class FakeInsert:
    """Inserts integers, refusing the `bad` ones as a database refuses a bad row."""

    def __init__(self, *bad: int, error: type[sa.exc.DBAPIError] = sa.exc.DataError) -> None:
        self.bad = set(bad)
        self.error = error
        self.calls: list[list[int]] = []
        self.landed: list[int] = []

    async def __call__(self, rows: Sequence[int]) -> list[int]:
        self.calls.append(list(rows))
        if self.bad.intersection(rows):
            raise self.error("INSERT", {}, CharacterNotInRepertoireError("bad row"))
        self.landed.extend(rows)
        return [row * 10 for row in rows]


async def test_a_batch_is_inserted_whole_when_it_can_be() -> None:
    insert = FakeInsert()
    returned, refused = await inserts.isolate(list(range(8)), insert)
    assert (returned, refused, insert.calls) == ([r * 10 for r in range(8)], [], [list(range(8))])


@pytest.mark.parametrize("bad", [(0,), (5,), (7,), (2, 3), (0, 7), (1, 4, 6)])
async def test_only_the_failing_rows_are_dropped(bad: tuple[int, ...]) -> None:
    rows = list(range(8))
    insert = FakeInsert(*bad)
    returned, refused = await inserts.isolate(rows, insert)
    good = [r for r in rows if r not in bad]
    assert sorted(insert.landed) == good
    assert sorted(returned) == [r * 10 for r in good]
    assert refused == [(r, "CharacterNotInRepertoireError") for r in bad]
    # Halving: a handful of attempts per bad row, not one per row.
    assert len(insert.calls) <= 1 + 2 * len(bad) * 3


async def test_a_connection_error_is_not_split_but_raised() -> None:
    insert = FakeInsert(3, error=sa.exc.OperationalError)
    with pytest.raises(sa.exc.OperationalError):
        await inserts.isolate(list(range(8)), insert)
    assert insert.calls == [list(range(8))]


async def stored(session: AsyncSession) -> list[Generation]:
    return list(await session.scalars(select(Generation).order_by(col(Generation.id))))


async def test_hostile_rows_are_stored_normalised_on_every_database(
    session: AsyncSession,
) -> None:
    hostile = generation_row(
        trace_id="a" * 32 + "\x00" + "b" * 10,
        service_name="svc\x00" + "s" * 400,
        request_model="m\x00" * 300,
        error_type="E" * 5000,
        input_tokens=2**62,
        prompt_version=2**31,
        cost_usd=math.nan,
        duration_ms=-math.inf,
        input_messages=[{"role": "user\x00", "content": "hi\x00", "n": math.nan}],
        output_text="out\x00put",
        scores={"s\x00": math.inf, "ok": 0.5},
        attributes={"k\x00": ["v\x00", math.nan, {"deep\x00": "x\x00"}], "big": 2**62},
    )
    normal = generation_row()
    inserted = await inserts.insert_rows(session, [hostile, normal])
    assert inserted.dropped == []
    first, second = await stored(session)
    assert [(row["span_id"], id_) for row, id_ in inserted.stored] == [
        (first.span_id, first.id),
        (second.span_id, second.id),
    ]
    assert first.trace_id == "a" * 32
    assert first.service_name == "svc" + "s" * 197
    assert first.request_model == "m" * 200
    assert first.error_type == "E" * 200
    assert (first.input_tokens, first.prompt_version) == (2**31 - 1, 2**31 - 1)
    assert (first.cost_usd, first.duration_ms) == (None, None)
    assert first.input_messages == [{"role": "user", "content": "hi", "n": None}]
    assert first.output_text == "output"
    assert first.scores == {"s": None, "ok": 0.5}
    assert first.attributes == {"k": ["v", None, {"deep": "x"}], "big": 2**62}
    assert second.request_model == "gpt-4o-mini"


async def test_a_row_that_cannot_be_stored_is_dropped_alone(session: AsyncSession) -> None:
    rows = [generation_row() for _ in range(6)]
    rows[1]["trace_id"] = None  # NOT NULL
    rows[4]["started_at"] = datetime(2026, 1, 1)  # naive: the column refuses it
    inserted = await inserts.insert_rows(session, rows)
    kept = [rows[i]["span_id"] for i in (0, 2, 3, 5)]
    assert [row["span_id"] for row, _ in inserted.stored] == kept
    assert inserted.dropped == [
        inserts.Dropped("gateway", "IntegrityError" if _sqlite(session) else "NotNullViolation"),
        inserts.Dropped("gateway", "ValueError"),
    ]
    # The transaction is still usable (PostgreSQL aborts it on an error outside a savepoint).
    assert [g.span_id for g in await stored(session)] == kept


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def test_duplicates_are_stored_once_and_reported_once(session: AsyncSession) -> None:
    first = generation_row()
    inserted = await inserts.insert_rows(session, [first, dict(first), generation_row()])
    assert len(inserted.stored) == 2
    again = await inserts.insert_rows(session, [dict(first)])
    assert (again.stored, again.dropped) == ([], [])


def test_dropped_rows_are_counted_by_source_and_reason() -> None:
    metrics = Metrics()
    dropped = [inserts.Dropped("ingest", "DataError")] * 2 + [inserts.Dropped("run", "ValueError")]
    inserts.count_dropped(metrics, dropped)
    text = metrics.exposition().decode()
    name = "promptlane_generations_dropped_total"
    assert sample(text, name, source="ingest", reason="DataError") == 2
    assert sample(text, name, source="run", reason="ValueError") == 1
