"""Datasets: immutable versions of items, published from JSON, JSONL or CSV, and their diffs.

The version last pushed is the dataset's current one; pushing an older version's content again
makes that version current (suites that name no version pin the current one when pushed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from evals.datasets.files import DatasetLimits, Format, parse_items, parse_version
from evals.datasets.repository import DatasetRepository, ItemRow
from evals.errors import DatasetArchivedError, DatasetNotFoundError, InvalidDatasetError
from evals.models import Dataset, DatasetItem, DatasetVersion
from evals.schemas import (
    DatasetDiffCounts,
    DatasetDiffRead,
    DatasetItemChange,
    DatasetItemRead,
    DatasetRead,
    DatasetVersionCreate,
    DatasetVersionRead,
)
from promptlane_client.hashing import canonical_json, sha256_hex
from prompts.archive import archived_detail, check_active, set_archived
from prompts.base import utc_now
from prompts.policy import Actor
from prompts.schemas import ArchiveEventRead, Page, name_problem

__all__ = [
    "DatasetLimits",
    "Format",
    "dataset_items",
    "diff_dataset_versions",
    "get_dataset_version",
    "list_dataset_versions",
    "list_datasets",
    "parse_items",
    "parse_version",
    "publish_dataset_file",
    "publish_dataset_version",
    "set_dataset_archived",
]

_ITEM_FIELDS = ("input", "expected", "contexts", "metadata")
Key = str | int
MatchedBy = Literal["metadata.id", "position"]


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise InvalidDatasetError(problem.replace("prompt name", "dataset name"))


def _row_read(row: ItemRow) -> DatasetItemRead:
    position, input_, expected, contexts, metadata = row
    return DatasetItemRead(
        position=position, input=input_, expected=expected, contexts=contexts, metadata=metadata
    )


def _version_read(
    name: str, version: DatasetVersion, items: list[ItemRow] | None = None
) -> DatasetVersionRead:
    return DatasetVersionRead(
        name=name,
        version=version.version,
        item_count=version.item_count,
        content_hash=version.content_hash,
        message=version.message,
        author=version.author,
        created_at=version.created_at,
        items=None if items is None else [_row_read(i) for i in items],
    )


async def _dataset(repo: DatasetRepository, name: str, *, for_update: bool = False) -> Dataset:
    dataset = await repo.get(name, for_update=for_update)
    if dataset is None:
        raise DatasetNotFoundError(f"no dataset named {name!r}")
    return dataset


async def _version(repo: DatasetRepository, dataset: Dataset, number: int | None) -> DatasetVersion:
    """Return version `number`, or the current one when `number` is None."""
    assert dataset.id is not None
    found = await repo.version(
        dataset.id, number if number is not None else dataset.current_version
    )
    if found is None:
        which = f"no version {number}" if number is not None else "no versions"
        raise DatasetNotFoundError(f"dataset {dataset.name!r} has {which}")
    return found


async def _locked_dataset(repo: DatasetRepository, name: str, description: str | None) -> Dataset:
    """Return the dataset, created if absent, with its row locked and its description set."""
    values = {"description": description or "", "created_at": utc_now()}
    await repo.insert_if_absent(name, values)
    # The row lock serialises concurrent publishes to one dataset on PostgreSQL; SQLite write
    # transactions are serialised by BEGIN IMMEDIATE (api.db).
    dataset = await _dataset(repo, name, for_update=True)
    check_active("dataset", dataset, doing="pushing to it")
    if description is not None:
        dataset.description = description
    return dataset


async def publish_dataset_version(
    session: AsyncSession,
    *,
    name: str,
    data: DatasetVersionCreate,
    author: str,
    limits: DatasetLimits = DatasetLimits(),
) -> tuple[DatasetVersionRead, bool]:
    """Store a new immutable version; return it and True, or the identical one and False."""
    _check_name(name)
    if len(data.items) > limits.max_items:
        raise InvalidDatasetError(f"more than {limits.max_items} items")
    rows = [item.model_dump(mode="json") for item in data.items]
    digest = sha256_hex(rows)
    repo = DatasetRepository(session)
    now = utc_now()
    dataset = await _locked_dataset(repo, name, data.description)
    assert dataset.id is not None
    existing = await repo.version_by_hash(dataset.id, digest)
    if existing is not None:
        # Pushing an older version's content again makes it current: CI converges to the repo.
        dataset.current_version = existing.version
        await session.flush()
        return _version_read(name, existing), False
    version = DatasetVersion(
        dataset_id=dataset.id,
        version=await repo.max_version(dataset.id) + 1,
        item_count=len(rows),
        content_hash=digest,
        message=data.message,
        author=author,
        created_at=now,
    )
    session.add(version)
    dataset.current_version = version.version
    await session.flush()
    assert version.id is not None
    await repo.insert_items([_item_row(version.id, i, row) for i, row in enumerate(rows)])
    return _version_read(name, version), True


def _item_row(version_id: int, position: int, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dataset_version_id": version_id,
        "position": position,
        "input": row["input"],
        "expected": row["expected"],
        "contexts": row["contexts"],
        "item_metadata": row["metadata"],
    }


async def publish_dataset_file(
    session: AsyncSession,
    *,
    name: str,
    data: bytes | str,
    fmt: Format,
    author: str,
    message: str = "",
    description: str | None = None,
    limits: DatasetLimits = DatasetLimits(),
) -> tuple[DatasetVersionRead, bool]:
    """Parse an uploaded JSON, JSONL or CSV document and publish it as a version."""
    _check_name(name)
    parsed = parse_version(data, fmt=fmt, message=message, description=description, limits=limits)
    return await publish_dataset_version(
        session, name=name, data=parsed, author=author, limits=limits
    )


async def list_datasets(
    session: AsyncSession,
    *,
    query: str | None = None,
    archived: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[DatasetRead]:
    """Return one page of datasets in use (or archived ones), by name, filtered by text."""
    repo = DatasetRepository(session)
    datasets, total = await repo.search(query=query, archived=archived, limit=limit, offset=offset)
    summaries = await repo.summaries([d.id for d in datasets if d.id is not None])
    items = []
    for d in datasets:
        summary = summaries.get(d.id) if d.id is not None else None
        items.append(
            DatasetRead(
                name=d.name,
                description=d.description,
                latest_version=summary.latest if summary else None,
                current_version=d.current_version,
                item_count=summary.item_count if summary else None,
                created_at=d.created_at,
                updated_at=summary.updated_at if summary else d.created_at,
                archived_at=d.archived_at,
            )
        )
    return Page(items=items, total=total, limit=limit, offset=offset)


async def list_dataset_versions(
    session: AsyncSession, *, name: str, limit: int = 50, offset: int = 0
) -> Page[DatasetVersionRead]:
    """Return one page of a dataset's versions, newest first (without items)."""
    repo = DatasetRepository(session)
    dataset = await _dataset(repo, name)
    assert dataset.id is not None
    versions, total = await repo.versions(dataset.id, limit=limit, offset=offset)
    return Page(
        items=[_version_read(name, v) for v in versions], total=total, limit=limit, offset=offset
    )


