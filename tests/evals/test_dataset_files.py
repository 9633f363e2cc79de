"""Dataset files: JSON, JSONL and CSV parsing, every bad item named, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evals.datasets import service as datasets
from evals.datasets.files import DatasetLimits
from evals.errors import InvalidDatasetError
from tests.evals.dataset_support import rows


def invalid(data: bytes | str, fmt: datasets.Format, **kw: Any) -> InvalidDatasetError:
    with pytest.raises(InvalidDatasetError) as caught:
        datasets.parse_items(data, fmt=fmt, **kw)
    return caught.value


def pointers(error: InvalidDatasetError) -> list[str]:
    return [p.pointer for p in error.errors]


# --- parsing -------------------------------------------------------------------------------


def test_json_list_and_items_object() -> None:
    items = rows(2, contexts=["ctx"], metadata={"id": "a"})
    as_list = datasets.parse_items(json.dumps(items), fmt="json")
    as_object = datasets.parse_items(json.dumps({"items": items}).encode(), fmt="json")
    assert as_list == as_object
    assert as_list[0].input == {"q": "question 0"}
    assert as_list[1].contexts == ["ctx"]
    assert as_list[1].metadata == {"id": "a"}


def test_json_reports_every_bad_item_with_pointers() -> None:
    data = [{"input": {"a": 1}}, {"input": 3}, 5, {"bad": 1, "contexts": "x"}]
    error = invalid(json.dumps({"items": data}), "json")
    assert error.detail == "3 bad items at indexes 1, 2, 3; nothing was stored"
    assert pointers(error) == [
        "#/items/1/input",
        "#/items/2",
        "#/items/3/contexts",
        "#/items/3/bad",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, ", "not valid JSON at line 1"),
        ('{"rows": []}', "expected a JSON list of items"),
        ("[]", "no items"),
        ('[{"expected": NaN}]', "NaN is not valid JSON"),
        ('[{"expected": 1e400}]', "1e400 is out of the range of a float"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_json_documents_that_are_not_datasets(text: str, message: str) -> None:
    assert message in invalid(text, "json").detail


def test_jsonl_skips_blank_lines_and_names_every_bad_line() -> None:
    lines = [
        json.dumps({"input": {"a": 1}}),
        "",
        json.dumps({"input": [1]}),
        "not json",
        "   ",
        '{"expected": NaN}',
        json.dumps({"input": {"b": 2}, "expected": {"x": [1, 2]}}),
        json.dumps(["a list"]),
    ]
    error = invalid("\r\n".join(lines), "jsonl")
    assert error.detail == "4 bad rows on lines 3, 4, 6, 8; nothing was stored"
    assert pointers(error) == ["line 3", "line 4", "line 6", "line 8"]
    assert error.errors[0].detail == "input: Input should be a valid dictionary"
    assert "column 1" in error.errors[1].detail
    good = datasets.parse_items("\n".join([lines[0], "", lines[6], ""]), fmt="jsonl")
    assert [i.input for i in good] == [{"a": 1}, {"b": 2}]
    assert good[1].expected == {"x": [1, 2]}


def test_jsonl_keeps_unicode_line_separators_inside_strings() -> None:
    text = json.dumps({"input": {"q": "a\u2028b\u0085c"}}, ensure_ascii=False)
    assert datasets.parse_items(text, fmt="jsonl")[0].input["q"] == "a\u2028b\u0085c"


def test_csv_columns() -> None:
    text = (
        "question,input.ctx,expected:json,contexts,metadata.id,metadata.tags:json\n"
        'q1,c1,"{""label"": 1}","[""p1"", ""p2""]",7,"[""a""]"\n'
        "\n"
        'q2,,"""plain text""",,x-2,\n'
        '"multi\nline",c3,42,[],,\n'
    )
    items = datasets.parse_items(text.encode("utf-8-sig"), fmt="csv")
    assert [i.model_dump() for i in items] == [
        {
            "input": {"question": "q1", "ctx": "c1"},
            "expected": {"label": 1},
            "contexts": ["p1", "p2"],
            "metadata": {"id": "7", "tags": ["a"]},
        },
        {
            "input": {"question": "q2", "ctx": ""},
            "expected": "plain text",
            "contexts": [],
            "metadata": {"id": "x-2"},
        },
        {
            "input": {"question": "multi\nline", "ctx": "c3"},
            "expected": 42,
            "contexts": [],
            "metadata": {},
        },
    ]


def test_csv_keeps_text_as_text_unless_a_column_is_typed() -> None:
    # "788" is an answer, not a number; true/null/{...} stay text too (issue 17, item 17).
    text = 'n,expected,metadata.flag,input.k:json\n788,788,true,"{""a"": [1]}"\n007,null,{},3\n'
    items = datasets.parse_items(text, fmt="csv")
    assert [(i.input, i.expected, i.metadata) for i in items] == [
        ({"n": "788", "k": {"a": [1]}}, "788", {"flag": "true"}),
        ({"n": "007", "k": 3}, "null", {"flag": "{}"}),
    ]


def test_csv_typed_cells_must_be_json() -> None:
    text = "q,expected:json,contexts\nok,1,[]\nbad,one,[]\nworse,2,not a list\n"
    error = invalid(text, "csv")
    assert error.detail == "2 bad rows on lines 3, 4; nothing was stored"
    assert [e.detail for e in error.errors] == [
        "column 'expected:json': the cell is not JSON",
        "column 'contexts': the cell is not a JSON list of strings",
    ]


def test_csv_names_every_bad_row_by_its_first_line() -> None:
    text = (
        'q,contexts\nok,\nbad,not a list\n"spans\ntwo lines",[1]\ntoo,many,cells\nfine,[]\nshort\n'
    )
    error = invalid(text, "csv")
    assert error.detail == "4 bad rows on lines 3, 4, 6, 8; nothing was stored"
    assert error.errors[0].detail == "column 'contexts': the cell is not a JSON list of strings"
    assert error.errors[1].detail == "contexts/0: Input should be a valid string"
    assert "3 cell(s), but the header has 2 column(s)" in error.errors[2].detail


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("q,q", "column 'q' appears twice"),
        ("q,input.q", "column 'input.q' appears twice"),
        ("input,expected", "column 'input' is ambiguous"),
        ("metadata", "column 'metadata' is ambiguous"),
        ("q,,expected", "a column has no name"),
        ("input.,x", "needs a name after the dot"),
        ("q,expected:int", "column 'expected:int': unknown type 'int' (the one type is :json)"),
        ("q,expected,expected:json", "column 'expected:json' appears twice"),
    ],
)
def test_csv_bad_headers(header: str, message: str) -> None:
    error = invalid(f"{header}\n1,2,3\n", "csv")
    assert message in error.detail
    assert pointers(error)[0] == "line 1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "no header row"),
        ("q\n\n\n", "no items"),
        ('q\n"unclosed\n', "bad CSV on line 2"),
        (b"q\nok\n\xff\n", "line 3 is not valid UTF-8"),
        (b"\xef\xbb\xbfq\nok\n\xff\n", "line 3 is not valid UTF-8"),
        ("q\nok\n" + "x" * 131_073 + "\n", "bad CSV on line 3: field larger than field limit"),
    ],
)
def test_csv_structural_errors(data: bytes | str, message: str) -> None:
    assert message in invalid(data, "csv").detail


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_nul_characters_are_refused_everywhere(fmt: datasets.Format) -> None:
    item = {"input": {"q": "a\u0000b"}}
    text = json.dumps([item]) if fmt == "json" else json.dumps(item)
    error = invalid(text, fmt)
    problem = error.errors[0]
    assert "input" in f"{problem.pointer} {problem.detail}"
    assert "contains the control character U+0000 at q" in problem.detail


def test_limits() -> None:
    limits = DatasetLimits(max_items=2, max_bytes=200, max_problems=3)
    three = "\n".join(json.dumps(r) for r in rows(3))
    too_many = invalid(three, "jsonl", limits=limits)
    assert too_many.detail == "more than 2 items"
    assert pointers(too_many) == ["line 3"]
    assert "more than 2 items" in invalid(json.dumps(rows(3)), "json", limits=limits).detail
    assert "more than 2 items" in invalid("q\n1\n2\n3\n", "csv", limits=limits).detail
    assert "larger than 200 bytes" in invalid("x" * 201, "csv", limits=limits).detail
    many_bad = invalid("1\n2\n3\n4\n5\n", "jsonl", limits=DatasetLimits(max_problems=3))
    assert many_bad.detail.startswith("5 bad rows on lines 1, 2, 3, 4, 5;")
    assert len(many_bad.errors) == 3


def test_long_line_lists_are_shortened_in_the_detail() -> None:
    error = invalid("\n".join(["1"] * 25), "jsonl")
    assert error.detail == (
        "25 bad rows on lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, "
        "19, 20 and 5 more; nothing was stored"
    )
    assert len(error.errors) == 25


def test_parse_version_takes_message_from_the_json_object_or_the_argument() -> None:
    body = json.dumps({"items": rows(1), "message": "from body", "description": "d"})
    parsed = datasets.parse_version(body, fmt="json", message="from query")
    assert (parsed.message, parsed.description) == ("from body", "d")
    listed = datasets.parse_version(json.dumps(rows(1)), fmt="json", message="from query")
    assert listed.message == "from query"
    with pytest.raises(InvalidDatasetError) as caught:
        datasets.parse_version(json.dumps({"items": rows(1), "extra": 1}), fmt="json")
    assert pointers(caught.value) == ["#/extra"]
