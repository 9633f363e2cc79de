"""Linkage rules: the conventions a prompt link is read from, and the nearest-ancestor rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracing.traces.linkage import Link, Node, link_of, nearest, parse_ref

OWN = {
    "promptlane.prompt.name": "support/triage",
    "promptlane.prompt.version": 3,
    "promptlane.prompt.label": "production",
    "promptlane.prompt.content_hash": "ab" * 32,
}
FULL = Link("support/triage", 3, "production", "ab" * 32)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (OWN, FULL),
        ({"traceloop.association.properties." + k: v for k, v in OWN.items()}, FULL),
        ({"metadata": json.dumps(OWN)}, FULL),
        ({"metadata": OWN}, FULL),  # a kvlist value arrives as a dict
        ({"llm.prompt_template.version": "support/triage@3"}, Link("support/triage", 3)),
        (
            {"llm.prompt_template.version": "support/triage@production"},
            Link("support/triage", prompt_label="production"),
        ),
        ({"gen_ai.prompt.name": "support/triage"}, Link("support/triage")),
        ({"promptlane.run.id": 7}, Link(run_id=7)),
        ({"promptlane.prompt.version": "3"}, None),  # a version names no prompt
        ({"llm.prompt_template.version": "3"}, None),
        ({"llm.prompt_template.version": "v1.2"}, None),
        ({"llm.prompt_template.version": "a@b@c"}, None),
        ({"llm.prompt_template.version": "support/triage@3\n"}, Link("support/triage", 3)),
        ({"metadata": '{"user": "x"}'}, None),
        ({"metadata": "{not json promptlane."}, None),
        ({"metadata": '["promptlane."]'}, None),
        ({"gen_ai.prompt.name": ""}, None),
        ({}, None),
    ],
)
def test_link_of_reads_each_convention(attributes: dict[str, Any], expected: Link | None) -> None:
    assert link_of(attributes) == expected


def test_the_first_convention_wins_whole() -> None:
    attributes = {
        "promptlane.prompt.name": "a",
        "metadata": json.dumps({"promptlane.prompt.name": "b", "promptlane.prompt.version": 2}),
        "llm.prompt_template.version": "c@4",
    }
    assert link_of(attributes) == Link("a")  # no version borrowed from another convention


@pytest.mark.parametrize(
    "value",
    [0, -1, 2**31, "0", "99999999999", True, 1.5, None, [], "x"],
)
def test_out_of_range_versions_are_dropped(value: Any) -> None:
    link = link_of({"promptlane.prompt.name": "p", "promptlane.prompt.version": value})
    assert link == Link("p")


def test_hostile_text_is_cut_and_cleaned() -> None:
    link = link_of({"promptlane.prompt.name": "n\x00" + "x" * 500, "promptlane.prompt.label": 5})
    assert link is not None
    assert link.prompt_name == "n" + "x" * 199
    assert link.prompt_label == "5"
    assert link_of({"promptlane.prompt.name": "\x00 "}) is None


def test_parse_ref_needs_a_name_and_a_version_or_label() -> None:
    assert parse_ref("p@12") == Link("p", 12)
    assert parse_ref("p@99999999999") is None
    assert parse_ref("@3") is None
    assert parse_ref(3) is None


def test_columns_round_trip() -> None:
    assert Link.of_columns(FULL.columns()) == FULL
    assert Link.of_columns(Link().columns()) is None


T = "t" * 32
LINK = Link("p", 1)


def test_nearest_takes_the_own_link_first_then_the_closest_ancestor() -> None:
    nodes = {
        (T, "root"): Node(None, Link("p", 9)),
        (T, "agent"): Node("root", LINK),
        (T, "tool"): Node("agent", None),
        (T, "llm"): Node("tool", None),
        (T, "own"): Node("tool", Link("q", 2)),
    }
    assert nearest((T, "llm"), nodes) == (LINK, None)
    assert nearest((T, "own"), nodes) == (Link("q", 2), None)
    assert nearest((T, "root"), nodes) == (Link("p", 9), None)


def test_nearest_reports_the_first_missing_ancestor() -> None:
    nodes = {(T, "llm"): Node("tool", None), (T, "tool"): Node("gone", None)}
    assert nearest((T, "llm"), nodes) == (None, (T, "gone"))
    assert nearest((T, "tool"), {(T, "tool"): Node(None, None)}) == (None, None)


def test_nearest_ends_on_a_cycle() -> None:
    nodes = {(T, "a"): Node("b", None), (T, "b"): Node("a", None)}
    assert nearest((T, "a"), nodes) == (None, None)
