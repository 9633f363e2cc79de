"""Recorded calls into dataset items (evals.datasets.curation): filters, provenance, duplicates."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from evals.datasets import curation
from evals.datasets import service as datasets
from evals.datasets.files import DatasetLimits
from evals.errors import InvalidDatasetError
from evals.schemas import CurationCreate, CurationResult, DatasetVersionCreate
from prompts import service as prompts
from prompts.errors import ArchiveStateError
from tests.conftest import WRITER
from tests.factories import chat_version, generation, store_generations
from tracing.base import utc_now
from tracing.models import Generation

PROMPT = "support/triage"
DATASET = "support/from-prod"


def messages(company: str, ticket: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": f"You triage tickets for {company}."},
        {"role": "user", "content": ticket},
    ]


def call(ticket: str, *, answer: str | None = "billing", **overrides: Any) -> Generation:
    values: dict[str, Any] = {
        "source": "gateway",
        "prompt_name": PROMPT,
        "prompt_version": 1,
        "prompt_label": "production",
        "input_messages": messages("Acme", ticket),
        "output_text": answer,
    }
    values.update(overrides)
    return generation(**values)


async def store(session: AsyncSession, *rows: Generation) -> list[int]:
    await store_generations(session, *rows)
    return [row.id for row in rows if row.id is not None]


async def add(session: AsyncSession, name: str = DATASET, **selection: Any) -> CurationResult:
    chosen = CurationCreate.model_validate({"prompt": PROMPT, **selection})
    return await curation.add_from_generations(
        session, name=name, selection=chosen, author=WRITER.name
    )


async def items(session: AsyncSession, name: str = DATASET) -> list[Any]:
    found = await datasets.get_dataset_version(session, name=name, with_items=True)
    return list(found.items or [])


async def version_count(session: AsyncSession) -> int:
    return int(
        (await session.execute(sa.text("SELECT count(*) FROM dataset_versions"))).scalar_one()
    )


@pytest.fixture
async def seeded(session: AsyncSession) -> AsyncSession:
    """support/triage v1 (mustache chat) and v2 (the same in Jinja2)."""
    await prompts.publish_version(session, name=PROMPT, data=chat_version(), author="t")
    jinja = chat_version(
        messages=[
            {"role": "system", "content": "You triage tickets for {{ company }}."},
            {"role": "user", "content": "{{ ticket }}"},
        ],
        template_format="jinja2",
    )
    await prompts.publish_version(session, name=PROMPT, data=jinja, author="t")
    return session


async def test_calls_become_a_new_dataset_with_provenance(seeded: AsyncSession) -> None:
    first, second = call("card charged twice"), call("cannot log in", answer="account")
    ids = await store(seeded, first, second)
    result = await add(seeded, message="from production")
    assert (result.version, result.created, result.added, result.skipped) == (1, True, 2, [])
    assert (result.selected, result.generation_ids) == (2, ids)
    stored = await items(seeded)
    assert [(i.input, i.expected) for i in stored] == [
        ({"company": "Acme", "ticket": "card charged twice"}, "billing"),
        ({"company": "Acme", "ticket": "cannot log in"}, "account"),
    ]
    assert stored[0].metadata == {
        "source": {
            "generation_id": ids[0],
            "trace_id": first.trace_id,
            "span_id": first.span_id,
            "prompt": PROMPT,
            "version": 1,
            "label": "production",
            "called_at": first.started_at.isoformat(),
        },
        "expected_status": "candidate",
    }
    shown = await datasets.get_dataset_version(seeded, name=DATASET)
    assert (shown.message, shown.author) == ("from production", WRITER.name)


async def test_the_current_items_stay_and_running_again_adds_nothing(
    seeded: AsyncSession,
) -> None:
    mine = {"input": {"company": "Acme", "ticket": "hand-written"}, "expected": "billing"}
    data = DatasetVersionCreate.model_validate({"items": [mine]})
    await datasets.publish_dataset_version(seeded, name=DATASET, data=data, author="t")
    [gid] = await store(seeded, call("refund please"))
    result = await add(seeded)
    assert (result.version, result.created, result.added) == (2, True, 1)
    assert [i.input["ticket"] for i in await items(seeded)] == ["hand-written", "refund please"]
    before = await version_count(seeded)
    again = await add(seeded)
    assert (again.version, again.created, again.added) == (2, False, 0)
    assert [(s.generation_id, s.reason) for s in again.skipped] == [(gid, "already in the dataset")]
    assert await version_count(seeded) == before


async def test_the_same_input_and_expected_is_added_once(seeded: AsyncSession) -> None:
    mine = {"input": {"company": "Acme", "ticket": "dup"}, "expected": "billing"}
    data = DatasetVersionCreate.model_validate({"items": [mine]})
    await datasets.publish_dataset_version(seeded, name=DATASET, data=data, author="t")
    ids = await store(seeded, call("dup"), call("twice"), call("twice"), call("twice", answer="x"))
    result = await add(seeded)
    assert result.generation_ids == [ids[1], ids[3]]
    same = "an item with the same input and expected is in the dataset"
    assert [(s.generation_id, s.reason) for s in result.skipped] == [(ids[0], same), (ids[2], same)]


async def test_calls_that_cannot_be_items_are_skipped_with_a_reason(seeded: AsyncSession) -> None:
    rows = [
        call("no content", input_messages=None, output_text=None),
        call("plain model", prompt_name=None, prompt_version=None),
        call("jinja", prompt_version=2),
        call("missing", prompt_version=9),
        call("extra", input_messages=[*messages("Acme", "x"), {"role": "user", "content": "y"}]),
        call("good one"),
    ]
    ids = await store(seeded, *rows)
    result = await add(seeded, ids=ids, prompt=None)
    assert result.generation_ids == [ids[5]]
    reasons = {s.generation_id: s.reason for s in result.skipped}
    assert reasons[ids[0]] == curation.NO_CONTENT
    assert reasons[ids[1]] == "not a call of a prompt version"
    assert reasons[ids[2]].startswith("variables not recovered: only mustache")
    assert reasons[ids[3]] == f"prompt {PROMPT!r} has no version 9"
    assert "1 message(s) after the version's own" in reasons[ids[4]]


def test_an_invalid_item_is_skipped_not_the_batch() -> None:
    content = prompts.content_of(
        SimpleNamespace(  # type: ignore[arg-type]
            kind="text",
            template_format="mustache",
            template="{{q}}",
            messages=None,
            variables_schema=None,
        )
    )
    row = SimpleNamespace(
        id=1,
        trace_id="t" * 32,
        span_id="s" * 16,
        prompt_name="p",
        prompt_version=1,
        prompt_label=None,
        started_at=utc_now(),
        input_messages=[{"role": "user", "content": "fine"}],
        output_text="NUL \x00 is refused",
    )
    good = SimpleNamespace(**{**vars(row), "id": 2, "output_text": "ok"})
    added, skipped = curation._build([row, good], {("p", 1): content}, [])  # type: ignore[list-item]
    assert [i for i, _ in added] == [2]
    assert skipped[0].generation_id == 1
    assert skipped[0].reason.startswith("not a valid item: expected")


FILTERS: list[tuple[dict[str, Any], list[int]]] = [
    ({}, [0, 1, 2, 3, 4]),  # the last 7 days, any version or label (not 5: 10 days old)
    ({"version": 1}, [0, 1, 3, 4]),
    ({"label": "staging"}, [1]),
    ({"errors": True}, [3]),
    ({"errors": False}, [0, 1, 2, 4]),
    ({"score": {"name": "json_valid", "below": 0.5}}, [0, 4]),  # online's {value} shape
    ({"score": {"name": "helpful", "below": 0.3}}, [1]),  # a recorded number
    ({"safety_flag": "pii"}, [4]),
    ({"limit": 2}, [3, 4]),  # the newest
    ({"start": "DAYS-11", "end": "DAYS-9"}, [5]),
    ({"start": "DAYS-11"}, [0, 1, 2, 3, 4, 5]),
]


@pytest.mark.parametrize(("selection", "expected"), FILTERS)
async def test_every_filter_selects_its_calls(
    seeded: AsyncSession, selection: dict[str, Any], expected: list[int]
) -> None:
    await prompts.publish_version(
        seeded, name="other", data=chat_version(message="another prompt"), author="t"
    )
    rows = [
        call("t0", ago=timedelta(hours=6), scores={"json_valid": {"value": 0.0, "passed": False}}),
        call("t1", ago=timedelta(hours=5), prompt_label="staging", scores={"helpful": 0.2}),
        call("t2", ago=timedelta(hours=4), prompt_version=2, scores={"helpful": 0.9}),
        call("t3", ago=timedelta(hours=3), is_error=True, output_text=None),
        call("t4", ago=timedelta(hours=2), safety_flags=["pii"], scores={"json_valid": 0}),
        call("t5", ago=timedelta(days=10)),
        call("o", ago=timedelta(hours=1), prompt_name="other"),  # another prompt: never selected
    ]
    ids = await store(seeded, *rows)
    now = utc_now()
    for key in ("start", "end"):
        if key in selection:
            days = int(selection[key].removeprefix("DAYS-"))
            selection = {**selection, key: (now - timedelta(days=days)).isoformat()}
    result = await add(seeded, dry_run=True, **selection)
    chosen = set(result.generation_ids) | {s.generation_id for s in result.skipped}
    assert sorted(chosen) == sorted(ids[i] for i in expected)
    assert result.selected == len(expected)
    assert (result.created, result.version, result.dry_run) == (False, None, True)
    assert await version_count(seeded) == 0  # a dry run stores nothing


async def test_ids_are_taken_whole_and_missing_ones_are_listed(seeded: AsyncSession) -> None:
    old = call("a year ago", ago=timedelta(days=365))
    other = call("other prompt", prompt_name="other")
    ids = await store(seeded, old, other)
    result = await add(seeded, ids=[*ids, 2**31 - 1], prompt=PROMPT, limit=1)
    assert result.generation_ids == [ids[0]]  # any age; `limit` does not cut an id list
    missing = "no such call, or it does not match the other filters"
    assert [(s.generation_id, s.reason) for s in result.skipped] == [
        (ids[1], missing),
        (2**31 - 1, missing),
    ]


async def test_an_archived_dataset_is_refused(seeded: AsyncSession) -> None:
    await store(seeded, call("first"))
    await add(seeded)
    await datasets.set_dataset_archived(seeded, name=DATASET, archive=True, actor=WRITER)
    await store(seeded, call("second"))
    with pytest.raises(ArchiveStateError):
        await add(seeded)
    assert await version_count(seeded) == 1


async def test_a_dataset_over_its_item_limit_is_refused(seeded: AsyncSession) -> None:
    await store(seeded, call("one"), call("two"))
    chosen = CurationCreate(prompt=PROMPT)
    with pytest.raises(InvalidDatasetError):
        await curation.add_from_generations(
            seeded, name=DATASET, selection=chosen, author="t", limits=DatasetLimits(max_items=1)
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "give 'ids' or 'prompt'"),
        ({"ids": [1], "version": 2}, "select calls of a 'prompt'"),
        ({"ids": [2**31]}, "less than or equal to 2147483647"),
        ({"ids": list(range(1, 1002))}, "at most 1000 items"),
        ({"ids": []}, "at least 1 item"),
        ({"prompt": "Bad Name"}, "invalid prompt name"),
        ({"prompt": "p", "label": "Bad"}, "invalid label"),
        ({"prompt": "p", "score": {"name": "s", "below": float("nan")}}, "finite number"),
        ({"prompt": "p", "limit": 1001}, "less than or equal to 1000"),
        ({"prompt": "p", "ids": ["1"]}, "valid integer"),
    ],
)
def test_bad_selections_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CurationCreate.model_validate(body)
    assert message in str(caught.value)
