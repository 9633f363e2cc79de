"""Rollups rebuilt from stored generations, and normalised model names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import generation, store_generations
from tracing.analytics import usage
from tracing.model_names import normalise_model
from tracing.rollups.rebuild import rebuild

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("openrouter/anthropic/claude-3-opus", "claude-3-opus"),
        ("gpt-4-0613", "gpt-4"),
        ("meta-llama/Llama-3-8b", "meta-llama/Llama-3-8b"),  # not a provider: kept
        ("my-model-2025-02-03", "my-model"),  # unknown to the map: a dated snapshot
        ("my-model-2025-13-45", "my-model-2025-13-45"),  # not a date
        ("gpt-4o-mini-2024", "gpt-4o-mini-2024"),  # not a month and day
        (" offline/echo\x00 ", "offline/echo"),
        ("", None),
        (None, None),
    ],
)
def test_model_names_are_normalised(raw: str | None, normalised: str | None) -> None:
    assert normalise_model(raw) == normalised


async def test_generations_stored_before_rollups_are_rebuilt(session: AsyncSession) -> None:
    older = [
        generation(started_at=NOW - timedelta(hours=h), request_model="openai/gpt-4o-mini")
        for h in (1, 30, 50)
    ]
    session.add_all(older)  # as stored before the rollups existed: no model, in no rollup
    await session.flush()
    await store_generations(session, generation(started_at=NOW - timedelta(minutes=5)))
    assert (await usage(session, now=NOW, group_by=[])).scanned == 1
    assert await rebuild(session, page=2) == 4
    report = await usage(session, now=NOW, group_by=["model"])
    assert [(r.model, r.calls) for r in report.rows] == [("gpt-4o-mini", 4)]
    await session.refresh(older[0])
    assert older[0].model == "gpt-4o-mini"
    assert await rebuild(session) == 4  # idempotent: recomputed, not added
    assert (await usage(session, now=NOW, group_by=[])).scanned == 4
