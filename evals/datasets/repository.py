"""Queries of the evaluation aggregates, one class per aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.models import Dataset, DatasetItem, DatasetVersion
from prompts.base import metadata, upsert_insert

# --- datasets ------------------------------------------------------------------------------

# An item without the ORM overhead: (position, input, expected, contexts, metadata).
ItemRow = tuple[int, dict[str, Any], Any, list[str], dict[str, Any]]


class VersionSummary(NamedTuple):
    """What a dataset list shows of a dataset's versions."""

    latest: int
    updated_at: datetime
    item_count: int | None  # of the current version


class DatasetRepository:
    """Reads and writes of datasets, their immutable versions and their items."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str, *, for_update: bool = False) -> Dataset | None:
        """Return the dataset called `name`, optionally locking its row."""
        stmt = select(Dataset).where(Dataset.name == name)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def insert_if_absent(self, name: str, values: dict[str, Any]) -> bool:
        """Insert a dataset unless one with this name exists; return whether it was inserted."""
        table = metadata.tables["datasets"]
        stmt = upsert_insert(self.session, table).values(name=name, **values)
        inserted = await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=["name"]).returning(table.c.id)
        )
        return inserted.first() is not None

    async def search(
        self, *, query: str | None, archived: bool, limit: int, offset: int
    ) -> tuple[list[Dataset], int]:
        """Return one page of datasets (archived ones or the others) matching `query`."""
        archived_at = col(Dataset.archived_at)
        stmt = select(Dataset).where(
            archived_at.is_not(None) if archived else archived_at.is_(None)
        )
        if query:
            pattern = f"%{query}%"
            stmt = stmt.where(
                sa.or_(col(Dataset.name).ilike(pattern), col(Dataset.description).ilike(pattern))
            )
        total = (
            await self.session.execute(select(sa.func.count()).select_from(stmt.subquery()))
        ).scalar_one()
        page = stmt.order_by(col(Dataset.name)).limit(limit).offset(offset)
        return list((await self.session.execute(page)).scalars()), int(total)

    async def summaries(self, dataset_ids: Sequence[int]) -> dict[int, VersionSummary]:
        """Return each dataset's highest version, newest publish time and current item count."""
        current = sa.case(
            (col(DatasetVersion.version) == col(Dataset.current_version), DatasetVersion.item_count)
        )
        rows = await self.session.execute(
            select(
                DatasetVersion.dataset_id,
                sa.func.max(DatasetVersion.version),
                sa.func.max(DatasetVersion.created_at),
                sa.func.max(current),
            )
            .join(Dataset, col(Dataset.id) == col(DatasetVersion.dataset_id))
            .where(col(DatasetVersion.dataset_id).in_(dataset_ids))
            .group_by(col(DatasetVersion.dataset_id))
        )
        return {
            did: VersionSummary(int(latest), updated, None if count is None else int(count))
            for did, latest, updated, count in rows
        }

    async def max_version(self, dataset_id: int) -> int:
        """Return the highest version number, 0 when there is none."""
        stmt = select(sa.func.max(DatasetVersion.version)).where(
            DatasetVersion.dataset_id == dataset_id
        )
        return int((await self.session.execute(stmt)).scalar_one() or 0)

    async def version_by_hash(self, dataset_id: int, content_hash: str) -> DatasetVersion | None:
        """Return the version with this content hash (unique per dataset)."""
        stmt = select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset_id, DatasetVersion.content_hash == content_hash
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def version(self, dataset_id: int, number: int | None) -> DatasetVersion | None:
        """Return version `number` of the dataset, or its highest when `number` is None."""
        stmt = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
        if number is not None:
            stmt = stmt.where(DatasetVersion.version == number)
        stmt = stmt.order_by(col(DatasetVersion.version).desc()).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def versions(
        self, dataset_id: int, *, limit: int, offset: int
    ) -> tuple[list[DatasetVersion], int]:
        """Return one page of versions, newest first, and the total."""
        where = DatasetVersion.dataset_id == dataset_id
        total = (await self.session.execute(select(sa.func.count()).where(where))).scalar_one()
        stmt = (
            select(DatasetVersion)
            .where(where)
            .order_by(col(DatasetVersion.version).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)

    async def insert_items(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert item rows in one executemany (keys are DatasetItem attribute names)."""
        if rows:
            await self.session.execute(sa.insert(DatasetItem), list(rows))

    async def item_contents(
        self, dataset_version_id: int, *, limit: int | None = None, offset: int = 0
    ) -> list[ItemRow]:
        """Return (position, input, expected, contexts, metadata) of the items, by position."""
        stmt = (
            sa.select(
                col(DatasetItem.position),
                col(DatasetItem.input),
                col(DatasetItem.expected),
                col(DatasetItem.contexts),
                col(DatasetItem.item_metadata),
            )
            .where(col(DatasetItem.dataset_version_id) == dataset_version_id)
            .order_by(col(DatasetItem.position))
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.execute(stmt)).tuples())

    async def items(self, dataset_version_id: int) -> list[DatasetItem]:
        """Return a version's items as entities, by position."""
        stmt = (
            select(DatasetItem)
            .where(DatasetItem.dataset_version_id == dataset_version_id)
            .order_by(col(DatasetItem.position))
        )
        return list((await self.session.execute(stmt)).scalars())
