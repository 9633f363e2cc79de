"""`GET /v1/models` lists what a key may call through the gateway, in OpenAI's shape, so tools
that discover models work (issue 17, item 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from api.db import Database
from api.server.app import create_app
from prompts.policy import Role
from tests.conftest import KEYS, auth, make_settings
from tests.factories import chat_body

SECRET = "sk-listed-never-0123456789"


async def seed(client: httpx.AsyncClient) -> None:
    for name in ("support/triage", "drafts/new"):
        assert (
            await client.post(f"/v1/prompts/{name}/versions", json=chat_body())
        ).status_code == 201
    for label in ("production", "staging"):
        moved = await client.put(f"/v1/prompts/support/triage/labels/{label}", json={"version": 1})
        assert moved.status_code == 200, moved.text
    connection = {
        "name": "local",
        "provider": "openai",
        "api_base": "http://127.0.0.1:9/v1",
        "api_key": SECRET,
        "gateway_models": ["llama3", "qwen2"],
    }
    assert (await client.post("/v1/connections", json=connection)).status_code == 201


def sdk(app: Any, role: Role | None) -> openai.AsyncOpenAI:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    key = KEYS[role] if role else "none"
    return openai.AsyncOpenAI(base_url="http://promptlane.test/v1", api_key=key, http_client=http)


async def test_the_openai_sdk_lists_and_retrieves_what_a_reader_may_call(
    client: httpx.AsyncClient, app: Any
) -> None:
    await seed(client)
    raw = await client.get("/v1/models", headers=auth(Role.READER))
    assert raw.status_code == 200, raw.text
    assert SECRET not in raw.text
    assert "127.0.0.1:9" not in raw.text
    assert raw.json()["object"] == "list"
    reader = sdk(app, Role.READER)
    ids = [model.id async for model in reader.models.list()]
    assert ids == [
        "promptlane/support/triage",
        "promptlane/support/triage@production",
        "promptlane/support/triage@staging",
        "offline/echo",
        "offline/scripted",
        "llama3",
        "qwen2",
    ]  # drafts/new has no label: nothing resolves it without a version
    staged = await reader.models.retrieve("promptlane/support/triage@staging")
    assert (staged.object, staged.owned_by) == ("model", "promptlane")
    assert (await reader.models.retrieve("qwen2")).owned_by == "connection:local"
    with pytest.raises(openai.NotFoundError) as missing:
        await reader.models.retrieve("promptlane/nope")
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.AuthenticationError):
        await sdk(app, None).models.list()


async def test_offline_models_are_not_listed_when_switched_off(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    settings = make_settings(database_url, tmp_path, gateway_offline_models=False)
    app = create_app(settings, database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            listed = await client.get("/v1/models", headers=auth(Role.ADMIN))
    assert listed.status_code == 200, listed.text
    assert not [m for m in listed.json()["data"] if m["id"].startswith("offline/")]
