from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from api.db import Database
from api.identity import credentials
from api.identity.keys import find_active, hash_key
from api.server.app import bootstrap_admin_key
from api.settings import settings_problem
from prompts.policy import Role
from tests.conftest import ADMIN_KEY, auth, make_settings


async def test_create_list_revoke(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/keys", json={"name": "ci", "role": "writer"})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("pl_")
    assert body["prefix"] == key[:10]
    assert body["role"] == "writer"
    assert (
        await client.get("/v1/prompts", headers={"Authorization": f"Bearer {key}"})
    ).status_code == 200
    listed = (await client.get("/v1/keys")).json()
    assert "key" not in listed[0]
    assert "key_hash" not in listed[0]
    assert {k["name"] for k in listed} >= {"bootstrap-admin", "ci"}
    revoked = await client.post(f"/v1/keys/{body['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    # The auth cache is dropped after the revocation commits: the key stops at once.
    denied = await client.get("/v1/prompts", headers={"Authorization": f"Bearer {key}"})
    assert denied.status_code == 401
    again = await client.post(f"/v1/keys/{body['id']}/revoke")
    assert again.status_code == 200


async def test_key_errors(client: httpx.AsyncClient) -> None:
    await client.post("/v1/keys", json={"name": "dup"})
    assert (await client.post("/v1/keys", json={"name": "dup"})).status_code == 409
    assert (await client.post("/v1/keys", json={"name": "x", "role": "root"})).status_code == 422
    assert (await client.post("/v1/keys", json={"name": "  "})).status_code == 422
    assert (await client.post("/v1/keys/999999/revoke")).status_code == 404
    assert (await client.post("/v1/keys/abc/revoke")).status_code == 422


async def test_last_admin_key_cannot_be_revoked(client: httpx.AsyncClient) -> None:
    admin_id = next(k["id"] for k in (await client.get("/v1/keys")).json() if k["role"] == "admin")
    refused = await client.post(f"/v1/keys/{admin_id}/revoke")
    assert refused.status_code == 409
    second = (await client.post("/v1/keys", json={"name": "admin2", "role": "admin"})).json()
    assert (await client.post(f"/v1/keys/{admin_id}/revoke")).status_code == 200
    other = {"Authorization": f"Bearer {second['key']}"}
    assert (await client.get("/v1/keys", headers=other)).status_code == 200


async def test_keys_are_stored_hashed(client: httpx.AsyncClient, db: Database) -> None:
    created = (await client.post("/v1/keys", json={"name": "h"})).json()
    async with db.reader() as session:
        rows = (await session.execute(text("SELECT key_hash FROM api_keys"))).scalars().all()
    assert hash_key(created["key"]) in rows
    assert created["key"] not in rows


async def test_fresh_server_generates_prints_and_saves_admin_key(
    db: Database, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url, tmp_path, bootstrap_admin_key=None, port=8123)
    await bootstrap_admin_key(db, settings)
    printed = capsys.readouterr().out
    saved = credentials.key_for(settings.credentials_file, "http://127.0.0.1:8123")
    assert saved is not None
    assert saved in printed
    assert stat.S_IMODE(os.stat(settings.credentials_file).st_mode) == 0o600
    # A second start prints nothing and keeps the key.
    await bootstrap_admin_key(db, settings)
    assert capsys.readouterr().out == ""
    assert credentials.key_for(settings.credentials_file, "http://127.0.0.1:8123") == saved


async def test_bootstrap_key_from_settings(db: Database, database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path)
    await bootstrap_admin_key(db, settings)
    assert not settings.credentials_file.exists()
    async with db.reader() as session:
        row = await find_active(session, hash_key(ADMIN_KEY))
    assert row is not None
    assert row.role == Role.ADMIN


async def test_malformed_bootstrap_key_refused(database_url: str, tmp_path: Path) -> None:
    # Refused when the settings are read, before the server starts (one line from `serve`:
    # tests/identity/test_deployment_papercuts.py).
    with pytest.raises(ValidationError) as refused:
        make_settings(database_url, tmp_path, bootstrap_admin_key="not-a-key")
    assert settings_problem(refused.value).startswith("PROMPTLANE_BOOTSTRAP_ADMIN_KEY: must look")


async def test_reader_cannot_manage_keys(client: httpx.AsyncClient) -> None:
    response: Any = await client.post("/v1/keys", json={"name": "x"}, headers=auth(Role.READER))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer pl_wrong", "unknown or revoked API key"),  # mistyped: not "malformed"
        ("Bearer " + "pl_" + "z" * 30, "unknown or revoked API key"),
        ("Bearer sk-abc", "unknown or revoked API key"),
        ("Basic dXNlcjpwYXNz", "malformed API key: expected 'Authorization: Bearer pl_...'"),
        ("Bearer ", "malformed API key: expected 'Authorization: Bearer pl_...'"),
    ],
)
async def test_a_wrong_key_is_unknown_and_a_wrong_header_malformed(
    client: httpx.AsyncClient, header: str, detail: str
) -> None:
    response = await client.get("/v1/prompts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"] == detail