async def get_dataset_version(
    session: AsyncSession,
    *,
    name: str,
    version: int | None = None,
    with_items: bool = False,
    item_limit: int | None = None,
    item_offset: int = 0,
) -> DatasetVersionRead:
    """Return a version (None: the current one), with all its items or a page if asked.

    An archived dataset has no current version (404); its numbered versions stay readable.
    """
    repo = DatasetRepository(session)
    dataset = await _dataset(repo, name)
    if version is None and dataset.archived_at is not None:
        raise DatasetArchivedError(archived_detail("dataset", name))
    found = await _version(repo, dataset, version)
    if not with_items:
        return _version_read(name, found)
    assert found.id is not None
    items = await repo.item_contents(found.id, limit=item_limit, offset=item_offset)
    return _version_read(name, found, items)


async def set_dataset_archived(
    session: AsyncSession, *, name: str, archive: bool, actor: Actor, reason: str = ""
) -> ArchiveEventRead:
    """Archive (or restore) a dataset, audited; its versions and the runs on them stay."""
    dataset = await _dataset(DatasetRepository(session), name, for_update=True)
    return await set_archived(
        session, dataset, kind="dataset", archive=archive, actor=actor, reason=reason
    )


async def dataset_items(session: AsyncSession, *, dataset_version_id: int) -> list[DatasetItem]:
    """Return every item of a dataset version, by position."""
    return await DatasetRepository(session).items(dataset_version_id)


