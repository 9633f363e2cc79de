"""Runs for the console's browser tests: a finished run that fails its gate, and a slow one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

PROMPT, SLOW = "runs/triage", "runs/slow"
SUITE, DATASET = "runs/quality", "runs/tickets"
ANSWERS = ["billing", "technical", "billing", "account", "technical", "billing"]
WRONG = {1: "billing", 3: "technical"}  # position -> what the scripted model answers instead
BROKEN = 5  # this item has no `ticket`: its render fails, so it errors
SLOW_ITEMS, SLOW_LATENCY_MS = 12, 500  # one at a time: about 6 s of progress to watch
MESSAGES = [{"role": "user", "content": "Triage: {{ticket}}"}]


@dataclass(frozen=True)
class RunsSeeded:
    """The server, an admin client, a reader key and the finished run's id."""

    server: Server
    admin: httpx.Client
    reader_key: str
    run_id: int


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _items(count: int) -> list[dict[str, Any]]:
    items = []
    for i in range(count):
        expected = ANSWERS[i % len(ANSWERS)]
        answer = WRONG.get(i, expected)
        given = {} if i == BROKEN else {"ticket": f"ticket {i}"}
        items.append({"input": given, "expected": expected, "metadata": {"answer": answer}})
    return items


def start_slow_run(admin: httpx.Client) -> int:
    """Start a run that takes seconds (one item at a time, each slow); return its id."""
    body = {"suite": f"{SUITE}-slow", "prompt": SLOW, "version": 1, "concurrency": 1}
    return int(_ok(admin.post("/v1/runs", json=body), 202)["id"])


def wait_for(admin: httpx.Client, run_id: int, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Poll a run until its status is one of `statuses`; return it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = _ok(admin.get(f"/v1/runs/{run_id}"))
        if run["status"] in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {statuses}")


def _suite(name: str, dataset: str) -> dict[str, Any]:
    return {
        "name": name,
        "dataset": dataset,
        "scorers": [{"name": "correct", "type": "exact_match"}],
        "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
    }


def admin_client(server: Server) -> httpx.Client:
    """Return a client of `server` with the bootstrap admin key (the caller closes it)."""
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    )


def seed_runs(server: Server, admin: httpx.Client) -> RunsSeeded:
    """Publish the prompts, datasets and suites; run the fast one to completion; make a key."""
    scripted = {"model": "offline/scripted", "temperature": 0}
    slow = {**scripted, "offline": {"latency_ms": SLOW_LATENCY_MS}}
    for name, config in ((PROMPT, scripted), (SLOW, slow)):
        _ok(
            admin.post(
                f"/v1/prompts/{name}/versions", json={"messages": MESSAGES, "config": config}
            ),
            201,
        )
    _ok(admin.post(f"/v1/datasets/{DATASET}/versions", json=_items(len(ANSWERS))), 201)
    slow_items = [i for i in _items(SLOW_ITEMS) if i["input"]]
    _ok(admin.post(f"/v1/datasets/{DATASET}-slow/versions", json=slow_items), 201)
    _ok(admin.post("/v1/suites", json=_suite(SUITE, DATASET)), 201)
    _ok(admin.post("/v1/suites", json=_suite(f"{SUITE}-slow", f"{DATASET}-slow")), 201)
    body = {"suite": SUITE, "prompt": PROMPT, "version": 1}
    run_id = int(_ok(admin.post("/v1/runs", json=body), 202)["id"])
    wait_for(admin, run_id, ("completed", "failed"))
    reader = _ok(admin.post("/v1/keys", json={"name": "runs-reader", "role": "reader"}), 201)
    return RunsSeeded(server, admin, reader["key"], run_id)
