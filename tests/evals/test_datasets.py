"""The dataset service: versions deduped by content, reads, pages, names, diffs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from evals.datasets import service as datasets
from evals.datasets.files import DatasetLimits
from evals.errors import DatasetNotFoundError, InvalidDatasetError
from evals.models import DatasetItem, DatasetVersion
from tests.evals.dataset_support import rows, version

# --- service -------------------------------------------------------------------------------


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int((await session.execute(sa.select(sa.func.count()).select_from(model))).scalar_one())


async def test_publish_versions_and_dedupes_by_content(session: AsyncSession) -> None:
    first, created = await datasets.publish_dataset_version(
        session, name="support/tickets", data=version(rows(3), message="one"), author="ann"
    )
    assert created
    assert (first.version, first.item_count, first.author) == (1, 3, "ann")
    assert len(first.content_hash) == 64
    again, created = await datasets.publish_dataset_version(
        session, name="support/tickets", data=version(rows(3), message="other"), author="bob"
    )
    assert not created
    assert (again.version, again.message, again.author) == (1, "one", "ann")
    second, created = await datasets.publish_dataset_version(
        session, name="support/tickets", data=version(rows(4)), author="ann"
    )
    assert created
    assert second.version == 2
    assert await count(session, DatasetVersion) == 2
    assert await count(session, DatasetItem) == 7


async def test_defaults_do_not_change_the_hash(session: AsyncSession) -> None:
    explicit = [{"input": {"q": "x"}, "expected": None, "contexts": [], "metadata": {}}]
    a, _ = await datasets.publish_dataset_version(
        session, name="d", data=version([{"input": {"q": "x"}}]), author="t"
    )
    b, created = await datasets.publish_dataset_version(
        session, name="d", data=version(explicit), author="t"
    )
    assert not created
    assert a.content_hash == b.content_hash


async def test_read_back_items_latest_and_pages(session: AsyncSession) -> None:
    items = rows(5, contexts=["c"], metadata={"k": 1})
    await datasets.publish_dataset_version(
        session, name="d/x", data=version(items, description="about"), author="t"
    )
    await datasets.publish_dataset_version(session, name="d/x", data=version(rows(2)), author="t")
    latest = await datasets.get_dataset_version(session, name="d/x")
    assert (latest.version, latest.items) == (2, None)
    full = await datasets.get_dataset_version(session, name="d/x", version=1, with_items=True)
    assert full.items is not None
    assert [i.model_dump(exclude={"position"}) for i in full.items] == items
    assert [i.position for i in full.items] == [0, 1, 2, 3, 4]
    page = await datasets.get_dataset_version(
        session, name="d/x", version=1, with_items=True, item_limit=2, item_offset=3
    )
    assert [i.position for i in page.items or []] == [3, 4]
    versions = await datasets.list_dataset_versions(session, name="d/x")
    assert [v.version for v in versions.items] == [2, 1]
    raw = await datasets.dataset_items(session, dataset_version_id=await _version_id(session, 1))
    assert [i.position for i in raw] == [0, 1, 2, 3, 4]
    listed = await datasets.list_datasets(session, query="abou")
    assert [(d.name, d.description, d.latest_version) for d in listed.items] == [
        ("d/x", "about", 2)
    ]


async def _version_id(session: AsyncSession, number: int) -> int:
    stmt = sa.select(DatasetVersion.id).where(DatasetVersion.version == number)
    return int((await session.execute(stmt)).scalar_one())


async def test_list_datasets_pages_by_name(session: AsyncSession) -> None:
    for name in ("b", "a", "c/d"):
        await datasets.publish_dataset_version(
            session, name=name, data=version(rows(1)), author="t"
        )
    page = await datasets.list_datasets(session, limit=2, offset=1)
    assert page.total == 3
    assert [d.name for d in page.items] == ["b", "c/d"]


@pytest.mark.parametrize("name", ["Bad Name", "a//b", "x/versions", "team/diff", "a" * 201])
async def test_bad_names_are_refused(session: AsyncSession, name: str) -> None:
    with pytest.raises(InvalidDatasetError, match="dataset name"):
        await datasets.publish_dataset_version(
            session, name=name, data=version(rows(1)), author="t"
        )


async def test_missing_datasets_and_versions(session: AsyncSession) -> None:
    with pytest.raises(DatasetNotFoundError, match="no dataset named 'nope'"):
        await datasets.get_dataset_version(session, name="nope")
    await datasets.publish_dataset_version(session, name="d", data=version(rows(1)), author="t")
    with pytest.raises(DatasetNotFoundError, match="no version 9"):
        await datasets.get_dataset_version(session, name="d", version=9)
    with pytest.raises(DatasetNotFoundError):
        await datasets.diff_dataset_versions(session, name="d", from_version=1, to_version=2)


async def test_publish_limit_applies_to_validated_bodies(session: AsyncSession) -> None:
    with pytest.raises(InvalidDatasetError, match="more than 2 items"):
        await datasets.publish_dataset_version(
            session, name="d", data=version(rows(3)), author="t", limits=DatasetLimits(max_items=2)
        )


async def test_publish_file_stores_nothing_when_a_row_is_bad(session: AsyncSession) -> None:
    text = json.dumps({"input": {"a": 1}}) + "\n" + json.dumps({"input": 1})
    with pytest.raises(InvalidDatasetError, match="line 2"):
        await datasets.publish_dataset_file(session, name="d", data=text, fmt="jsonl", author="t")
    assert await count(session, DatasetVersion) == 0
    stored, created = await datasets.publish_dataset_file(
        session, name="d", data="q,expected\nhi,there\n", fmt="csv", author="t", message="m"
    )
    assert created
    assert (stored.item_count, stored.message) == (1, "m")


# --- diff ----------------------------------------------------------------------------------


async def publish(session: AsyncSession, items: list[dict[str, Any]]) -> int:
    stored, _ = await datasets.publish_dataset_version(
        session, name="diffs", data=version(items), author="t"
    )
    return stored.version


async def test_diff_by_position(session: AsyncSession) -> None:
    a = await publish(session, rows(3))
    changed = rows(2)
    changed[1]["expected"] = "new answer"
    changed[0]["contexts"] = ["c"]
    b = await publish(session, changed)
    diff = await datasets.diff_dataset_versions(session, name="diffs", from_version=a, to_version=b)
    assert diff.matched_by == "position"
    assert diff.counts.model_dump() == {"added": 0, "removed": 1, "changed": 2, "unchanged": 0}
    assert [(c.key, c.fields) for c in diff.changed] == [(0, ["contexts"]), (1, ["expected"])]
    assert diff.changed[1].before.expected == "answer 1"
    assert diff.changed[1].after.expected == "new answer"
    assert [i.position for i in diff.removed] == [2]
    back = await datasets.diff_dataset_versions(session, name="diffs", from_version=b, to_version=a)
    assert [i.position for i in back.added] == [2]


async def test_diff_by_metadata_id_ignores_moves(session: AsyncSession) -> None:
    items = [{"input": {"q": q}, "metadata": {"id": q}} for q in ("a", "b", "c")]
    a = await publish(session, items)
    moved = [items[2], items[0], {"input": {"q": "B!"}, "metadata": {"id": "b"}}]
    moved.append({"input": {"q": "d"}, "metadata": {"id": 4}})
    b = await publish(session, moved)
    diff = await datasets.diff_dataset_versions(
        session, name="diffs", from_version=a, to_version=b, limit=1
    )
    assert diff.matched_by == "metadata.id"
    assert diff.counts.model_dump() == {"added": 1, "removed": 0, "changed": 1, "unchanged": 2}
    assert [(c.key, c.fields) for c in diff.changed] == [("b", ["input"])]
    assert diff.added[0].metadata == {"id": 4}
    assert diff.limit == 1


async def test_diff_falls_back_to_position_when_ids_repeat(session: AsyncSession) -> None:
    a = await publish(session, [{"input": {"q": q}, "metadata": {"id": 1}} for q in "ab"])
    b = await publish(session, [{"input": {"q": q}, "metadata": {"id": 1}} for q in "ac"])
    diff = await datasets.diff_dataset_versions(session, name="diffs", from_version=a, to_version=b)
    assert diff.matched_by == "position"
    assert diff.counts.changed == 1
    same = await datasets.diff_dataset_versions(session, name="diffs", from_version=a, to_version=a)
    assert same.counts.model_dump() == {"added": 0, "removed": 0, "changed": 0, "unchanged": 2}