def metadata_id(metadata: Mapping[str, Any] | None) -> str | int | None:
    """Return an item's `metadata.id` if it is one (a string or an integer, not a bool)."""
    key = (metadata or {}).get("id")
    return None if isinstance(key, bool) or not isinstance(key, str | int) else key


def _by_id(rows: list[ItemRow]) -> dict[Key, ItemRow] | None:
    keyed: dict[Key, ItemRow] = {}
    for row in rows:
        key = metadata_id(row[4])
        if key is None or key in keyed:
            return None
        keyed[key] = row
    return keyed


def _keyed(
    before: list[ItemRow], after: list[ItemRow]
) -> tuple[MatchedBy, dict[Key, ItemRow], dict[Key, ItemRow]]:
    """Key items by metadata.id when every item has a unique one, else by position."""
    a, b = _by_id(before), _by_id(after)
    if a is not None and b is not None:
        return "metadata.id", a, b
    return "position", {r[0]: r for r in before}, {r[0]: r for r in after}


def _changes(before: dict[Key, ItemRow], after: dict[Key, ItemRow]) -> list[DatasetItemChange]:
    changed = []
    for key in before.keys() & after.keys():
        # Canonical JSON, not ==: 1, 1.0 and true are equal in Python but not as content.
        a, b = before[key], after[key]
        if canonical_json(a[1:]) == canonical_json(b[1:]):
            continue
        pairs = zip(_ITEM_FIELDS, a[1:], b[1:], strict=True)
        fields = [f for f, x, y in pairs if canonical_json(x) != canonical_json(y)]
        changed.append(
            DatasetItemChange(key=key, fields=fields, before=_row_read(a), after=_row_read(b))
        )
    return sorted(changed, key=lambda c: c.after.position)


def _only_in(these: dict[Key, ItemRow], others: dict[Key, ItemRow]) -> list[DatasetItemRead]:
    return [
        _row_read(these[k]) for k in sorted(these.keys() - others.keys(), key=lambda k: these[k][0])
    ]


async def diff_dataset_versions(
    session: AsyncSession, *, name: str, from_version: int, to_version: int, limit: int = 100
) -> DatasetDiffRead:
    """Compare two versions item by item (by metadata.id when every item has a unique one)."""
    repo = DatasetRepository(session)
    dataset = await _dataset(repo, name)
    old, new = [await _version(repo, dataset, n) for n in (from_version, to_version)]
    assert old.id is not None
    assert new.id is not None
    matched_by, before, after = _keyed(
        await repo.item_contents(old.id), await repo.item_contents(new.id)
    )
    changed = _changes(before, after)
    added, removed = _only_in(after, before), _only_in(before, after)
    counts = DatasetDiffCounts(
        added=len(added),
        removed=len(removed),
        changed=len(changed),
        unchanged=len(before.keys() & after.keys()) - len(changed),
    )
    return DatasetDiffRead(
        name=name,
        from_version=old.version,
        to_version=new.version,
        matched_by=matched_by,
        counts=counts,
        added=added[:limit],
        removed=removed[:limit],
        changed=changed[:limit],
        limit=limit,
    )
