"""Data for the console's browser tests, published through the API of a real server."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

PROMPT = "support/triage"
SUITE, DATASET = "console/quality", "console/tickets"
BULK = 26  # with PROMPT: 27 prompts, two pages of 25
CONFIG = {"model": "offline/scripted", "temperature": 0}
SCHEMA = {
    "type": "object",
    "properties": {
        "ticket": {"type": "string", "description": "The customer's words"},
        "priority": {"type": "integer"},
    },
    "required": ["ticket", "priority"],
}
VERSIONS: list[dict[str, Any]] = [
    {
        "messages": [
            {"role": "system", "content": "You triage tickets."},
            {"role": "user", "content": "Triage: {{ticket}}"},
        ],
        "config": CONFIG,
        "message": "first cut",
        "description": "Routes support tickets to a team",
        "tags": ["support", "triage"],
    },
    {
        "messages": [
            {"role": "system", "content": "You triage support tickets.\nBe brief."},
            {"role": "user", "content": "Triage this ticket: {{ticket}}"},
        ],
        "config": {**CONFIG, "temperature": 0.2, "max_tokens": 50},
        "message": "be brief",
    },
    {
        "messages": [{"role": "user", "content": "[{{priority}}] {{ticket}}"}],
        "config": CONFIG,
        "variables_schema": SCHEMA,
        "message": "with a priority",
    },
]


@dataclass(frozen=True)
class Seeded:
    """The server, a reader and a writer key, and the run that let v2 into production."""

    server: Server
    reader_key: str
    writer_key: str
    run_id: int


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def run_suite(http: httpx.Client, version: int) -> int:
    """Run the console suite on a version of the prompt; return the finished run's id."""
    run = _ok(
        http.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": version}), 202
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if http.get(f"/v1/runs/{run['id']}").json()["status"] in ("completed", "failed"):
            return int(run["id"])
        time.sleep(0.1)
    raise AssertionError(f"run {run['id']} did not finish")


def _gate_production(http: httpx.Client) -> int:
    """Pin a suite for production; force v1 in (no run), then let v2 in on a passing run."""
    items = [
        {"input": {"ticket": f"ticket {i}"}, "expected": answer, "metadata": {"answer": answer}}
        for i, answer in enumerate(["billing", "technical"])
    ]
    _ok(http.post(f"/v1/datasets/{DATASET}/versions", json=items), 201)
    suite = {
        "name": SUITE,
        "dataset": DATASET,
        "scorers": [{"name": "correct", "type": "exact_match"}],
        "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
    }
    _ok(http.post("/v1/suites", json=suite), 201)
    _ok(http.put("/v1/policies/production", json={"required_suites": [SUITE], "prompt": PROMPT}))
    forced = {"version": 1, "reason": "hotfix before the run", "force": True}
    _ok(http.put(f"/v1/prompts/{PROMPT}/labels/production", json=forced))
    run_id = run_suite(http, 2)
    _ok(
        http.put(f"/v1/prompts/{PROMPT}/labels/production", json={"version": 2, "reason": "passed"})
    )
    return run_id


def seed(server: Server) -> Seeded:
    """Publish the prompt's versions and the bulk prompts, move labels, make two keys."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=server.url, headers=admin, timeout=30) as http:
        for body in VERSIONS:
            _ok(http.post(f"/v1/prompts/{PROMPT}/versions", json=body), 201)
        for i in range(BULK):
            body = {"template": f"Hello {{{{name}}}} #{i}", "tags": ["bulk"], "config": CONFIG}
            _ok(http.post(f"/v1/prompts/bulk/p{i:02d}/versions", json=body), 201)
        _ok(http.put(f"/v1/prompts/{PROMPT}/labels/staging", json={"version": 3, "reason": "try"}))
        run_id = _gate_production(http)
        keys = {
            role: _ok(http.post("/v1/keys", json={"name": f"console-{role}", "role": role}), 201)
            for role in ("reader", "writer")
        }
    return Seeded(server, keys["reader"]["key"], keys["writer"]["key"], run_id)
