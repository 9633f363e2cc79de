"""Provider credentials, attacked: a writer cannot point calls anywhere, keys never leak.

The threat: a writer publishes `extra: {api_base: <their host>}` and every reader's gateway call
sends the server's provider key there; keys stored in content reach every reader. Connections
(admin-managed, keys sealed at rest) are the only way a call gets an endpoint or a key.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import select

from api.db import Database
from api.identity import keys
from api.identity.secret_keys import read_or_create_key
from api.server.app import create_app
from api.server.gateway.service import Gateway
from evals.connections.crypto import SecretBox
from prompts.models import Label, Prompt, PromptVersion
from prompts.policy import Role
from tests.conftest import KEYS, auth, make_settings
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.factories import chat_body
from tests.tracing.conftest import Traced
from tracing.models import Generation

URL = "/v1/chat/completions"
SECRET = "sk-connection-secret-0123456789"
PLANTED = "sk-planted-in-content-987654321"
MESSAGES = [{"role": "user", "content": "my card was charged twice"}]


@pytest.fixture
def traced() -> Iterator[Traced]:
    t = Traced(record_content=True)  # the most a deployment could record
    yield t
    t.handle.shutdown()


@pytest.fixture
async def app(database_url: str, tmp_path: Path, db: Database, traced: Traced) -> Any:
    settings = make_settings(database_url, tmp_path, online_eval_concurrency=1)
    application = create_app(settings, database=db, tracing=traced.handle)
    async with application.router.lifespan_context(application):
        async with db.transaction() as s:
            for role in (Role.WRITER, Role.READER):
                data = keys.ApiKeyCreate(name=f"test-{role.value}", role=role)
                await keys.create_key(s, data=data, created_by="tests", key=KEYS[role])
        yield application


@pytest.fixture
def provider() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def listener() -> Iterator[FakeOpenAI]:
    """The attacker's host: it records every request that reaches it."""
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
async def reader(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://promptlane.test", headers=auth(Role.READER)
    ) as c:
        yield c


async def connect(client: httpx.AsyncClient, provider: FakeOpenAI, **fields: Any) -> None:
    body = {"name": "openai", "provider": "openai", "api_base": provider.base_url, **fields}
    created = await client.post("/v1/connections", json=body)
    assert created.status_code == 201, created.text


async def generations(app: FastAPI, db: Database) -> list[Generation]:
    gateway: Gateway = app.state.services.gateway
    await gateway.join()
    async with db.reader() as session:
        return list(await session.scalars(select(Generation).order_by(sa.text("id"))))


async def plant_legacy_version(db: Database, name: str, config: dict[str, Any]) -> None:
    """Insert a version as an old server stored it (free-form `extra`), labelled production."""
    async with db.transaction() as session:
        prompt = Prompt(name=name)
        session.add(prompt)
        await session.flush()
        assert prompt.id is not None
        version = PromptVersion(
            prompt_id=prompt.id,
            version=1,
            kind="chat",
            messages=[{"role": "user", "content": "{{ticket}}"}],
            template_format="mustache",
            variables=["ticket"],
            config=config,
            content_hash="0" * 64,
        )
        session.add(version)
        await session.flush()
        assert version.id is not None
        session.add(Label(prompt_id=prompt.id, name="production", version_id=version.id))


def call(model: str, **fields: Any) -> dict[str, Any]:
    return {"model": model, "promptlane": {"variables": {"ticket": "hi"}}, **fields}


# --- a writer cannot put an endpoint or a key in content ---------------------------------------


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"extra": {"api_base": "http://attacker.test/v1"}}, "#/config/extra/api_base"),
        ({"api_base": "http://attacker.test/v1"}, "#/config/api_base"),
        ({"api_key": PLANTED}, "#/config/api_key"),
        ({"extra": {"api_key": PLANTED}}, "#/config/extra/api_key"),
        ({"base_url": "http://attacker.test/v1"}, "#/config/base_url"),
        ({"extra_headers": {"Authorization": "Bearer x"}}, "#/config/extra_headers"),
        ({"aws_secret_access_key": "x"}, "#/config/aws_secret_access_key"),
        ({"offline": {"api_base": "http://attacker.test/v1"}}, "#/config/offline/api_base"),
    ],
)
async def test_a_writer_publishing_an_endpoint_or_key_gets_422_and_nothing_is_stored(
    client: httpx.AsyncClient, config: dict[str, Any], pointer: str
) -> None:
    body = {
        "messages": [{"role": "user", "content": "{{ticket}}"}],
        "config": {"model": "openai/gpt-4o-mini", **config},
    }
    response = await client.post("/v1/prompts/atk/p/versions", json=body, headers=auth(Role.WRITER))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["pointer"] == pointer
    assert "connection" in problem["detail"]
    assert PLANTED not in response.text  # the refused value is not echoed
    assert (await client.get("/v1/prompts/atk/p", params={"label": "latest"})).status_code == 404


# --- a version stored before connections existed never gets a key --------------------------------


