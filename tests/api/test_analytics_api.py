"""Analytics routes over HTTP: usage and drift, and the problem JSON of bad queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.db import Database
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import generation, store_generations


async def seed(db: Database) -> None:
    async with db.writer() as session:
        await store_generations(
            session,
            generation(prompt_version=1, ago=timedelta(hours=2), duration_ms=100.0),
            generation(prompt_version=2, ago=timedelta(hours=1), duration_ms=300.0),
            generation(prompt_version=2, ago=timedelta(hours=1), is_error=True),
        )
        await session.commit()


async def test_usage_groups_by_version(client: httpx.AsyncClient, db: Database) -> None:
    await seed(db)
    response = await client.get(
        "/v1/analytics/usage",
        params={"prompt": "support/triage", "group_by": "version"},
        headers=auth(Role.READER),
    )
    assert response.status_code == 200, response.text
    rows = {row["version"]: row for row in response.json()["rows"]}
    assert (rows[1]["calls"], rows[2]["calls"], rows[2]["errors"]) == (1, 2, 1)
    assert rows[1]["latency_p50_ms"] == 100.0


async def test_drift_reports_each_signal(client: httpx.AsyncClient, db: Database) -> None:
    await seed(db)
    response = await client.get(
        "/v1/analytics/drift",
        params={"prompt": "support/triage", "version": 2},
        headers=auth(Role.READER),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["flagged"] is False
    assert {s["metric"]: s["status"] for s in body["signals"]} == {
        "input_chars": "insufficient_data"
    }


@pytest.mark.parametrize(
    ("path", "params", "pointer"),
    [
        (
            "/v1/analytics/usage",
            {"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            None,
        ),
        ("/v1/analytics/usage", {"start": "2026-01-01T00:00:00Z"}, None),  # over 90 days
        ("/v1/analytics/usage", {"group_by": "colour"}, "group_by"),
        ("/v1/analytics/usage", {"bucket": "minute"}, "bucket"),
        ("/v1/analytics/usage", {"version": 0}, "version"),
        ("/v1/analytics/drift", {"version": 1}, "prompt"),
        ("/v1/analytics/drift", {"prompt": "p", "version": 1, "recent_days": 0}, "recent_days"),
        ("/v1/analytics/drift", {"prompt": "p", "version": 1, "threshold": -1}, "threshold"),
    ],
)
async def test_bad_queries_get_problem_json(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], pointer: str | None
) -> None:
    response = await client.get(path, params=params, headers=auth(Role.READER))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    if pointer is not None:
        assert pointer in response.text
    else:
        assert "before end" in problem["detail"] or "days" in problem["detail"]
