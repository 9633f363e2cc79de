"""A trailing newline never makes a second prompt, label or policy (full-match patterns)."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    published = await client.post("/v1/prompts/atk/p/versions", json=chat_body())
    assert published.status_code == 201
    moved = await client.put("/v1/prompts/atk/p/labels/production", json={"version": 1})
    assert moved.status_code == 200
    return client


async def rows(db: Database, table: str) -> int:
    async with db.reader() as session:
        return int((await session.scalar(sa.text(f"SELECT count(*) FROM {table}"))) or 0)  # noqa: S608


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/prompts/atk/p%0A/versions", chat_body()),
        ("POST", "/v1/prompts", {"name": "atk/q\n"}),
        ("PUT", "/v1/prompts/atk/p/labels/production%0A", {"version": 1}),
        ("PUT", "/v1/policies/production%0A", {"required_suites": ["s"]}),
        ("POST", "/v1/prompts/atk/p/render", {"label": "production\n"}),
        ("POST", "/v1/keys", {"name": "ci\n", "role": "reader"}),
    ],
)
async def test_a_trailing_newline_is_refused(
    seeded: httpx.AsyncClient, db: Database, method: str, path: str, body: dict[str, object]
) -> None:
    before = {t: await rows(db, t) for t in ("prompts", "labels", "promotion_policies", "api_keys")}
    response = await seeded.request(method, path, json=body)
    # A newline in a `{name:path}` segment matches no route at all (404); elsewhere 422.
    assert response.status_code in ((404, 422) if "%0A/" in path else (422,)), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {t: await rows(db, t) for t in before} == before


async def test_resolve_refuses_a_label_with_a_trailing_newline(seeded: httpx.AsyncClient) -> None:
    found = await seeded.get(
        "/v1/prompts/atk/p", params={"label": "production\n"}, headers=auth(Role.READER)
    )
    assert found.status_code == 422, found.text


async def test_the_gateway_refuses_a_reference_with_a_trailing_newline(
    seeded: httpx.AsyncClient,
) -> None:
    for model in ("promptlane/atk/p@production\n", "promptlane/atk/p\n", "promptlane/atk/p:1\n"):
        answer = await seeded.post(
            "/v1/chat/completions", json={"model": model, "messages": []}, headers=auth(Role.READER)
        )
        assert answer.status_code == 400, (model, answer.text)
        assert answer.json()["error"]["param"] == "model"
