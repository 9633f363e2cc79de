"""Eval-run generation tests' database fixture and helpers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from api.db import Database
from tests.conftest import DatabaseFactory
from tests.evals.runner_support import (
    suite_yaml,
)
from tracing import semconv
from tracing.models import Generation

HEX32, HEX16 = re.compile(r"[0-9a-f]{32}"), re.compile(r"[0-9a-f]{16}")
SAFE_SUITE = suite_yaml().replace("scorers:\n", "scorers:\n  - {name: no_pii, type: pii}\n", 1)


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A fresh migrated database of its own (the runner commits as it goes)."""
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def generations(db: Database, run_id: int) -> list[Generation]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(Generation).where(Generation.run_id == run_id).order_by(col(Generation.id))
        )
        return list(rows)


def item_key(g: Generation) -> tuple[str, int, int]:
    a = g.attributes
    return (a[semconv.RUN_VARIANT], a[semconv.ITEM_POSITION], a[semconv.ITEM_REPEAT])


def assert_once_per_item(gens: list[Generation], items: list[Any]) -> None:
    """Every item has exactly one generation, and every generation belongs to an item."""
    keys = [item_key(g) for g in gens]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(i.variant, i.position, i.repeat) for i in items}
    assert len({(g.trace_id, g.span_id) for g in gens}) == len(gens)
