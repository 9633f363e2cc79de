"""Runs API tests' shared data, helpers and the `seeded` fixture."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from evals.llm.client import ModelClient, RetryPolicy
from evals.runs.runner import Runner
from tests.factories import chat_body

PROBLEM = "application/problem+json"
PROMPT = "support/triage"
SUITE = """\
name: triage-quality
dataset: tickets
scorers:
  - {name: correct, type: exact_match}
  - {name: short, type: length, params: {max_chars: 40}}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
repeats: 2
"""
CATEGORIES = ["billing", "technical", "account", "billing"]
ITEMS = [
    {"input": {"company": "Acme", "ticket": f"t{i}"}, "expected": c, "metadata": {"answer": c}}
    for i, c in enumerate(CATEGORIES)
]


def version(model: str, **knobs: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if knobs:
        config["offline"] = knobs
    return chat_body(config=config)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def push_suite(client: httpx.AsyncClient, text: str = SUITE) -> dict[str, Any]:
    response = await client.post(
        "/v1/suites", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def push_dataset(
    client: httpx.AsyncClient, name: str = "tickets", items: list[dict[str, Any]] = ITEMS
) -> dict[str, Any]:
    response = await client.post(f"/v1/datasets/{name}/versions", json={"items": items})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def publish(client: httpx.AsyncClient, name: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/v1/prompts/{name}/versions", json=body)
    assert response.status_code == 201, response.text
    published: dict[str, Any] = response.json()
    return published


async def label(client: httpx.AsyncClient, name: str, to: int, at: str = "production") -> None:
    moved = await client.put(f"/v1/prompts/{name}/labels/{at}", json={"version": to})
    assert moved.status_code == 200, moved.text


async def run_count(db: Database) -> int:
    async with db.reader() as session:
        return int((await session.execute(sa.text("SELECT count(*) FROM runs"))).scalar_one())


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A dataset of 4 tickets, the suite, and a prompt whose v1 echoes and v2 answers right."""
    await push_dataset(client)
    await push_suite(client)
    await publish(client, PROMPT, version("offline/echo"))
    await publish(client, PROMPT, version("offline/scripted"))
    return client


async def start(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"suite": "triage-quality", "prompt": PROMPT, **fields}
    response = await client.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    return started


async def execute(client: httpx.AsyncClient, db: Database, run_id: int) -> dict[str, Any]:
    model = ModelClient(retry=RetryPolicy(attempts=1))
    await Runner(db.writer, model=model, owner="tests").execute(run_id)
    finished = await client.get(f"/v1/runs/{run_id}")
    assert finished.status_code == 200
    body: dict[str, Any] = finished.json()
    return body
