"""The one generation row normaliser: what a database would refuse is made storable."""

from __future__ import annotations

import copy
import json
import math
from typing import Any, cast

import sqlalchemy as sa

from tests.factories import generation_row
from tracing import normalise
from tracing.models import Generation
from tracing.normalise import normalise_row

TABLE = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
INT32 = (-(2**31), 2**31 - 1)


def string_columns() -> dict[str, int | None]:
    return {
        c.name: c.type.length
        for c in TABLE.columns
        if isinstance(c.type, sa.String) and not isinstance(c.type, sa.Enum)
    }


def assert_storable(value: Any) -> None:
    """Fail if PostgreSQL would refuse `value` in a text or JSONB column."""
    text = json.dumps(value, default=str, allow_nan=False)
    assert "\x00" not in text, text
    assert "\\u0000" not in text, text


def test_every_string_column_is_cut_to_its_declared_length_without_nul() -> None:
    hostile = dict.fromkeys(string_columns(), "\x00a" + "x" * 6000)
    row = normalise_row(generation_row(**hostile))
    for name, length in string_columns().items():
        assert "\x00" not in row[name]
        expected = "a" + "x" * 6000
        assert row[name] == (expected[:length] if length else expected), name
    assert len(row["request_model"]) == 200
    assert len(row["output_text"]) == 6001  # Text: no declared length, nothing cut


def test_integers_are_clamped_to_their_column_range() -> None:
    row = normalise_row(
        generation_row(input_tokens=2**40, output_tokens=-(2**70), prompt_version=2**31, run_id=7)
    )
    assert (row["input_tokens"], row["output_tokens"]) == (INT32[1], INT32[0])
    assert (row["prompt_version"], row["run_id"]) == (INT32[1], 7)
    assert row["is_error"] is False  # a bool is no integer to clamp


def test_ranges_and_lengths_come_from_the_table_metadata() -> None:
    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("big", sa.BigInteger),
        sa.Column("small", sa.SmallInteger),
        sa.Column("code", sa.String(3)),
        sa.Column("ratio", sa.Float, nullable=False),
    )
    columns = normalise.columns_of(table)
    hostile = {"big": 2**80, "small": -(2**20), "code": "abcd", "ratio": -math.inf}
    row = normalise_row(hostile, columns)
    assert row == {"big": 2**63 - 1, "small": -(2**15), "code": "abc", "ratio": 0.0}


def test_non_finite_floats_become_null() -> None:
    row = normalise_row(
        generation_row(cost_usd=math.nan, duration_ms=math.inf, scores={"faithfulness": math.nan})
    )
    assert (row["cost_usd"], row["duration_ms"]) == (None, None)
    assert normalise_row(generation_row(cost_usd=10**400))["cost_usd"] is None
    assert normalise_row(generation_row(cost_usd=10**30))["cost_usd"] == 10**30
    assert row["scores"] == {"faithfulness": None}


def test_json_columns_lose_nul_and_nan_at_every_depth_keys_included() -> None:
    attributes = {
        "a\x00": "b\x00",
        "nested": {"list": [1, "x\x00", {"k\x00": math.inf}], "t": ("y\x00",)},
        "big": 2**62,
        "ok": True,
        5: "int key",
    }
    messages = [{"role": "user", "content": "hi\x00", "parts": [{"text": "\x00"}]}]
    row = normalise_row(
        generation_row(
            attributes=attributes,
            input_messages=messages,
            finish_reasons=["stop\x00"],
            safety_flags=["pii\x00"],
        )
    )
    assert row["attributes"] == {
        "a": "b",
        "nested": {"list": [1, "x", {"k": None}], "t": ["y"]},
        "big": 2**62,
        "ok": True,
        "5": "int key",
    }
    assert row["input_messages"] == [{"role": "user", "content": "hi", "parts": [{"text": ""}]}]
    assert (row["finish_reasons"], row["safety_flags"]) == (["stop"], ["pii"])
    for column in ("attributes", "input_messages", "finish_reasons", "safety_flags", "scores"):
        assert_storable(row[column])


def test_json_deeper_than_the_limit_is_cut() -> None:
    deep: Any = "bottom"
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    row = normalise_row(generation_row(attributes={"deep": deep}))
    depth, value = 0, row["attributes"]["deep"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert value is None
    assert depth < normalise.MAX_JSON_DEPTH
    json.dumps(row["attributes"])


def test_other_values_in_text_and_json_become_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd\x00"

    row = normalise_row(generation_row(provider=12, attributes={"o": Odd()}))
    assert (row["provider"], row["attributes"]) == ("12", {"o": "odd"})


def test_the_input_is_left_alone_and_a_clean_row_comes_back_equal() -> None:
    clean = generation_row(attributes={"k": [1, 2.5, "v"]}, scores={"s": 0.5})
    hostile = generation_row(
        request_model="m\x00" * 300, cost_usd=math.nan, attributes={"k\x00": "v\x00"}
    )
    before = copy.deepcopy(hostile)
    assert normalise_row(clean) == clean
    normalise_row(hostile)
    assert repr(hostile) == repr(before)  # repr: NaN != NaN


def test_columns_a_row_lacks_are_not_added() -> None:
    assert normalise_row({"request_model": "m\x00"}) == {"request_model": "m"}
