"""A writer key tries every bypass of the gate against a real server: production never moves,
no request reaches an attacker's host, and `promptlane audit verify` passes on the history
until a row is edited by hand."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from api.db import sync_url
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import PROMPTLANE, Server, server_env, start_server
from tests.evals.fake_openai import FakeOpenAI
from tests.factories import chat_body

pytestmark = pytest.mark.e2e
PROMPT, DATASET, SUITE = "demo/support-triage", "demo/support-tickets", "demo/triage-quality"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def demo_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("trust")
    running = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    yield running
    running.stop()


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server_env(), "PROMPTLANE_URL": server.url, "PROMPTLANE_API_KEY": ADMIN_KEY}
    return subprocess.run(
        [PROMPTLANE, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def wait_for(http: httpx.Client, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def production(http: httpx.Client) -> int:
    return int(http.get(f"/v1/prompts/{PROMPT}/labels/production").json()["version"])


def attack(writer: httpx.Client) -> list[tuple[str, int]]:
    """Every way a writer tried to put the failing v1 in production, and the status each got."""
    outcomes: list[tuple[str, int]] = []
    suite = writer.get(f"/v1/suites/{SUITE}").json()["spec"]
    yaml = {"Content-Type": "application/json"}

    weak = writer.post("/v1/suites", json={**suite, "gates": []}, headers=yaml)
    assert weak.status_code == 201, weak.text
    run = writer.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1})
    assert wait_for(writer, run.json()["id"])["verdict"] == "passed"
    move = {"version": 1, "reason": "the suite passes"}
    outcomes.append(
        (
            "weakened suite",
            writer.put(f"/v1/prompts/{PROMPT}/labels/production", json=move).status_code,
        )
    )

    items = writer.get(f"/v1/datasets/{DATASET}/versions/1", params={"items": "true"}).json()
    rigged = [
        {"input": i["input"], "expected": i["input"]["ticket"], "metadata": i["metadata"]}
        for i in items["items"]
    ]
    rigged_push = writer.post(f"/v1/datasets/{DATASET}/versions", json={"items": rigged})
    assert rigged_push.status_code == 201, rigged_push.text
    repinned = writer.post("/v1/suites", json=suite, headers=yaml)  # pins the rigged dataset
    assert repinned.status_code == 201, repinned.text
    run = writer.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1})
    assert wait_for(writer, run.json()["id"])["verdict"] == "passed"
    outcomes.append(
        (
            "rigged dataset",
            writer.put(f"/v1/prompts/{PROMPT}/labels/production", json=move).status_code,
        )
    )

    forced = {"version": 1, "reason": "trust me", "force": True}
    outcomes.append(
        ("force", writer.put(f"/v1/prompts/{PROMPT}/labels/production", json=forced).status_code)
    )
    pin = {"required_suites": [f"{SUITE}:{weak.json()['version']}"], "prompt": PROMPT}
    outcomes.append(
        ("pin the weak suite", writer.put("/v1/policies/production", json=pin).status_code)
    )
    outcomes.append(
        (
            "delete the policy",
            writer.delete("/v1/policies/production", params={"prompt": PROMPT}).status_code,
        )
    )
    outcomes.append(
        (
            "newline label",
            writer.put(f"/v1/prompts/{PROMPT}/labels/production%0A", json=move).status_code,
        )
    )
    outcomes.append(
        ("newline policy", writer.put("/v1/policies/production%0A", json=pin).status_code)
    )
    return outcomes


def exfiltrate(writer: httpx.Client, reader: httpx.Client, listener: FakeOpenAI) -> list[int]:
    """Try to make the server call the attacker's host (with whatever key it holds)."""
    config = {"model": "openai/gpt-4o-mini", "api_base": listener.base_url, "api_key": "x"}
    body = {**chat_body(), "config": config}  # as an attacker sends it (no client-side checks)
    planted = [
        writer.post("/v1/prompts/atk/p/versions", json=body),
        writer.post(
            "/v1/prompts/atk/p/versions",
            json={**body, "config": {"model": "openai/gpt-4o-mini", "extra": config}},
        ),
    ]
    called = reader.post(
        "/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    return [*(r.status_code for r in planted), called.status_code]


def edit_last_move(url: str) -> None:
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE label_events SET reason = 'nothing happened' "
                    "WHERE seq = (SELECT MAX(seq) FROM label_events)"
                )
            )
    finally:
        engine.dispose()


@pytest.fixture
def listener() -> Iterator[FakeOpenAI]:
    """The attacker's host: it records every request that reaches it."""
    server = FakeOpenAI().start()
    yield server
    server.stop()


def test_a_writer_cannot_move_production_and_the_audit_trail_holds(
    demo_server: Server, listener: FakeOpenAI
) -> None:
    demo = cli(demo_server, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    with httpx.Client(base_url=demo_server.url, headers=ADMIN, timeout=30) as admin:
        assert production(admin) == 2
        key = admin.post("/v1/keys", json={"name": "ci-writer", "role": "writer"}).json()["key"]
        writer_headers = {"Authorization": f"Bearer {key}"}
        reader_key = admin.post("/v1/keys", json={"name": "app", "role": "reader"}).json()["key"]
        reader_headers = {"Authorization": f"Bearer {reader_key}"}
        with (
            httpx.Client(base_url=demo_server.url, headers=writer_headers, timeout=30) as writer,
            httpx.Client(base_url=demo_server.url, headers=reader_headers, timeout=30) as reader,
        ):
            outcomes = attack(writer)
            assert exfiltrate(writer, reader, listener) == [422, 422, 404]
        assert listener.requests == []  # nothing ever reached the attacker's host
        assert outcomes == [
            ("weakened suite", 409),
            ("rigged dataset", 409),
            ("force", 403),
            ("pin the weak suite", 403),
            ("delete the policy", 403),
            ("newline label", 422),
            ("newline policy", 422),  # refused before the key is even looked at
        ]
        assert production(admin) == 2

    verified = cli(demo_server, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 gated" in verified.stdout
    assert verified.stdout.strip().endswith("ok")

    edit_last_move(demo_server.env["PROMPTLANE_DATABASE_URL"])
    tampered = cli(demo_server, "audit", "verify")
    assert tampered.returncode == 1
    assert "was changed" in tampered.stderr
