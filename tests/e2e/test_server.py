"""A real `promptlane serve` process on 127.0.0.1, driven over HTTP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from api import migrate
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import PROMPTLANE, Server, free_port, server_env, start_server
from tests.factories import chat_body

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_health_and_readiness(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready"
    assert ready["revision"]


def test_prompt_lifecycle_over_http(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        first = http.post("/v1/prompts/e2e/triage/versions", json=chat_body())
        assert first.status_code == 201
        assert http.post("/v1/prompts/e2e/triage/versions", json=chat_body()).status_code == 200
        second = http.post(
            "/v1/prompts/e2e/triage/versions", json=chat_body(config={"model": "openai/gpt-4o"})
        )
        assert second.json()["version"] == 2
        assert (
            http.put(
                "/v1/prompts/e2e/triage/labels/production", json={"version": 2, "reason": "ship"}
            ).status_code
            == 200
        )

        resolved = http.get("/v1/prompts/e2e/triage")
        assert resolved.json()["version"] == 2
        etag = resolved.headers["etag"]
        assert (
            http.get("/v1/prompts/e2e/triage", headers={"If-None-Match": etag}).status_code == 304
        )

        rollback = http.put(
            "/v1/prompts/e2e/triage/labels/production", json={"version": 1, "reason": "rollback"}
        )
        assert rollback.json()["from_version"] == 2
        after = http.get("/v1/prompts/e2e/triage", headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.json()["version"] == 1

        rendered = http.post(
            "/v1/prompts/e2e/triage/render", json={"variables": {"company": "A", "ticket": "T"}}
        ).json()
        assert rendered["version"] == 1
        assert rendered["messages"][1]["content"] == "T"
        history = http.get("/v1/prompts/e2e/triage/labels/production/history").json()
        assert [e["reason"] for e in history["items"]] == ["rollback", "ship"]

        bad = http.post("/v1/prompts/e2e/triage/versions", json={"template": "{{> x}}"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert http.get("/v1/prompts/e2e/triage/versions").json()["total"] == 2


def test_data_survives_a_restart(databases: DatabaseFactory, tmp_path: Path) -> None:
    url = databases.create(migrate=False)
    settings = {
        "database_url": url,
        "bootstrap_admin_key": ADMIN_KEY,
        "credentials_file": str(tmp_path / "c.json"),
    }
    first = start_server(tmp_path, **settings)
    try:
        httpx.post(first.url + "/v1/prompts/keep/versions", json=chat_body(), headers=AUTH)
    finally:
        first.stop()
    second = start_server(tmp_path, **settings)
    try:
        got = httpx.get(
            first.url.replace(str(first.port), str(second.port)) + "/v1/prompts/keep?label=latest",
            headers=AUTH,
        )
        assert got.status_code == 200
        assert got.json()["version"] == 1
    finally:
        second.stop()


def test_fresh_server_prints_admin_key_once_and_saves_it(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    creds = tmp_path / "credentials.json"
    server = start_server(
        tmp_path, database_url=databases.create(migrate=False), credentials_file=str(creds)
    )
    try:
        saved = json.loads(creds.read_text())["servers"][server.url]
        assert saved.startswith("pl_")
        assert saved in server.output()
        assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
        ok = httpx.get(server.url + "/v1/keys", headers={"Authorization": f"Bearer {saved}"})
        assert ok.status_code == 200
    finally:
        server.stop()


def test_no_migrate_on_empty_database_refuses_to_start(databases: DatabaseFactory) -> None:
    env = server_env(database_url=databases.create(migrate=False))
    result = subprocess.run(
        [PROMPTLANE, "serve", "--no-migrate", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: the database schema is at base (empty) but promptlane needs "
        f"{migrate.head_revision()}: run `promptlane db upgrade`"
    ]
