"""A call listing over a time range reads its page and its count from an index (SQLite plans)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import BACKEND
from tracing import analytics

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="reads SQLite's query plans")


async def plans(session: AsyncSession, **kwargs: Any) -> list[str]:
    """Return the query plan of each statement `list_generations(**kwargs)` runs."""
    connection = await session.connection()
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))  # conn, cursor, statement, parameters, ...

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    try:
        await analytics.list_generations(session, **kwargs)
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", record)
    found = []
    for statement, parameters in seen:
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        found.append(" / ".join(str(row[-1]) for row in rows))
    return found


async def test_the_count_and_the_page_read_the_counted_calls_index(session: AsyncSession) -> None:
    count, page = await plans(session)
    # The partial index holds exactly the rows counted, so SQLite drops the is_duplicate term and
    # never reads the table (a DeferredSeek it does not take): 0.1 s a million rows, not 5 s.
    assert "USING INDEX ix_generations_counted_started_at" in count, count
    # The page walks the same index newest first and stops after `limit` rows: no sort.
    assert "USING INDEX ix_generations_counted_started_at" in page, page
    assert "TEMP B-TREE" not in page, page


async def test_a_prompt_filter_uses_the_prompt_index(session: AsyncSession) -> None:
    count, page = await plans(session, filters=analytics.UsageFilter(prompt="support/triage"))
    assert "ix_generations_prompt_name_started_at" in count, count
    assert "ix_generations_prompt_name_started_at" in page, page
