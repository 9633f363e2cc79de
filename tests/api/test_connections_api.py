"""/v1/connections: admins manage them, anyone with a key reads them, keys are write-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import ValidationError

from api.db import Database
from api.server.app import create_app
from api.settings import Settings
from prompts.policy import Role
from tests.conftest import auth, make_settings
from tests.evals.fake_openai import FakeOpenAI

KEY = "sk-write-only-0123456789"
MESSAGES = [{"role": "user", "content": "hello there"}]


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "openai", "provider": "openai", **fields}


async def stored(db: Database) -> list[dict[str, Any]]:
    async with db.reader() as session:
        rows = await session.execute(sa.text("SELECT * FROM connections ORDER BY name"))
        return [dict(row) for row in rows.mappings()]


async def test_create_read_update_delete(client: httpx.AsyncClient, db: Database) -> None:
    created = await client.post(
        "/v1/connections",
        json=body(api_base="http://127.0.0.1:11434/v1", api_key=KEY, gateway_models=["m"]),
    )
    assert created.status_code == 201, created.text
    read = created.json()
    assert read["has_api_key"] is True
    assert (read["api_key_env"], read["gateway_models"]) == (None, ["m"])
    assert read["created_by"] == read["updated_by"] == "bootstrap-admin"
    assert "api_key" not in read
    [row] = await stored(db)
    sealed = row["api_key_ciphertext"]
    assert sealed != KEY
    assert KEY not in str(row)

    # An omitted key stays as it was (same ciphertext); other fields change.
    patched = await client.patch("/v1/connections/openai", json={"description": "local"})
    assert patched.json()["description"] == "local"
    assert (await stored(db))[0]["api_key_ciphertext"] == sealed
    # A variable replaces the stored key; a key replaces the variable; null removes.
    moved = await client.patch("/v1/connections/openai", json={"api_key_env": "OPENAI_API_KEY"})
    assert (moved.json()["has_api_key"], moved.json()["api_key_env"]) == (False, "OPENAI_API_KEY")
    assert (await stored(db))[0]["api_key_ciphertext"] is None
    back = await client.patch("/v1/connections/openai", json={"api_key": "sk-new-key-1"})
    assert (back.json()["has_api_key"], back.json()["api_key_env"]) == (True, None)
    gone = await client.patch("/v1/connections/openai", json={"api_key": None, "api_base": None})
    assert (gone.json()["has_api_key"], gone.json()["api_base"]) == (False, None)

    listed = await client.get("/v1/connections", headers=auth(Role.READER))
    assert [c["name"] for c in listed.json()] == ["openai"]
    assert (await client.delete("/v1/connections/openai")).status_code == 204
    assert (await client.get("/v1/connections/openai")).status_code == 404
    assert (await client.delete("/v1/connections/openai")).status_code == 404


async def test_conflicts_are_409(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/v1/connections", json=body(gateway_models=["m"]))
    ).status_code == 201
    assert (await client.post("/v1/connections", json=body())).status_code == 409
    other = body(name="other", gateway_models=["x", "m"])
    clash = await client.post("/v1/connections", json=other)
    assert clash.status_code == 409
    assert "'m' is already offered through connection 'openai'" in clash.json()["detail"]
    assert (
        await client.post("/v1/connections", json={**other, "gateway_models": ["x"]})
    ).status_code == 201
    steal = await client.patch("/v1/connections/other", json={"gateway_models": ["m"]})
    assert steal.status_code == 409
    # Its own models are no clash.
    same = await client.patch("/v1/connections/openai", json={"gateway_models": ["m", "n"]})
    assert same.status_code == 200


@pytest.mark.parametrize("role", [Role.WRITER, Role.READER])
async def test_only_admins_change_connections(
    client: httpx.AsyncClient, db: Database, role: Role
) -> None:
    assert (await client.post("/v1/connections", json=body(api_key=KEY))).status_code == 201
    headers = auth(role)
    attempts = [
        client.post("/v1/connections", json=body(name="mine"), headers=headers),
        client.patch("/v1/connections/openai", json={"api_base": "http://x/v1"}, headers=headers),
        client.delete("/v1/connections/openai", headers=headers),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 403
    [row] = await stored(db)
    assert row["api_base"] is None
    read = await client.get("/v1/connections/openai", headers=headers)
    assert read.status_code == 200
    assert KEY not in read.text


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"name": "open\x00ai"}, "#/name"),
        ({"name": "openai\n"}, "#/name"),
        ({"name": "OpenAI"}, "#/name"),
        ({"name": "a" * 65}, "#/name"),
        ({"name": ""}, "#/name"),
        ({"provider": "open ai"}, "#/provider"),
        ({"provider": "openai\n"}, "#/provider"),
        ({"api_base": "file:///etc/passwd"}, "#/api_base"),
        ({"api_base": "ftp://host/v1"}, "#/api_base"),
        ({"api_base": "http://user:pass@host/v1"}, "#/api_base"),
        ({"api_base": "http://host/v1?key=1"}, "#/api_base"),
        ({"api_base": "http://host/v1#x"}, "#/api_base"),
        ({"api_base": "http:///v1"}, "#/api_base"),
        ({"api_base": "http://host:99999/v1"}, "#/api_base"),
        ({"api_base": "http://ho\x00st/v1"}, "#/api_base"),
        ({"api_base": "http://host/v1\n"}, "#/api_base"),
        ({"api_base": "http://h/" + "v" * 10_000}, "#/api_base"),
        ({"api_key": ""}, "#/api_key"),
        ({"api_key": "sk-\nInjected: header"}, "#/api_key"),
        ({"api_key": "sk-\x00"}, "#/api_key"),
        ({"api_key": 12345}, "#/api_key"),
        ({"api_key": KEY, "api_key_env": "OPENAI_API_KEY"}, "#"),
        ({"api_key_env": "PATH\n"}, "#/api_key_env"),
        ({"api_key_env": "lower_case"}, "#/api_key_env"),
        ({"api_key_env": "HOME"}, "#/api_key_env"),
        ({"api_key_env": "PROMPTLANE_SECRET_KEYS"}, "#/api_key_env"),
        ({"api_key_env": "AWS_SECRET_ACCESS_KEY"}, "#/api_key_env"),
        ({"gateway_models": ["promptlane/x"]}, "#/gateway_models"),
        ({"gateway_models": ["offline/echo"]}, "#/gateway_models"),
        ({"gateway_models": ["a b"]}, "#/gateway_models"),
        ({"gateway_models": ["m", "m"]}, "#/gateway_models"),
        ({"gateway_models": "m"}, "#/gateway_models"),
        ({"description": "x\x00"}, "#/description"),
        ({"surprise": 1}, "#/surprise"),
    ],
)
async def test_hostile_values_are_422_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Database, fields: dict[str, Any], pointer: str
) -> None:
    response = await client.post("/v1/connections", json=body(**fields))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"].startswith(pointer)
    assert "Injected" not in response.text
    assert await stored(db) == []


@pytest.mark.parametrize("name", ["bad%00name", "openai%0A", "Open", "x" * 65])
async def test_hostile_path_names_are_422(client: httpx.AsyncClient, name: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"description": "x"}} if method == "PATCH" else {}
        response = await client.request(method, f"/v1/connections/{name}", **kwargs)
        assert response.status_code == 422, (method, response.text)


@pytest.mark.parametrize(
    "patch",
    [{"provider": None}, {"gateway_models": None}, {"api_base": "file:///x"}, {"api_key": ""}],
)
async def test_bad_changes_are_422_and_change_nothing(
    client: httpx.AsyncClient, db: Database, patch: dict[str, Any]
) -> None:
    await client.post("/v1/connections", json=body(api_key=KEY))
    before = await stored(db)
    response = await client.patch("/v1/connections/openai", json=patch)
    assert response.status_code == 422, response.text
    assert await stored(db) == before


# --- the keys at rest: a key file created 0600, rotation with PROMPTLANE_SECRET_KEYS -----------


async def call_through(app: Any, provider: FakeOpenAI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers=auth(Role.ADMIN)
    ) as admin:
        return await admin.post(
            "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES}
        )


async def test_the_key_file_is_created_owner_only(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


async def test_a_key_sealed_under_a_decrypts_after_rotation_to_b_a(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    a, b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    provider = FakeOpenAI().start()
    try:
        first = create_app(make_settings(database_url, tmp_path, secret_keys=a), database=db)
        async with first.router.lifespan_context(first):
            transport = httpx.ASGITransport(app=first)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t", headers=auth(Role.ADMIN)
            ) as admin:
                connection = body(
                    api_base=provider.base_url, api_key=KEY, gateway_models=["gpt-4o-mini"]
                )
                assert (await admin.post("/v1/connections", json=connection)).status_code == 201
        rotated = create_app(
            make_settings(database_url, tmp_path, secret_keys=f"{b},{a}"), database=db
        )
        async with rotated.router.lifespan_context(rotated):
            assert (await call_through(rotated, provider)).status_code == 200
        assert provider.requests[-1].headers["authorization"] == f"Bearer {KEY}"
        lost = create_app(make_settings(database_url, tmp_path, secret_keys=b), database=db)
        async with lost.router.lifespan_context(lost):
            refused = await call_through(lost, provider)
        assert refused.status_code == 400
        assert "cannot be decrypted" in refused.json()["error"]["message"]
        assert len(provider.requests) == 1
    finally:
        provider.stop()


@pytest.mark.parametrize("keys", ["not-a-key", " , ", "x" * 44])
async def test_a_bad_secret_key_stops_the_start(
    database_url: str, tmp_path: Path, db: Database, keys: str
) -> None:
    app = create_app(make_settings(database_url, tmp_path, secret_keys=keys), database=db)
    with pytest.raises(RuntimeError, match="PROMPTLANE_SECRET_KEYS") as caught:
        async with app.router.lifespan_context(app):
            pass
    assert keys.strip(" ,") == "" or keys not in str(caught.value)


@pytest.mark.parametrize("names", [["PROMPTLANE_SECRET_KEYS"], ["lower_case"], ["A B"], ["X\n"]])
def test_the_allowlist_never_names_the_servers_own_secrets(names: list[str]) -> None:
    with pytest.raises(ValidationError):
        Settings(connection_env_allowlist=names)


async def test_only_allow_listed_variables_are_read(
    database_url: str, tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("MY_KEY", "sk-not-allowed")
    settings = make_settings(database_url, tmp_path, connection_env_allowlist=["OPENAI_API_KEY"])
    assert settings.connection_env() == {"OPENAI_API_KEY": "sk-from-the-environment"}
