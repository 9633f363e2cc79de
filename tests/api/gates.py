"""Shared pieces of the gate tests: a prompt, a dataset, a suite and helpers to run and move."""

from __future__ import annotations

from typing import Any

import httpx

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs.runner import Runner
from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body

PROMPT = "support/triage"
SUITE = """\
name: triage-quality
dataset: tickets
scorers:
  - {name: correct, type: exact_match}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
"""
ITEMS = [
    {"input": {"company": "Acme", "ticket": f"t{i}"}, "expected": c, "metadata": {"answer": c}}
    for i, c in enumerate(["billing", "technical", "account", "billing"])
]


def version(model: str, **knobs: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if knobs:
        config["offline"] = knobs
    return chat_body(config=config)


async def push_suite(client: httpx.AsyncClient, text: str = SUITE) -> None:
    response = await client.post(
        "/v1/suites", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text


async def make_gated(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A prompt with a failing v1 and a passing v2, a suite, and a production policy."""
    dataset = await client.post("/v1/datasets/tickets/versions", json={"items": ITEMS})
    assert dataset.status_code == 201, dataset.text
    await push_suite(client)
    for model in ("offline/echo", "offline/scripted"):
        published = await client.post(f"/v1/prompts/{PROMPT}/versions", json=version(model))
        assert published.status_code == 201
    policy = await client.put(
        "/v1/policies/production", json={"required_suites": ["triage-quality"]}
    )
    assert policy.status_code == 200, policy.text
    return client


async def run_suite(client: httpx.AsyncClient, db: Database, **target: Any) -> dict[str, Any]:
    headers = target.pop("headers", None)
    body = {"suite": "triage-quality", "prompt": PROMPT, **target}
    started = await client.post("/v1/runs", json=body, headers=headers)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued"
    model = ModelClient(retry=RetryPolicy(attempts=1))
    await Runner(db.writer, model=model, owner="tests").execute(started.json()["id"])
    finished = await client.get(f"/v1/runs/{started.json()['id']}")
    body: dict[str, Any] = finished.json()
    return body


async def move(
    client: httpx.AsyncClient, to: int, role: Role = Role.WRITER, **extra: Any
) -> httpx.Response:
    body = {"version": to, "reason": extra.pop("reason", "ship it"), **extra}
    return await client.put(
        f"/v1/prompts/{PROMPT}/labels/production", json=body, headers=auth(role)
    )
