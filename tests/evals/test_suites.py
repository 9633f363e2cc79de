"""Suites as code: parsing, defaults, and errors that point at the offending field."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from evals.datasets.service import publish_dataset_version
from evals.errors import InvalidSuiteError, SuiteNotFoundError
from evals.reports import Aggregate
from evals.schemas import DatasetVersionCreate
from evals.suites import (
    MAX_SUITE_BYTES,
    MAX_SUITE_VALUES,
    list_suite_versions,
    list_suites,
    parse_suite,
    publish_suite,
    read_suite_version,
    validate_suite,
)

VALID = """\
name: support/triage
description: Ticket triage quality
dataset: tickets
scorers:
  - {name: correct, type: exact_match, params: {normalize: [case]}}
  - type: pii
gates:
  - {metric: correct, op: ">=", value: 0.9}
  - {metric: "*", aggregate: error_rate, op: "<=", value: 0.05}
"""


async def push_tickets(session: AsyncSession, tag: str = "") -> int:
    """Publish a version of the `tickets` dataset; return its number."""
    items = [{"input": {"ticket": f"refund{tag}"}, "expected": "billing"}]
    data = DatasetVersionCreate.model_validate({"items": items})
    stored, _ = await publish_dataset_version(session, name="tickets", data=data, author="ana")
    return stored.version


@pytest.fixture
async def tickets(session: AsyncSession) -> int:
    """The dataset every suite here names (a suite pins its dataset when pushed)."""
    return await push_tickets(session)


def suite(**overrides: Any) -> dict[str, Any]:
    """Return a valid suite in its JSON form, with top-level overrides."""
    body: dict[str, Any] = {
        "name": "triage",
        "dataset": "tickets",
        "scorers": [{"name": "correct", "type": "exact_match"}],
    }
    body.update(overrides)
    return body


def problems(raw: dict[str, Any]) -> list[str]:
    """Return the pointers of the problems validating `raw` raises."""
    with pytest.raises(InvalidSuiteError) as caught:
        validate_suite(raw)
    assert caught.value.detail.startswith(caught.value.errors[0].pointer)
    return [p.pointer for p in caught.value.errors]


def test_valid_yaml_parses_with_defaults() -> None:
    spec = parse_suite(VALID)
    assert spec.name == "support/triage"
    assert spec.description == "Ticket triage quality"
    assert (spec.dataset.name, spec.dataset.version) == ("tickets", None)
    assert [(s.name, s.type) for s in spec.scorers] == [("correct", "exact_match"), ("pii", "pii")]
    assert spec.scorers[0].params == {"normalize": ["case"]}
    assert spec.gates[0].aggregate is Aggregate.MEAN  # the default aggregate
    assert spec.gates[1].aggregate is Aggregate.ERROR_RATE
    assert spec.baseline is None
    assert (spec.repeats, spec.concurrency, spec.timeout_seconds, spec.cache) == (1, 8, 60.0, False)


def test_a_suite_states_the_side_each_safety_scorer_reads() -> None:
    spec = parse_suite(
        VALID.replace(
            "  - type: pii\n",
            "  - type: pii\n  - {name: inj, type: prompt_injection}\n"
            "  - {name: inputs, type: pii, params: {scan: [input]}}\n",
        )
    )
    params = {s.name: s.params for s in spec.scorers}
    assert params["pii"] == {"scan": ["output"]}  # the default, written in
    assert params["inj"]["scan"] == ["output", "input"]
    assert params["inputs"] == {"scan": ["input"]}  # as given
    assert params["correct"] == {"normalize": ["case"]}  # no scan param: untouched


def test_json_is_yaml_and_parses_alike() -> None:
    assert parse_suite(json.dumps(suite())) == validate_suite(suite())
    assert parse_suite(json.dumps(suite()).encode()) == validate_suite(suite())


def test_dataset_shorthand_pins_a_version() -> None:
    pinned = parse_suite(VALID.replace("dataset: tickets", "dataset: tickets@3"))
    assert (pinned.dataset.name, pinned.dataset.version) == ("tickets", 3)
    mapping = validate_suite(suite(dataset={"name": "team/tickets", "version": 2}))
    assert (mapping.dataset.name, mapping.dataset.version) == ("team/tickets", 2)


def test_yaml_syntax_error_names_line_and_column() -> None:
    text = "name: triage\ndataset: tickets\nscorers: [{type: exact_match}\ngates: []\n"
    with pytest.raises(InvalidSuiteError) as caught:
        parse_suite(text)
    assert "not valid YAML" in caught.value.detail
    assert "line 4, column" in caught.value.detail


@pytest.mark.parametrize("text", ["- a list\n- of things\n", "just a string\n", ""])
def test_a_suite_must_be_a_mapping(text: str) -> None:
    with pytest.raises(InvalidSuiteError, match="must be a mapping"):
        parse_suite(text)


INVALID: list[tuple[str, dict[str, Any], list[str], str]] = [
    (
        "unknown gate metric",
        suite(gates=[{"metric": "corect", "value": 0.9}]),
        ["#/gates/0/metric"],
        "'corect' is not a scorer of this suite",
    ),
    (
        "unknown scorer type",
        suite(scorers=[{"type": "exact_matsch"}]),
        ["#/scorers/0/type"],
        "unknown scorer type 'exact_matsch'",
    ),
    (
        "bad regex",
        suite(
            scorers=[
                {"name": "correct", "type": "exact_match"},
                {"name": "shape", "type": "regex", "params": {"pattern": "(unclosed"}},
            ]
        ),
        ["#/scorers/1/params/pattern"],
        "invalid regular expression",
    ),
    (
        "unknown scorer parameter",
        suite(scorers=[{"type": "exact_match", "params": {"normalise": ["case"]}}]),
        ["#/scorers/0/params/normalise"],
        "Extra inputs are not permitted",
    ),
    (
        "duplicate scorer names",
        suite(scorers=[{"type": "exact_match"}, {"type": "exact_match"}]),
        ["#/scorers/1/name"],
        "scorer names must be unique; repeated: exact_match",
    ),
    (
        "bad dataset name",
        suite(dataset="Bad Name"),
        ["#/dataset/name"],
        "invalid dataset name 'Bad Name'",
    ),
    (
        "non-numeric dataset version",
        suite(dataset="tickets@latest"),
        ["#/dataset/version"],
        "valid integer",
    ),
    ("dataset version zero", suite(dataset="tickets@0"), ["#/dataset/version"], "greater than"),
    (
        "baseline on an unknown metric",
        suite(baseline={"metric": "nope"}),
        ["#/baseline/metric"],
        "'nope' is not a scorer of this suite",
    ),
    ("bad suite name", suite(name="Triage!"), ["#/name"], "invalid suite name"),
    ("no scorers", suite(scorers=[]), ["#/scorers"], "at least 1"),
    ("unknown top-level field", suite(gate=[]), ["#/gate"], "Extra inputs"),
    ("repeats out of range", suite(repeats=0), ["#/repeats"], "greater than or equal to 1"),
    (
        "bad gate operator",
        suite(gates=[{"metric": "correct", "op": "=>", "value": 1}]),
        ["#/gates/0/op"],
        "Input should be '>='",
    ),
    (
        "bad scorer metric name",
        suite(scorers=[{"name": "Correct", "type": "exact_match"}]),
        ["#/scorers/0"],
        "invalid metric name 'Correct'",
    ),
]


@pytest.mark.parametrize(
    ("case", "raw", "pointers", "detail"), INVALID, ids=[case for case, *_ in INVALID]
)
def test_invalid_fields_point_at_themselves(
    case: str, raw: dict[str, Any], pointers: list[str], detail: str
) -> None:
    assert problems(raw) == pointers
    with pytest.raises(InvalidSuiteError, match=re.escape(detail)):
        parse_suite(json.dumps(raw))


def test_every_bad_scorer_is_reported_at_once() -> None:
    raw = suite(
        scorers=[
            {"type": "nope"},
            {"name": "ok", "type": "exact_match"},
            {"name": "shape", "type": "regex", "params": {"pattern": "["}},
        ]
    )
    assert problems(raw) == ["#/scorers/0/type", "#/scorers/2/params/pattern"]


def test_judge_reference_is_checked_when_parsing() -> None:
    raw = suite(scorers=[{"type": "llm_judge", "params": {"prompt": "Judges/X@production"}}])
    assert problems(raw) == ["#/scorers/0/params/prompt"]
    missing = suite(scorers=[{"type": "llm_judge"}])
    assert problems(missing) == ["#/scorers/0/params/prompt"]
    ok = validate_suite(suite(scorers=[{"type": "llm_judge", "params": {"prompt": "j/x:2"}}]))
    assert ok.scorers[0].params == {"prompt": "j/x:2"}


def test_oversized_suites_are_refused() -> None:
    with pytest.raises(InvalidSuiteError, match="larger than"):
        parse_suite("description: " + "x" * MAX_SUITE_BYTES)


def test_alias_bombs_are_refused_before_they_expand() -> None:
    # Each level repeats the previous one ten times: 10**5 values from a few hundred bytes.
    levels = ["a0: &a0 {type: string}"]
    levels += [f"a{i}: &a{i} {{anyOf: [{', '.join([f'*a{i - 1}'] * 10)}]}}" for i in range(1, 6)]
    defs = "\n".join(f"          {line}" for line in levels)
    text = (
        "name: bomb\ndataset: d\nscorers:\n  - type: json_schema\n    params:\n"
        f"      schema:\n        type: object\n        $defs:\n{defs}\n"
    )
    assert len(text) < 1_000
    with pytest.raises(InvalidSuiteError, match=f"more than {MAX_SUITE_VALUES} values"):
        parse_suite(text)


async def test_publish_dedupes_by_content_and_versions_changes(
    session: AsyncSession, tickets: int
) -> None:
    spec = parse_suite(VALID)
    first, created = await publish_suite(session, spec=spec, author="ana")
    assert (first.version, created, first.author) == (1, True, "ana")
    assert len(first.content_hash) == 64
    same, created = await publish_suite(session, spec=parse_suite(VALID), author="bo")
    assert (same.version, created, same.author) == (1, False, "ana")
    changed = parse_suite(VALID.replace("0.9", "0.95"))
    second, created = await publish_suite(session, spec=changed, author="bo")
    assert (second.version, created) == (2, True)
    assert second.content_hash != first.content_hash

    assert (await read_suite_version(session, name="support/triage")).version == 2
    assert (await read_suite_version(session, name="support/triage", version=1)).spec == spec
    versions = await list_suite_versions(session, name="support/triage")
    assert [v.version for v in versions] == [2, 1]
    page = await list_suites(session, query="triage")
    assert [(s.name, s.latest_version) for s in page.items] == [("support/triage", 2)]
    assert (await list_suites(session, query="nothing-like-it")).total == 0


async def test_unknown_suites_and_versions_are_not_found(
    session: AsyncSession, tickets: int
) -> None:
    with pytest.raises(SuiteNotFoundError, match="promptlane suites push"):
        await read_suite_version(session, name="missing")
    await publish_suite(session, spec=validate_suite(suite()), author="ana")
    with pytest.raises(SuiteNotFoundError, match="no version 7"):
        await read_suite_version(session, name="triage", version=7)


async def test_a_suite_version_pins_the_current_dataset_version_when_pushed(
    session: AsyncSession, tickets: int
) -> None:
    first, _ = await publish_suite(session, spec=parse_suite(VALID), author="ana")
    assert (first.dataset_version, first.is_current) == (1, True)
    # A new dataset version does not change what suite v1 measures ...
    assert await push_tickets(session, tag=" v2") == 2
    assert (
        await read_suite_version(session, name="support/triage", version=1)
    ).dataset_version == 1
    # ... pushing the same YAML again pins the new one, as a new suite version.
    second, created = await publish_suite(session, spec=parse_suite(VALID), author="ana")
    assert (second.version, second.dataset_version, created) == (2, 2, True)
    assert second.content_hash != first.content_hash


async def test_repushing_older_content_makes_that_version_current_again(
    session: AsyncSession, tickets: int
) -> None:
    strict, _ = await publish_suite(session, spec=parse_suite(VALID), author="ana")
    weak = parse_suite(VALID.replace("value: 0.9", "value: 0.1"))
    weakened, _ = await publish_suite(session, spec=weak, author="mallory")
    assert (await read_suite_version(session, name="support/triage")).version == weakened.version
    again, created = await publish_suite(session, spec=parse_suite(VALID), author="ci")
    assert (again.version, created, again.is_current) == (strict.version, False, True)
    current = await read_suite_version(session, name="support/triage")
    assert current.version == strict.version
    listed = (await list_suites(session, query="triage")).items[0]
    assert (listed.latest_version, listed.current_version) == (2, 1)


async def test_a_named_dataset_version_is_pinned_whatever_is_current(
    session: AsyncSession, tickets: int
) -> None:
    await push_tickets(session, tag=" v2")
    pinned, _ = await publish_suite(
        session, spec=validate_suite(suite(dataset="tickets@1")), author="ana"
    )
    assert pinned.dataset_version == 1
    with pytest.raises(InvalidSuiteError, match="no version 9"):
        await publish_suite(session, spec=validate_suite(suite(dataset="tickets@9")), author="a")


async def test_a_suite_needs_its_dataset_to_exist(session: AsyncSession) -> None:
    with pytest.raises(InvalidSuiteError, match="does not exist: push it first") as caught:
        await publish_suite(session, spec=validate_suite(suite(dataset="nope")), author="ana")
    assert caught.value.errors[0].pointer == "#/dataset"
