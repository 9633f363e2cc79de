"""Datasets and suites for the console's Evaluations pages (tests/e2e/test_console_evals.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.console_runs_seed import admin_client
from tests.e2e.server import Server

__all__ = ["admin_client"]

BIG, SMALL = "evals/tickets", "evals/small"
BIG_ITEMS = 120  # v1: three pages of items (50, 50, 20); v2 (current) has SMALL_ITEMS
SMALL_ITEMS = 3
JUDGED, QUICK = "evals/judged", "evals/quick"
PROMPT, JUDGE = "evals/triage", "evals/judge"
MESSAGES = [{"role": "user", "content": "Triage: {{ticket}}"}]


@dataclass(frozen=True)
class EvalsSeeded:
    """The server, an admin client, a reader key and a writer key."""

    server: Server
    admin: httpx.Client
    reader_key: str
    writer_key: str


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def ticket_items(count: int, tag: str = "") -> list[dict[str, Any]]:
    """Return `count` items the scripted model answers right (`metadata.answer` = expected)."""
    return [
        {
            "input": {"ticket": f"ticket {tag}{i}"},
            "expected": f"answer {i}",
            "metadata": {"answer": f"answer {i}"},
        }
        for i in range(count)
    ]


def _suite(name: str, dataset: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "dataset": dataset,
        "scorers": [{"name": "correct", "type": "exact_match"}],
        "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
        **extra,
    }


def seed_evals(server: Server, admin: httpx.Client) -> EvalsSeeded:
    """Publish two datasets, a prompt, a judge prompt and two suites; make two keys."""
    big = f"/v1/datasets/{BIG}/versions"
    _ok(admin.post(big, params={"message": "the big one"}, json=ticket_items(BIG_ITEMS)))
    _ok(admin.post(big, params={"message": "trimmed"}, json=ticket_items(SMALL_ITEMS, "v2-")))
    _ok(admin.post(f"/v1/datasets/{SMALL}/versions", json=ticket_items(SMALL_ITEMS)))
    config = {"model": "offline/scripted", "temperature": 0}
    for name in (PROMPT, JUDGE):
        body = {"messages": MESSAGES, "config": config}
        _ok(admin.post(f"/v1/prompts/{name}/versions", json=body))
    _ok(
        admin.put(f"/v1/prompts/{JUDGE}/labels/production", json={"version": 1, "reason": "seed"}),
        200,
    )
    judged = _suite(JUDGED, f"{BIG}@1", description="Tickets, judged")
    _ok(admin.post("/v1/suites", json=judged))
    judge = {"name": "judged", "type": "llm_judge", "params": {"prompt": f"{JUDGE}@production"}}
    second = {**judged, "scorers": [*judged["scorers"], judge]}
    second["gates"] = [*judged["gates"], {"metric": "judged", "aggregate": "p50", "value": 0.5}]
    _ok(admin.post("/v1/suites", json=second))
    _ok(admin.post("/v1/suites", json=_suite(QUICK, SMALL)))
    keys = {
        role: _ok(admin.post("/v1/keys", json={"name": f"evals-{role}", "role": role}))["key"]
        for role in ("reader", "writer")
    }
    return EvalsSeeded(server, admin, keys["reader"], keys["writer"])
