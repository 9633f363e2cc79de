"""Queries of the prompt aggregate: prompts, their tags, versions, labels and label events."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from prompts.base import metadata
from prompts.models import Label, LabelEvent, Prompt, PromptTag, PromptVersion


class PromptRepository:
    """Reads and writes of prompts and everything that hangs off them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- prompts ---------------------------------------------------------------------------

    async def get(self, name: str, *, for_update: bool = False) -> Prompt | None:
        """Return the prompt called `name`, optionally locking its row."""
        stmt = select(Prompt).where(Prompt.name == name)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def insert_if_absent(self, name: str, values: dict[str, Any]) -> bool:
        """Insert a prompt unless one with this name exists; return whether it was inserted."""
        dialect = self.session.get_bind().dialect.name
        table = metadata.tables["prompts"]
        if dialect == "postgresql":
            stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=["name"])
        elif dialect == "sqlite":
            stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["name"])
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise NotImplementedError(dialect)
        inserted = await self.session.execute(
            stmt.values(name=name, **values).returning(table.c.id)
        )
        return inserted.first() is not None

    async def search(
        self,
        *,
        query: str | None,
        tag: str | None,
        label: str | None,
        archived: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Prompt], int]:
        """Return one page of prompts (archived ones or the others), by name, and the total."""
        archived_at = col(Prompt.archived_at)
        stmt = select(Prompt).where(archived_at.is_not(None) if archived else archived_at.is_(None))
        if query:
            pattern = f"%{query}%"
            stmt = stmt.where(
                sa.or_(col(Prompt.name).ilike(pattern), col(Prompt.description).ilike(pattern))
            )
        if tag:
            stmt = stmt.where(
                col(Prompt.id).in_(select(PromptTag.prompt_id).where(PromptTag.tag == tag))
            )
        if label:
            stmt = stmt.where(
                col(Prompt.id).in_(select(Label.prompt_id).where(Label.name == label))
            )
        total = (
            await self.session.execute(select(sa.func.count()).select_from(stmt.subquery()))
        ).scalar_one()
        page = stmt.order_by(col(Prompt.name)).limit(limit).offset(offset)
        return list((await self.session.execute(page)).scalars()), int(total)

    async def tags(self, prompt_ids: Sequence[int]) -> dict[int, list[str]]:
        """Return the sorted tags of each prompt."""
        rows = await self.session.execute(
            select(PromptTag.prompt_id, PromptTag.tag)
            .where(col(PromptTag.prompt_id).in_(prompt_ids))
            .order_by(col(PromptTag.tag))
        )
        out: dict[int, list[str]] = {pid: [] for pid in prompt_ids}
        for pid, tag in rows:
            out[pid].append(tag)
        return out

    async def set_tags(self, prompt_id: int, tags: Sequence[str]) -> None:
        """Replace a prompt's tags."""
        await self.session.execute(
            sa.delete(PromptTag).where(col(PromptTag.prompt_id) == prompt_id)
        )
        self.session.add_all(PromptTag(prompt_id=prompt_id, tag=t) for t in tags)

    async def labels(self, prompt_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Return label -> version number for each prompt."""
        rows = await self.session.execute(
            select(Label.prompt_id, Label.name, PromptVersion.version)
            .join(PromptVersion, col(PromptVersion.id) == col(Label.version_id))
            .where(col(Label.prompt_id).in_(prompt_ids))
            .order_by(col(Label.name))
        )
        out: dict[int, dict[str, int]] = {pid: {} for pid in prompt_ids}
        for pid, name, version in rows:
            out[pid][name] = version
        return out

    async def latest_numbers(self, prompt_ids: Sequence[int]) -> dict[int, int]:
        """Return the highest version number of each prompt that has versions."""
        rows = await self.session.execute(
            select(PromptVersion.prompt_id, sa.func.max(PromptVersion.version))
            .where(col(PromptVersion.prompt_id).in_(prompt_ids))
            .group_by(col(PromptVersion.prompt_id))
        )
        return {pid: int(v) for pid, v in rows}

    # --- versions --------------------------------------------------------------------------

    async def max_version(self, prompt_id: int) -> int:
        """Return the highest version number, 0 when there is none."""
        stmt = select(sa.func.max(PromptVersion.version)).where(
            PromptVersion.prompt_id == prompt_id
        )
        return int((await self.session.execute(stmt)).scalar_one() or 0)

    async def version_by_hash(self, prompt_id: int, content_hash: str) -> PromptVersion | None:
        """Return the earliest version with this content hash."""
        stmt = (
            select(PromptVersion)
            .where(PromptVersion.prompt_id == prompt_id, PromptVersion.content_hash == content_hash)
            .order_by(col(PromptVersion.version))
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def version(self, prompt_id: int, number: int) -> PromptVersion | None:
        """Return version `number` of the prompt."""
        stmt = select(PromptVersion).where(
            PromptVersion.prompt_id == prompt_id, PromptVersion.version == number
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def versions_by_number(
        self, wanted: Collection[tuple[str, int]]
    ) -> dict[tuple[str, int], PromptVersion]:
        """Return the versions named by (prompt name, number) that exist, in one query."""
        if not wanted:
            return {}
        names, numbers = {n for n, _ in wanted}, {v for _, v in wanted}
        rows = await self.session.execute(
            select(Prompt.name, PromptVersion)
            .join(Prompt, col(Prompt.id) == col(PromptVersion.prompt_id))
            .where(col(Prompt.name).in_(names), col(PromptVersion.version).in_(numbers))
        )
        found = {(name, version.version): version for name, version in rows.tuples()}
        return {key: found[key] for key in wanted if key in found}

    async def latest_version(self, prompt_id: int) -> PromptVersion | None:
        """Return the prompt's highest version."""
        stmt = (
            select(PromptVersion)
            .where(PromptVersion.prompt_id == prompt_id)
            .order_by(col(PromptVersion.version).desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def versions(
        self, prompt_id: int, *, limit: int, offset: int
    ) -> tuple[list[PromptVersion], int]:
        """Return one page of versions, newest first, and the total."""
        total = (
            await self.session.execute(
                select(sa.func.count()).where(PromptVersion.prompt_id == prompt_id)
            )
        ).scalar_one()
        stmt = (
            select(PromptVersion)
            .where(PromptVersion.prompt_id == prompt_id)
            .order_by(col(PromptVersion.version).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)

    async def labels_by_version(self, version_ids: Sequence[int]) -> dict[int, list[str]]:
        """Return the label names pointing at each version."""
        rows = await self.session.execute(
            select(Label.version_id, Label.name)
            .where(col(Label.version_id).in_(version_ids))
            .order_by(col(Label.name))
        )
        out: dict[int, list[str]] = {vid: [] for vid in version_ids}
        for vid, name in rows:
            out[vid].append(name)
        return out

    # --- labels ----------------------------------------------------------------------------

    async def label(self, prompt_id: int, name: str) -> Label | None:
        """Return the label row."""
        stmt = select(Label).where(Label.prompt_id == prompt_id, Label.name == name)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def version_by_id(self, version_id: int) -> PromptVersion:
        """Return the version with this primary key."""
        version = await self.session.get(PromptVersion, version_id)
        assert version is not None, "labels reference existing versions (FK RESTRICT)"
        return version

    async def label_rows(self, prompt_id: int) -> list[tuple[Label, int]]:
        """Return each label of the prompt with its version number."""
        rows = await self.session.execute(
            select(Label, PromptVersion.version)
            .join(PromptVersion, col(PromptVersion.id) == col(Label.version_id))
            .where(Label.prompt_id == prompt_id)
            .order_by(col(Label.name))
        )
        return [(label, int(number)) for label, number in rows.tuples()]

    async def history(
        self, prompt_id: int, label: str, *, limit: int, offset: int
    ) -> tuple[list[LabelEvent], int]:
        """Return one page of a label's audit events, newest first, and the total."""
        where = (LabelEvent.prompt_id == prompt_id, LabelEvent.label == label)
        total = (await self.session.execute(select(sa.func.count()).where(*where))).scalar_one()
        stmt = (
            select(LabelEvent)
            .where(*where)
            .order_by(col(LabelEvent.id).desc())
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(stmt)).scalars()), int(total)
