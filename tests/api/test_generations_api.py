"""GET /v1/generations: one trace's calls at any age, filters, pages, and bad queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.db import Database
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import generation

TRACE = "0af7651916cd43dd8448eb211c80319c"
URL = "/v1/generations"


async def seed(db: Database) -> None:
    async with db.writer() as session:
        session.add_all(
            [
                generation(prompt_version=1, ago=timedelta(hours=3), source="gateway"),
                generation(prompt_version=2, ago=timedelta(hours=2), is_error=True),
                generation(
                    prompt_version=2,
                    ago=timedelta(hours=1),
                    source="gateway",
                    output_text="billing",
                    scores={"correct": {"value": 1.0, "passed": True}},
                ),
                # One trace: a month old (outside the default range), two calls.
                generation(trace_id=TRACE, span_id="00f067aa0ba902b7", ago=timedelta(days=30)),
                generation(
                    trace_id=TRACE,
                    span_id="00f067aa0ba902b8",
                    parent_span_id="00f067aa0ba902b7",
                    ago=timedelta(days=30, seconds=-1),
                ),
            ]
        )
        await session.commit()


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(URL, params=params, headers=auth(Role.WRITER))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_recent_generations_newest_first_with_their_details(
    client: httpx.AsyncClient, db: Database
) -> None:
    await seed(db)
    page = await listed(client)
    assert page["total"] == 3  # the last 7 days by default: not the month-old trace
    assert [g["version"] for g in page["items"]] == [2, 2, 1]
    newest = page["items"][0]
    assert (newest["prompt"], newest["source"], newest["output_text"]) == (
        "support/triage",
        "gateway",
        "billing",
    )
    assert newest["scores"] == {"correct": {"value": 1.0, "passed": True}}
    assert len(newest["trace_id"]) == 32


async def test_a_trace_is_found_at_any_age_in_order(
    client: httpx.AsyncClient, db: Database
) -> None:
    await seed(db)
    page = await listed(client, trace_id=TRACE.upper())
    assert page["total"] == 2
    child, parent = page["items"]
    assert (child["span_id"], child["parent_span_id"]) == ("00f067aa0ba902b8", parent["span_id"])
    assert parent["parent_span_id"] is None


@pytest.mark.parametrize(
    ("params", "versions"),
    [
        ({"version": 2}, [2, 2]),
        ({"source": "gateway"}, [2, 1]),
        ({"errors": "true"}, [2]),
        ({"errors": "false", "version": 2}, [2]),
        ({"prompt": "other"}, []),
        ({"limit": 1, "offset": 1}, [2]),
    ],
)
async def test_filters_and_pages(
    client: httpx.AsyncClient, db: Database, params: dict[str, Any], versions: list[int]
) -> None:
    await seed(db)
    page = await listed(client, **params)
    assert [g["version"] for g in page["items"]] == versions


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"trace_id": "not-a-trace"}, "trace_id"),
        ({"limit": 0}, "limit"),
        ({"source": "carrier-pigeon"}, "source"),
        ({"start": "2026-01-01T00:00:00Z"}, None),  # over 90 days
    ],
)
async def test_bad_queries_get_problem_json(
    client: httpx.AsyncClient, params: dict[str, Any], pointer: str | None
) -> None:
    response = await client.get(URL, params=params, headers=auth(Role.WRITER))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if pointer is not None:
        assert pointer in response.text
    else:
        assert "days" in response.json()["detail"]


async def test_reader_keys_cannot_list_calls(client: httpx.AsyncClient) -> None:
    response = await client.get(URL, headers=auth(Role.READER))
    assert response.status_code == 403
