"""GET /metrics: GenAI and promptlane series after a run, fetch counts, bounded labels."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.db import Database
from api.identity import keys
from api.server.app import create_app
from prompts.policy import Role
from tests.conftest import KEYS, auth, make_settings
from tests.factories import chat_body
from tests.tracing.conftest import Traced
from tests.tracing.test_spans import database, run_traced
from tracing.metrics import Metrics

__all__ = ["database"]  # the fixture, imported for the run test


async def started(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with db.transaction() as s:
            data = keys.ApiKeyCreate(name="test-reader", role=Role.READER)
            await keys.create_key(s, data=data, created_by="tests", key=KEYS[Role.READER])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://promptlane.test", headers=auth(Role.ADMIN)
        ) as client:
            yield client


@pytest.fixture
async def traced_client(
    database_url: str, tmp_path: Path, db: Database, traced: Traced
) -> AsyncIterator[httpx.AsyncClient]:
    """Return a client on an app whose spans go to the in-memory exporter."""
    app = create_app(make_settings(database_url, tmp_path), database=db, tracing=traced.handle)
    async for client in started(app, db):
        yield client


def sample(text: str, name: str, **labels: str) -> float:
    """Return the value of the one series of `name` whose labels include `labels`."""
    found = []
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            found.append(float(match.group(2)))
    assert len(found) == 1, (name, labels, found)
    return found[0]


async def test_run_metrics_carry_prompt_labels(database: Database, traced: Traced) -> None:
    await run_traced(database, traced, items=3)
    text = traced.handle.metrics.exposition().decode()
    common = {"prompt": "triage", "version": "1", "gen_ai_request_model": "offline/scripted"}
    assert sample(text, "gen_ai_client_token_usage_count", gen_ai_token_type="input", **common) == 3
    assert sample(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **common) > 0
    assert sample(text, "gen_ai_client_operation_duration_seconds_count", **common) == 3
    assert sample(text, "promptlane_cost_usd_total", **common) > 0
    assert sample(text, "promptlane_eval_score_count", metric="correct", **common) == 3
    assert sample(text, "promptlane_eval_score_sum", metric="correct", **common) == 3


async def test_metrics_route_counts_resolves_hit_and_miss(
    traced_client: httpx.AsyncClient, traced: Traced
) -> None:
    client = traced_client
    await client.post("/v1/prompts/team/p/versions", json=chat_body())
    await client.put("/v1/prompts/team/p/labels/production", json={"version": 1, "reason": "go"})
    for _ in range(3):  # a miss through the route, then two hits on the fast path
        response = await client.get("/v1/prompts/team/p", headers=auth(Role.READER))
        assert response.status_code == 200
    scrape = await client.get("/metrics", headers={"Authorization": ""})
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    labels = {"prompt": "team/p", "label": "production", "version": ""}
    assert sample(scrape.text, "promptlane_prompt_fetches_total", cache="miss", **labels) == 1
    assert sample(scrape.text, "promptlane_prompt_fetches_total", cache="hit", **labels) == 2
    assert "promptlane_tracing_dropped_spans_total 0.0" in scrape.text

    spans = traced.spans()
    resolves = [s for s in spans if s.name == "GET /v1/prompts/{name:path}"]
    assert len(resolves) == 1  # cached hits are served before the HTTP middleware: no span
    (resolve,) = [s for s in spans if s.name == "prompt resolve"]
    assert resolve.parent is not None
    assert resolve.parent.span_id == resolves[0].context.span_id
    assert not [s for s in spans if "metrics" in s.name]


async def test_metrics_can_require_a_key(database_url: str, tmp_path: Path, db: Database) -> None:
    settings = make_settings(database_url, tmp_path, metrics_public=False)
    async for client in started(create_app(settings, database=db), db):
        assert (await client.get("/metrics", headers={"Authorization": ""})).status_code == 401
        response = await client.get("/metrics", headers=auth(Role.READER))
        assert response.status_code == 200


def test_label_values_are_capped() -> None:
    metrics = Metrics(max_label_values=2)
    for name in ("a", "b", "c", "d"):
        labels = metrics.prompt_labels("m", name, 1, None)
        metrics.record_call(
            labels, duration_s=0.1, input_tokens=1, output_tokens=1, cost_usd=1.0, error_type=None
        )
    text = metrics.exposition().decode()
    assert sample(text, "promptlane_cost_usd_total", prompt="other") == 2
    assert sample(text, "promptlane_cost_usd_total", prompt="a") == 1


def test_repeated_calls_add_up_in_their_own_series() -> None:
    metrics = Metrics()
    for name, score in (("a", 1.0), ("a", 0.0), ("b", 1.0)):
        labels = metrics.prompt_labels("m", name, 1, None)
        metrics.record_call(
            labels, duration_s=0.1, input_tokens=3, output_tokens=1, cost_usd=0.5, error_type=None
        )
        metrics.record_score(labels, "correct", score)
    text = metrics.exposition().decode()
    assert sample(text, "promptlane_cost_usd_total", prompt="a") == 1.0
    assert sample(text, "promptlane_cost_usd_total", prompt="b") == 0.5
    assert sample(text, "promptlane_eval_score_count", prompt="a", metric="correct") == 2
    assert sample(text, "promptlane_eval_score_sum", prompt="a", metric="correct") == 1.0
    assert sample(text, "promptlane_eval_score_count", prompt="b", metric="correct") == 1


def test_fetch_counts_are_labelled_at_scrape_time() -> None:
    metrics = Metrics()
    hits: dict[Any, int] = metrics.fetches.hits
    hits[("p", None, 3)] = 5
    text = metrics.exposition().decode()
    assert sample(text, "promptlane_prompt_fetches_total", prompt="p", version="3", label="") == 5
