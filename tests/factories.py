"""Plain typed factories with keyword overrides."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prompts.schemas import VersionCreate
from tracing.base import utc_now
from tracing.generation import GenerationRow
from tracing.inserts import insert_rows
from tracing.models import Generation


def text_version(**overrides: Any) -> VersionCreate:
    """Return a text version body."""
    body: dict[str, Any] = {
        "template": "Summarise for {{audience}}: {{text}}",
        "config": {"model": "openai/gpt-4o-mini", "temperature": 0.2},
        "message": "text version",
    }
    body.update(overrides)
    return VersionCreate.model_validate(body)


def chat_version(**overrides: Any) -> VersionCreate:
    """Return a chat version body."""
    body: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": "You triage tickets for {{company}}."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": {"model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 64},
        "message": "chat version",
    }
    body.update(overrides)
    return VersionCreate.model_validate(body)


def chat_body(**overrides: Any) -> dict[str, Any]:
    """Return a chat version as a JSON request body."""
    return chat_version(**overrides).model_dump(mode="json", exclude_none=True)


def generation(*, ago: timedelta = timedelta(hours=1), **overrides: Any) -> Generation:
    """Return an unsaved generation that started `ago` before now (or at `started_at`)."""
    started_at: datetime = overrides.pop("started_at", None) or utc_now() - ago
    values: dict[str, Any] = {
        "trace_id": uuid.uuid4().hex,
        "span_id": uuid.uuid4().hex[:16],
        "source": "run",
        "provider": "openai",
        "request_model": "openai/gpt-4o-mini",
        "prompt_name": "support/triage",
        "prompt_version": 1,
        "started_at": started_at,
        "duration_ms": 100.0,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": 0.001,
        "input_chars": 40,
    }
    values.update(overrides)
    return Generation(**values)


def dataset_items(count: int = 2, *, tag: str = "") -> list[dict[str, Any]]:
    """Return `count` dataset items (vary `tag` to make another version's content)."""
    return [
        {"input": {"company": "Acme", "ticket": f"ticket {i}{tag}"}, "expected": "billing"}
        for i in range(count)
    ]


async def push_dataset(client: Any, name: str, *, versions: int = 1) -> None:
    """Push `versions` versions of a dataset over the API (an httpx client with a writer key)."""
    for n in range(versions):
        pushed = await client.post(
            f"/v1/datasets/{name}/versions", json={"items": dataset_items(tag=f" v{n + 1}")}
        )
        assert pushed.status_code in (200, 201), pushed.text


def generation_row(**overrides: Any) -> dict[str, Any]:
    """Return a generation row as the row builders make it: every column but the id."""
    values = GenerationRow(
        trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16],
        source="gateway",
        operation="chat",
        provider="openai",
        request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        prompt_name="support/triage",
        prompt_version=1,
        prompt_label="production",
        content_hash="0" * 64,
        started_at=utc_now(),
        duration_ms=100.0,
        input_tokens=10,
        output_tokens=5,
        cost_usd=0.001,
        finish_reasons=["stop"],
        input_chars=40,
        scores={},
        safety_flags=[],
        attributes={},
        created_at=utc_now(),
    ).as_insert()
    values.update(overrides)
    return values


async def store_generations(session: AsyncSession, *rows: Generation) -> None:
    """Store generations as the service does (insert_rows, so rollups count them); set ids."""
    inserted = await insert_rows(session, [g.model_dump(exclude={"id"}) for g in rows])
    assert not inserted.dropped, inserted.dropped
    ids = {(row["trace_id"], row["span_id"]): id_ for row, id_ in inserted.stored}
    for g in rows:
        g.id = ids[g.trace_id, g.span_id]
