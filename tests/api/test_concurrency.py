"""Concurrent writers on a real database (own engine and pool, real commits)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.server.app import create_app
from tests.conftest import DatabaseFactory, make_settings
from tests.factories import chat_body


@pytest.fixture
async def live_client(
    databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(databases.create(), tmp_path, db_pool_size=10)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {settings.bootstrap_admin_key.get_secret_value()}"}  # type: ignore[union-attr]
        async with httpx.AsyncClient(
            transport=transport, base_url="http://promptlane.test", headers=headers
        ) as client:
            yield client


async def test_concurrent_publishes_get_consecutive_unique_versions(
    live_client: httpx.AsyncClient,
) -> None:
    async def publish(i: int) -> httpx.Response:
        body = chat_body(config={"model": f"m/{i}"}, message=f"writer {i}")
        return await live_client.post("/v1/prompts/race/prompt/versions", json=body)

    responses = await asyncio.gather(*(publish(i) for i in range(20)))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    numbers = sorted(r.json()["version"] for r in responses)
    assert numbers == list(range(1, 21))
    listed = (await live_client.get("/v1/prompts/race/prompt/versions?limit=50")).json()
    assert listed["total"] == 20
    stored: dict[int, Any] = {v["version"]: v["message"] for v in listed["items"]}
    by_response = {r.json()["version"]: r.json()["message"] for r in responses}
    assert stored == by_response  # none lost, none swapped


async def test_concurrent_identical_publishes_store_one_version(
    live_client: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(
        *(live_client.post("/v1/prompts/same/versions", json=chat_body()) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert {r.json()["version"] for r in responses} == {1}


async def test_concurrent_label_moves_are_all_audited(live_client: httpx.AsyncClient) -> None:
    for i in range(5):
        await live_client.post(
            "/v1/prompts/lbl/versions", json=chat_body(config={"model": f"m/{i}"})
        )
    moves = await asyncio.gather(
        *(
            live_client.put("/v1/prompts/lbl/labels/staging", json={"version": v, "reason": str(v)})
            for v in (1, 2, 3, 4, 5)
        )
    )
    assert all(m.status_code == 200 for m in moves)
    history = (await live_client.get("/v1/prompts/lbl/labels/staging/history")).json()["items"]
    # Each event's from_version is the previous event's to_version: no lost update.
    chain = list(reversed(history))
    assert chain[0]["from_version"] is None
    for before, after in itertools.pairwise(chain):
        assert after["from_version"] == before["to_version"]
    final = (await live_client.get("/v1/prompts/lbl/labels/staging")).json()["version"]
    assert final == chain[-1]["to_version"]
    # Every move is a link of one audit chain, whatever order the transactions committed in.
    report = (await live_client.get("/v1/audit/verify")).json()
    assert (report["ok"], report["label_moves"], report["head_seq"]) == (True, 5, 5)


async def test_concurrent_identical_policy_puts_store_one_policy_and_one_event(
    live_client: httpx.AsyncClient,
) -> None:
    items = [{"input": {"q": "a"}, "expected": "a"}]
    await live_client.post("/v1/datasets/race/d/versions", json={"items": items})
    suite = {"name": "race/s", "dataset": "race/d", "scorers": [{"type": "exact_match"}]}
    assert (await live_client.post("/v1/suites", json=suite)).status_code == 201
    body = {"required_suites": ["race/s"], "reason": "gate it"}
    puts = await asyncio.gather(
        *(live_client.put("/v1/policies/production", json=body) for _ in range(8))
    )
    assert [p.status_code for p in puts] == [200] * 8, [p.text for p in puts]
    history = (await live_client.get("/v1/policies/history")).json()
    assert [(e["action"], e["reason"]) for e in history["items"]] == [("created", "gate it")]
    assert (await live_client.get("/v1/audit/verify")).json()["ok"] is True


async def test_concurrent_connections_cannot_both_offer_one_gateway_model(
    live_client: httpx.AsyncClient,
) -> None:
    async def create(i: int) -> httpx.Response:
        body = {"name": f"race-{i}", "provider": "openai", "gateway_models": ["shared-model"]}
        return await live_client.post("/v1/connections", json=body)

    created = await asyncio.gather(*(create(i) for i in range(6)))
    assert sorted(r.status_code for r in created) == [201] + [409] * 5, [r.text for r in created]
    listed = (await live_client.get("/v1/connections")).json()
    offering = [c["name"] for c in listed if "shared-model" in c["gateway_models"]]
    assert len(offering) == 1
