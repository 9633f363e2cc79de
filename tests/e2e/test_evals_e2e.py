"""Evaluation runs in real server processes: a run survives `kill -9` of its server and every
item is recorded exactly once, whether recovery or `promptlane eval resume` picks it up."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

import evals.models  # noqa: F401  (registers the runs and run_items tables)
import tracing.models  # noqa: F401  (registers the generations table)
from api.db import sync_url
from prompts.base import metadata
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import PROMPTLANE, Server, server_env, start_server

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROMPT, DATASET, SUITE = "e2e/slow-triage", "e2e/tickets", "e2e/slow-quality"
ITEMS = 60
SUITE_YAML = f"""\
name: {SUITE}
dataset: {DATASET}
scorers:
  - {{name: correct, type: exact_match}}
gates:
  - {{metric: correct, aggregate: mean, op: ">=", value: 1.0}}
  - {{metric: "*", aggregate: error_rate, op: "<=", value: 0.0}}
concurrency: 2
"""
FINISHED = {"completed", "failed", "cancelled"}
Key = tuple[str, int, int]


@dataclass(frozen=True)
class DbRun:
    """A run and its items as the database holds them (no server involved)."""

    status: str
    completed: int
    total: int
    items: dict[Key, tuple[int, Any]]  # (variant, position, repeat) -> (row id, created_at)


def read_run(url: str, run_id: int) -> DbRun:
    runs, run_items = metadata.tables["runs"], metadata.tables["run_items"]
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            run = conn.execute(
                sa.select(runs.c.status, runs.c.completed, runs.c.total).where(runs.c.id == run_id)
            ).one()
            rows = conn.execute(
                sa.select(
                    run_items.c.variant,
                    run_items.c.position,
                    run_items.c.repeat,
                    run_items.c.id,
                    run_items.c.created_at,
                ).where(run_items.c.run_id == run_id)
            ).all()
    finally:
        engine.dispose()
    items = {(r.variant, r.position, r.repeat): (r.id, r.created_at) for r in rows}
    assert len(items) == len(rows)
    return DbRun(run.status, run.completed, run.total, items)


def generation_keys(url: str, run_id: int) -> list[Key]:
    """Return the (variant, position, repeat) of each generation the run stored."""
    table = metadata.tables["generations"]
    engine = sa.create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.attributes).where(table.c.run_id == run_id)
            ).scalars()
            attributes = list(rows)
    finally:
        engine.dispose()
    return [
        (a["promptlane.run.variant"], a["promptlane.item.position"], a["promptlane.item.repeat"])
        for a in attributes
    ]


def start(tmp: Path, url: str, *, lease: str, recover_every: str) -> Server:
    """Start a server on `url` with a run lease of `lease` seconds."""
    return start_server(
        tmp,
        database_url=url,
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        run_lease_seconds=lease,
        run_recover_every=recover_every,
    )


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Collect the servers a test starts; stop whichever are still alive at the end."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def seed(server: Server) -> None:
    """Store a dataset of ITEMS tickets, a slow scripted prompt that answers them all right,
    and a suite that runs two items at a time."""
    rows = [
        {
            "input": {"ticket": f"ticket {i}"},
            "expected": f"c{i % 3}",
            "metadata": {"answer": f"c{i % 3}"},
        }
        for i in range(ITEMS)
    ]
    version = {
        "messages": [{"role": "user", "content": "{{ticket}}"}],
        "config": {"model": "offline/scripted", "offline": {"latency_ms": 100}},
    }
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        assert (
            http.post(f"/v1/datasets/{DATASET}/versions", json={"items": rows}).status_code == 201
        )
        assert http.post(f"/v1/prompts/{PROMPT}/versions", json=version).status_code == 201
        suite = http.post(
            "/v1/suites", content=SUITE_YAML, headers={"Content-Type": "application/yaml"}
        )
        assert suite.status_code == 201, suite.text


def get_run(server: Server, run_id: int) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/v1/runs/{run_id}", headers=AUTH, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll `check` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def kill(server: Server) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)


def assert_recorded_exactly_once(server: Server, url: str, run_id: int, before: DbRun) -> None:
    """The run completed on its own, every item is there once, and none was redone."""
    run = get_run(server, run_id)
    assert (run["status"], run["verdict"]) == ("completed", "passed"), run
    assert run["completed"] == run["total"] == ITEMS
    assert run["errors"] == 0
    listed: list[dict[str, Any]] = []
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as http:
        while True:
            page = http.get(
                f"/v1/runs/{run_id}/items", params={"limit": 25, "offset": len(listed)}
            ).json()
            assert page["total"] == ITEMS
            listed.extend(page["items"])
            if len(listed) >= page["total"]:
                break
    keys = [(i["variant"], i["position"], i["repeat"]) for i in listed]
    assert len(keys) == len(set(keys)) == ITEMS
    assert {i["status"] for i in listed} == {"ok"}
    after = read_run(url, run_id)
    assert set(after.items) == set(keys)
    assert (after.status, after.completed) == ("completed", ITEMS)
    # Items written before the crash are the same rows, untouched by the resumed worker.
    assert {k: after.items[k] for k in before.items} == before.items
    # Each item's model call is one generation: none lost with the crash, none written twice.
    generations = generation_keys(url, run_id)
    assert sorted(generations) == sorted(keys)


def test_kill_9_mid_run_then_restart_recovers_exactly_once(
    databases: DatabaseFactory, tmp_path: Path, servers: list[Server]
) -> None:
    url = databases.create(migrate=False)
    first = start(tmp_path, url, lease="2", recover_every="0.5")
    servers.append(first)
    seed(first)
    # The real CLI follows the run; the server dies under it.
    follower = subprocess.Popen(
        [
            PROMPTLANE,
            "eval",
            "run",
            SUITE,
            "-p",
            f"{PROMPT}:1",
            "--url",
            first.url,
            "--api-key",
            ADMIN_KEY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
    )
    try:
        runs = wait_until(
            lambda: httpx.get(f"{first.url}/v1/runs", headers=AUTH).json()["items"], "the run"
        )
        run_id = runs[0]["id"]
        wait_until(lambda: get_run(first, run_id)["completed"] > 0, "the first items")
        kill(first)
        _, stderr = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    assert follower.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(
        f"error: lost promptlane at {first.url} while following run {run_id}"
    )

    before = read_run(url, run_id)
    assert before.status == "running"
    assert 0 < len(before.items) == before.completed < before.total == ITEMS

    second = start(tmp_path, url, lease="2", recover_every="0.5")
    servers.append(second)
    wait_until(lambda: get_run(second, run_id)["status"] in FINISHED, "recovery")
    assert_recorded_exactly_once(second, url, run_id, before)


def test_kill_9_mid_run_then_eval_resume(
    databases: DatabaseFactory, tmp_path: Path, servers: list[Server]
) -> None:
    url = databases.create(migrate=False)
    # Recovery runs once at start-up only: the second server, started before the run exists,
    # picks it up only when `promptlane eval resume` asks it to.
    first = start(tmp_path, url, lease="4", recover_every="3600")
    servers.append(first)
    second = start(tmp_path, url, lease="4", recover_every="3600")
    servers.append(second)
    seed(first)
    started = httpx.post(
        f"{first.url}/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1}, headers=AUTH
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    wait_until(lambda: get_run(first, run_id)["completed"] > 0, "the first items")

    busy = httpx.post(f"{second.url}/v1/runs/{run_id}/resume", headers=AUTH)
    assert busy.status_code == 409, busy.text  # the first server is alive and renews its lease
    assert "renewed its lease recently" in busy.json()["detail"]
    kill(first)
    before = read_run(url, run_id)
    assert before.status == "running"
    assert 0 < len(before.items) == before.completed < ITEMS

    def resume_once_the_lease_expired() -> subprocess.CompletedProcess[str] | None:
        result = subprocess.run(
            [
                PROMPTLANE,
                "eval",
                "resume",
                str(run_id),
                "--url",
                second.url,
                "--api-key",
                ADMIN_KEY,
            ],
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=120,
            check=False,
        )
        if result.returncode == 2 and "renewed its lease recently" in result.stderr:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            return None
        return result

    # Once the dead worker's lease runs out, resume is accepted and follows the run to its end.
    resumed = wait_until(resume_once_the_lease_expired, "the dead worker's lease to expire")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "verdict: passed" in resumed.stdout
    assert_recorded_exactly_once(second, url, run_id, before)
