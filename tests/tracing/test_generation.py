"""GenerationRow, the one constructor of generation rows: the table's columns, nothing shared."""

from __future__ import annotations

from datetime import UTC, datetime

from tracing.generation import GenerationRow
from tracing.models import Generation

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def bare() -> GenerationRow:
    return GenerationRow(
        trace_id="a" * 32,
        span_id="b" * 16,
        source="ingest",
        started_at=NOW,
        created_at=NOW,
        finish_reasons=[],
        scores={},
        safety_flags=[],
        attributes={},
    )


def test_its_fields_are_the_tables_columns_but_the_id() -> None:
    columns = set(Generation.__table__.columns.keys())  # type: ignore[attr-defined]
    assert set(GenerationRow._fields) == columns - {"id"}
    assert set(bare().as_insert()) == columns - {"id"}


def test_a_row_as_inserted_is_a_new_dict_with_the_defaults() -> None:
    row = bare()
    inserted = row.as_insert()
    assert inserted is not row.as_insert()
    assert inserted["is_error"] is False
    assert inserted["online_eval"] is None
    assert [k for k, v in inserted.items() if v is not None] == [
        "trace_id",
        "span_id",
        "source",
        "started_at",
        "created_at",
        "finish_reasons",
        "scores",
        "safety_flags",
        "attributes",
        "is_error",
        "is_duplicate",
    ]
    inserted["scores"]["q"] = 1.0  # the caller's to change: rows share no list or dict
    assert bare().scores == {}