async def test_a_legacy_endpoint_in_content_is_never_called_with_any_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    db: Database,
    provider: FakeOpenAI,
    listener: FakeOpenAI,
) -> None:
    # The app shares the test's one connection: each call's row (and its online sampling) is
    # written before the next request, never interleaved with it (on PostgreSQL that aborts
    # the shared transaction).
    gateway: Gateway = app.state.services.gateway
    planted = {"api_base": listener.base_url, "api_key": PLANTED, "presence_penalty": 0.5}
    await plant_legacy_version(
        db,
        "legacy/p",
        {"model": "openai/gpt-4o-mini", "api_base": listener.base_url, "extra": planted},
    )
    # Without a connection, the call is a configuration error; nothing goes anywhere.
    refused = await reader.post(URL, json=call("promptlane/legacy/p"))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "model_not_configured"
    assert "promptlane connections create openai" in refused.json()["error"]["message"]
    await gateway.join()
    # With one, the call goes through the connection: its endpoint, its key.
    await connect(client, provider, api_key=SECRET)
    answered = await reader.post(URL, json=call("promptlane/legacy/p"))
    assert answered.status_code == 200, answered.text
    await gateway.join()
    (sent,) = provider.requests
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body["presence_penalty"] == 0.5  # its known parameters still count
    assert PLANTED not in json.dumps(sent.body)
    assert listener.requests == []
    for path in ("/v1/prompts/legacy/p", "/v1/prompts/legacy/p/versions/1"):
        read = await reader.get(path)
        assert read.status_code == 200
        assert PLANTED not in read.text
        assert listener.base_url not in read.text
    rendered = await reader.post("/v1/prompts/legacy/p/render", json={"variables": {"ticket": "x"}})
    assert PLANTED not in rendered.text


# --- a connection's key never comes back --------------------------------------------------------


async def test_a_connection_key_is_never_returned_logged_exported_or_echoed(
    client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    traced: Traced,
    provider: FakeOpenAI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    created = await client.post(
        "/v1/connections",
        json={
            "name": "openai",
            "provider": "openai",
            "api_base": provider.base_url,
            "api_key": SECRET,
            "gateway_models": ["gpt-4o-mini"],
        },
    )
    assert created.status_code == 201
    seen = [created.text]
    for who in (client, reader):
        seen.append((await who.get("/v1/connections")).text)
        seen.append((await who.get("/v1/connections/openai")).text)
    assert json.loads(seen[-1])["has_api_key"] is True
    version = chat_body(config={"model": "openai/gpt-4o-mini", "connection": "openai"})
    assert (await client.post("/v1/prompts/p/versions", json=version)).status_code == 201
    seen.append((await reader.get("/v1/prompts/p", params={"label": "latest"})).text)
    provider.script(
        Step.ok("one"),
        Step.ok("two words"),
        Step.error(401, message=f"Incorrect API key provided: {SECRET}"),
    )
    variables = {"variables": {"company": "Acme", "ticket": "hi"}}
    for body in (
        {"model": "promptlane/p:1", "promptlane": variables},
        {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True},
        {"model": "gpt-4o-mini", "messages": MESSAGES},
    ):
        seen.append((await reader.post(URL, json=body)).text)
    assert "[redacted]" in seen[-1]
    seen.append((await reader.get("/metrics")).text)
    seen.extend(json.dumps(dict(s.attributes or {})) for s in traced.spans())  # type: ignore[attr-defined]
    seen.extend(str(row.model_dump()) for row in await generations(app, db))
    seen.append(caplog.text)
    assert all(SECRET not in text for text in seen)
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in provider.requests)
    assert all(SECRET not in json.dumps(r.body) for r in provider.requests)
    async with db.reader() as session:
        row = (await session.execute(sa.text("SELECT * FROM connections"))).mappings().one()
    assert SECRET not in str(dict(row))
    box = SecretBox([read_or_create_key(tmp_path / "secret.key")])
    assert box.open(row["api_key_ciphertext"]) == SECRET


# --- plain models through the gateway: an admin's decision ----------------------------------------


async def test_plain_models_are_served_only_when_an_admin_offers_them(
    client: httpx.AsyncClient, reader: httpx.AsyncClient, provider: FakeOpenAI, app: FastAPI
) -> None:
    plain = {"model": "gpt-4o-mini", "messages": MESSAGES}
    for model in ("gpt-4o-mini", "openai/gpt-4o-mini"):
        refused = await reader.post(URL, json={**plain, "model": model})
        assert refused.status_code == 404, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["param"]) == ("model_not_found", "model")
        assert "not available through this gateway" in error["message"]
    assert provider.requests == []
    await connect(client, provider, api_key=SECRET, gateway_models=["gpt-4o-mini"])
    answered = await reader.post(URL, json={**plain, "temperature": 0.3, "api_key": "sk-mine"})
    assert answered.status_code == 200, answered.text
    (sent,) = provider.requests
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.body == {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.3}
    still = await reader.post(URL, json={**plain, "model": "gpt-4o"})
    assert still.status_code == 404
    clash = await client.post(
        "/v1/connections",
        json={"name": "other", "provider": "openai", "gateway_models": ["gpt-4o-mini"]},
    )
    assert clash.status_code == 409, clash.text
    offline = await reader.post(URL, json={**plain, "model": "offline/echo"})
    assert offline.status_code == 200


async def test_offline_models_can_be_switched_off_for_the_gateway(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    settings = make_settings(database_url, tmp_path, gateway_offline_models=False)
    application = create_app(settings, database=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth(Role.ADMIN)
        ) as admin:
            body = {"model": "offline/echo", "messages": MESSAGES}
            assert (await admin.post(URL, json=body)).status_code == 404


# --- the gateway's request body: typed and strict ------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": False}, "temperature"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"max_tokens": 2**31}, "max_tokens"),
        ({"seed": 2**64}, "seed"),
        ({"logprobs": "true"}, "logprobs"),
        ({"model": "offline/echo\x00"}, "model"),
        ({"model": "offline/echo\n"}, "model"),
        ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    ],
)
async def test_coerced_values_are_400(
    reader: httpx.AsyncClient, fields: dict[str, Any], param: str
) -> None:
    body = {"model": "offline/echo", "messages": MESSAGES, **fields}
    for _ in range(2):  # the route, then the fast path of a verified key
        response = await reader.post(URL, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param
