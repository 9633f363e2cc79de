"""Hostile templates through the render route and the gateway: refused, and /healthz answers.

A writer publishes a template that loops for minutes or renders 40 MB; a reader renders it.
Each is refused with the limit it hit (422 problem JSON; OpenAI-shaped 400 on the gateway),
and while the slow one is in progress the server keeps answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.db import Database
from api.identity import keys
from api.server.app import create_app
from promptlane_client.render import RenderBudget
from prompts.policy import Role
from tests.conftest import KEYS, auth, make_settings

NESTED_LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
FORTY_MB = "{% for i in range(40000) %}{{ 'x' * 1000 }}{% endfor %}"
ECHO = {"model": "offline/echo", "max_tokens": 16}
RENDER = {"variables": {}, "label": "production"}
TIME_DETAIL = "rendering took longer than 1.0 s"
SIZE_DETAIL = "the rendered prompt is longer than 1000000 characters"


def chat_request(name: str) -> dict[str, Any]:
    return {"model": f"promptlane/{name}", "promptlane": {"variables": {}}}


async def publish(client: httpx.AsyncClient, name: str, template: str) -> None:
    """Publish `template` as a jinja2 prompt (as a writer) and point production at it."""
    body = {"template": template, "template_format": "jinja2", "config": ECHO}
    writer = auth(Role.WRITER)
    created = await client.post(f"/v1/prompts/{name}/versions", json=body, headers=writer)
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    moved = await client.put(
        f"/v1/prompts/{name}/labels/production", json={"version": version}, headers=auth(Role.ADMIN)
    )
    assert moved.status_code == 200, moved.text


def client_of(app: Any, role: Role) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://promptlane.test", headers=auth(role)
    )


@pytest.fixture
async def reader(app: Any, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A reader's client on an app where writers published hostile templates."""
    await publish(client, "atk/loops", NESTED_LOOPS)
    await publish(client, "atk/forty", FORTY_MB)
    await publish(client, "ok/hello", "Hello {{ name }}!")
    async with client_of(app, Role.READER) as c:
        yield c


async def while_in_progress(
    client: httpx.AsyncClient, slow: asyncio.Task[httpx.Response], checks: int = 5
) -> list[bool]:
    """Call /healthz `checks` times while `slow` runs; say for each whether `slow` was done."""
    finished_first: list[bool] = []
    for _ in range(checks):
        health = await client.get("/healthz")
        assert health.status_code == 200
        finished_first.append(slow.done())
    return finished_first


async def test_render_route_refuses_a_slow_template_and_stays_responsive(
    reader: httpx.AsyncClient,
) -> None:
    slow = asyncio.create_task(reader.post("/v1/prompts/atk/loops/render", json=RENDER))
    await asyncio.sleep(0)  # let the render start
    assert await while_in_progress(reader, slow) == [False] * 5
    response = await slow
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Render budget exceeded"
    assert problem["detail"] == TIME_DETAIL


async def test_render_route_refuses_forty_megabytes(reader: httpx.AsyncClient) -> None:
    response = await reader.post("/v1/prompts/atk/forty/render", json=RENDER)
    assert response.status_code == 422
    assert response.json()["detail"] == SIZE_DETAIL
    assert len(response.content) < 2_000


async def test_gateway_refuses_a_slow_template_and_stays_responsive(
    reader: httpx.AsyncClient,
) -> None:
    slow = asyncio.create_task(reader.post("/v1/chat/completions", json=chat_request("atk/loops")))
    await asyncio.sleep(0)
    assert await while_in_progress(reader, slow) == [False] * 5
    response = await slow
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == TIME_DETAIL
    assert error["code"] == "render_budget_max_seconds"
    assert error["type"] == "invalid_request_error"


async def test_gateway_refuses_forty_megabytes(reader: httpx.AsyncClient) -> None:
    for _ in range(2):  # the first call of a key takes the route, the next the fast path
        response = await reader.post("/v1/chat/completions", json=chat_request("atk/forty"))
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["message"], error["code"]) == (SIZE_DETAIL, "render_budget_max_chars")


async def test_normal_prompts_render_after_a_refusal(reader: httpx.AsyncClient) -> None:
    slow = await reader.post("/v1/prompts/atk/loops/render", json=RENDER)
    assert slow.status_code == 422
    hello = {"variables": {"name": "Ada"}, "label": "production"}
    rendered = await reader.post("/v1/prompts/ok/hello/render", json=hello)
    assert rendered.status_code == 200
    assert rendered.json()["text"] == "Hello Ada!"
    answered = await reader.post(
        "/v1/chat/completions",
        json={"model": "promptlane/ok/hello", "promptlane": {"variables": {"name": "Ada"}}},
    )
    assert answered.status_code == 200, answered.text


@pytest.fixture
async def small_budget_app(database_url: str, tmp_path: Path, db: Database) -> AsyncIterator[Any]:
    """An app whose settings allow 40 characters and a fifth of a second a render."""
    settings = make_settings(database_url, tmp_path, render_max_chars=40, render_max_seconds=0.2)
    application = create_app(settings, database=db)
    async with application.router.lifespan_context(application):
        async with db.transaction() as s:
            for role in (Role.WRITER, Role.READER):
                data = keys.ApiKeyCreate(name=f"test-{role.value}", role=role)
                await keys.create_key(s, data=data, created_by="tests", key=KEYS[role])
        yield application


async def test_the_budget_comes_from_the_settings(small_budget_app: Any) -> None:
    small = RenderBudget(max_chars=40, max_seconds=0.2)
    assert small_budget_app.state.services.gateway.render_budget == small
    assert small_budget_app.state.services.online_evaluator.render_budget == small
    async with client_of(small_budget_app, Role.ADMIN) as client:
        await publish(client, "p/long", "{% for i in range(41) %}x{% endfor %}")
        await publish(client, "p/slow", NESTED_LOOPS)
        long = await client.post("/v1/prompts/p/long/render", json=RENDER)
        assert long.json()["detail"] == "the rendered prompt is longer than 40 characters"
        slow = await client.post("/v1/prompts/p/slow/render", json=RENDER)
        assert slow.json()["detail"] == "rendering took longer than 0.2 s"
        via_gateway = await client.post("/v1/chat/completions", json=chat_request("p/long"))
        assert via_gateway.status_code == 400
        assert "longer than 40 characters" in via_gateway.json()["error"]["message"]
