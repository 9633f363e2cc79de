"""The gateway tests' app (tracing kept in memory), seeded prompts and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import select

from api.db import Database
from api.identity import keys
from api.server.app import create_app
from api.server.gateway.service import Gateway
from prompts.policy import Role
from tests.conftest import KEYS, make_settings
from tests.factories import chat_body
from tests.tracing.conftest import Traced
from tracing.models import Generation

PROMPT = "support/triage"
ECHO = {"model": "offline/echo", "temperature": 0.1, "max_tokens": 64}
VARIABLES = {"company": "Acme", "ticket": "my card was charged twice"}
URL = "/v1/chat/completions"


@pytest.fixture
def traced() -> Iterator[Traced]:
    t = Traced()
    yield t
    t.handle.shutdown()


@pytest.fixture
async def app(database_url: str, tmp_path: Path, db: Database, traced: Traced) -> Any:
    # One scoring worker: the test app's sessions share one database connection.
    settings = make_settings(database_url, tmp_path, online_eval_concurrency=1)
    application = create_app(settings, database=db, tracing=traced.handle)
    async with application.router.lifespan_context(application):
        async with db.transaction() as s:
            data = keys.ApiKeyCreate(name="test-reader", role=Role.READER)
            await keys.create_key(s, data=data, created_by="tests", key=KEYS[Role.READER])
        yield application


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    first = await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body(config=ECHO))
    assert first.status_code == 201, first.text
    second = chat_body(config={**ECHO, "temperature": 0.7, "offline": {"output_tokens": 9}})
    assert (await client.post(f"/v1/prompts/{PROMPT}/versions", json=second)).status_code == 201
    for label, version in (("production", 1), ("staging", 2)):
        moved = await client.put(f"/v1/prompts/{PROMPT}/labels/{label}", json={"version": version})
        assert moved.status_code == 200, moved.text
    return client


def request(model: str = f"promptlane/{PROMPT}", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "promptlane": {"variables": VARIABLES}}
    body.update(fields)
    return body


async def generations(app: FastAPI, db: Database) -> list[Generation]:
    await gateway_of(app).join()  # rows are written in the background
    async with db.reader() as session:
        rows = await session.scalars(
            select(Generation).where(Generation.source == "gateway").order_by(sa.text("id"))
        )
        return list(rows)


def gateway_of(app: FastAPI) -> Gateway:
    gateway: Gateway = app.state.services.gateway
    return gateway


def assert_openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return dict(error)


def events(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in response.text.split("\n\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    return [line.removeprefix("data: ") for line in lines]
