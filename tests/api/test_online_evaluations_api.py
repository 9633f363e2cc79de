"""The online evaluations API: upsert by prompt and label, bad input, scoring through the app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from api.db import Database
from api.settings import Settings
from evals.online.evaluator import OnlineEvaluator
from prompts.policy import Role
from tests import otlp_requests
from tests.conftest import auth, make_settings
from tests.factories import chat_body, generation
from tracing.models import Generation

PROMPT = "support/triage"
URL = "/v1/online-evaluations"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # One scoring worker: the test app's sessions share one database connection.
    return make_settings(database_url, tmp_path, online_eval_concurrency=1)


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> httpx.AsyncClient:
    response = await client.post(f"/v1/prompts/{PROMPT}/versions", json=chat_body())
    assert response.status_code == 201, response.text
    return client


def body(**overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt": PROMPT,
        "label": None,
        "sample_rate": 0.5,
        "scorers": [
            {"type": "pii"},
            {"name": "short", "type": "length", "params": {"max_chars": 80}},
        ],
    }
    out.update(overrides)
    return out


async def stored_rows(db: Database) -> int:
    async with db.reader() as session:
        count = await session.scalar(sa.text("SELECT count(*) FROM online_evaluations"))
    return int(count or 0)


async def test_put_is_an_upsert_per_prompt_and_label(seeded: httpx.AsyncClient) -> None:
    created = await seeded.put(URL, json=body())
    assert created.status_code == 200, created.text
    first = created.json()
    assert first["label"] is None
    assert first["enabled"] is True
    # The stored config says which side the scorer reads (its default, written in).
    assert first["scorers"][0] == {"name": "pii", "type": "pii", "params": {"scan": ["output"]}}
    assert first["updated_by"] == "bootstrap-admin"

    again = await seeded.put(URL, json=body(sample_rate=1.0, enabled=False))
    assert again.json()["id"] == first["id"]
    assert (again.json()["sample_rate"], again.json()["enabled"]) == (1.0, False)
    labelled = await seeded.put(URL, json=body(label="production"), headers=auth(Role.WRITER))
    assert labelled.status_code == 200
    assert labelled.json()["id"] != first["id"]

    listed = await seeded.get(URL, headers=auth(Role.READER))
    assert [(e["label"], e["sample_rate"]) for e in listed.json()] == [
        (None, 1.0),
        ("production", 0.5),
    ]
    assert (await seeded.get(URL, params={"prompt": "other"})).json() == []

    gone = await seeded.delete(f"{URL}/{first['id']}", headers=auth(Role.WRITER))
    assert gone.status_code == 204
    assert [e["label"] for e in (await seeded.get(URL)).json()] == ["production"]
    missing = await seeded.delete(f"{URL}/{first['id']}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "urn:promptlane:problem:online-evaluation-not-found"


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown prompt", body(prompt="no/such"), 404, ""),
    ("rate above 1", body(sample_rate=1.5), 422, "#/sample_rate"),
    ("negative rate", body(sample_rate=-0.1), 422, "#/sample_rate"),
    ("no scorers", body(scorers=[]), 422, "#/scorers"),
    ("bad label", body(label="Prod!"), 422, "#/label"),
    ("extra field", body(rate=1), 422, "#/rate"),
    ("unknown scorer", body(scorers=[{"type": "vibes"}]), 422, "#/scorers/0/type"),
    (
        "bad params",
        body(scorers=[{"type": "pii"}, {"type": "length", "params": {"max_chars": -1}}]),
        422,
        "#/scorers/1/params/max_chars",
    ),
    (
        "repeated names",
        body(scorers=[{"type": "pii"}, {"type": "pii"}]),
        422,
        "#/scorers",
    ),
    (
        "unknown judge prompt",
        body(scorers=[{"type": "llm_judge", "params": {"prompt": "judges/none@production"}}]),
        422,
        "#/scorers/0/params/prompt",
    ),
    (
        "judge without a model",
        body(scorers=[{"type": "toxicity"}]),
        422,
        "#/scorers/0/params/model",
    ),
    (
        "judge model without a connection",
        body(scorers=[{"type": "pii"}, {"type": "toxicity", "params": {"model": "openai/gpt-4o"}}]),
        422,
        "#/scorers/1/params/model",
    ),
    ("needs an expected value", body(scorers=[{"type": "exact_match"}]), 422, "#/scorers/0/type"),
    (
        "contains without a value",
        body(scorers=[{"type": "contains"}]),
        422,
        "#/scorers/0/params/value",
    ),
    ("canary without a token", body(scorers=[{"type": "canary"}]), 422, "#/scorers/0/params/token"),
    (
        "attack goal from eval items only",
        body(scorers=[{"type": "pii"}, {"type": "attack_succeeded"}]),
        422,
        "#/scorers/1/params/target",
    ),
    (
        "needs contexts",
        body(scorers=[{"type": "faithfulness", "params": {"model": "offline/echo"}}]),
        422,
        "#/scorers/0/type",
    ),
]


@pytest.mark.parametrize(("case", "payload", "status", "pointer"), BAD, ids=[b[0] for b in BAD])
async def test_bad_input_stores_nothing(
    seeded: httpx.AsyncClient,
    db: Database,
    case: str,
    payload: dict[str, Any],
    status: int,
    pointer: str,
) -> None:
    existing = await seeded.put(URL, json=body(label="production"))
    assert existing.status_code == 200
    response = await seeded.put(URL, json=payload)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if pointer:
        assert pointer in [e.get("pointer") for e in problem["errors"]], problem
    assert await stored_rows(db) == 1
    assert (await seeded.get(URL)).json() == [existing.json()]


async def test_refusals_say_what_a_production_call_lacks(seeded: httpx.AsyncClient) -> None:
    scorers = [
        {"type": "exact_match"},
        {"type": "pii"},
        {"type": "toxicity", "params": {"model": "openai/gpt-4o"}},
    ]
    problem = (await seeded.put(URL, json=body(scorers=scorers))).json()
    details = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(details) == {"#/scorers/0/type", "#/scorers/2/params/model"}  # all, not the first
    assert "production calls have none" in details["#/scorers/0/type"]
    assert "no connection named 'openai'" in details["#/scorers/2/params/model"]
    assert "promptlane connections create openai" in details["#/scorers/2/params/model"]


async def test_scorers_that_can_run_are_accepted(seeded: httpx.AsyncClient) -> None:
    scorers = [
        {"type": "contains", "params": {"value": "refund"}},
        {"type": "toxicity", "params": {"model": "offline/echo"}},
        {"type": "latency", "params": {"max_ms": 500}},
    ]
    response = await seeded.put(URL, json=body(scorers=scorers))
    assert response.status_code == 200, response.text


async def test_bad_update_keeps_the_stored_config(seeded: httpx.AsyncClient) -> None:
    stored = (await seeded.put(URL, json=body())).json()
    refused = await seeded.put(URL, json=body(scorers=[{"type": "vibes"}]))
    assert refused.status_code == 422
    assert (await seeded.get(URL)).json() == [stored]


async def test_delete_needs_a_valid_id(seeded: httpx.AsyncClient) -> None:
    response = await seeded.delete(f"{URL}/0")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


async def _stored(db: Database, **overrides: Any) -> Generation:
    row = generation(source="ingest", output_text="Mail me: jane.doe@example.com", **overrides)
    async with db.transaction() as session:
        session.add(row)
    return row


async def test_app_scores_submitted_generations(
    app: FastAPI, seeded: httpx.AsyncClient, db: Database
) -> None:
    evaluator: OnlineEvaluator = app.state.services.online_evaluator
    assert evaluator is not None
    await seeded.put(URL, json=body(sample_rate=0.0))
    before = await _stored(db)
    await evaluator.submit([before])
    # The PUT below is seen at once by this process (the cache is dropped on commit).
    await seeded.put(URL, json=body(sample_rate=1.0))
    after = await _stored(db)
    await evaluator.submit([after])
    await evaluator.join()

    async with db.reader() as session:
        not_sampled = await session.get(Generation, before.id)
        scored = await session.get(Generation, after.id)
    assert not_sampled is not None
    assert not_sampled.online_eval is None
    assert scored is not None
    assert scored.online_eval == "scored"
    assert scored.safety_flags == ["pii"]
    assert scored.scores["short"]["value"] == 1.0

    text = (await seeded.get("/metrics")).text
    labels = {"gen_ai_request_model": "openai/gpt-4o-mini", "prompt": PROMPT, "version": "1"}
    assert _sample(text, "promptlane_safety_flags_total", flag="pii", label="", **labels) == 1.0
    assert _sample(text, "promptlane_eval_score_count", metric="short", label="", **labels) == 1.0
    assert _sample(text, "promptlane_online_eval_skipped_total") == 0.0


async def test_ingested_spans_are_scored(
    app: FastAPI, seeded: httpx.AsyncClient, db: Database
) -> None:
    await seeded.put(URL, json=body(label="production", sample_rate=1.0))
    output = [{"role": "assistant", "parts": [{"type": "text", "content": "Call +1 415 555 0100"}]}]
    attributes = otlp_requests.genai(**{"gen_ai.output.messages": json.dumps(output)})
    unsampled = {**attributes, "promptlane.prompt.label": "staging"}  # no config for staging
    payload = otlp_requests.otlp_json(otlp_requests.span(attributes), otlp_requests.span(unsampled))
    response = await seeded.post("/v1/traces", content=payload, headers=otlp_requests.JSON)
    assert response.status_code == 200, response.text

    found = other = None
    for _ in range(50):  # scoring is asynchronous: poll a bounded number of times
        await app.state.services.online_evaluator.join()
        async with db.reader() as session:
            found, other = (await session.scalars(sa.select(Generation).order_by("id"))).all()
        if found.online_eval == "scored":
            break
        await asyncio.sleep(0)
    assert found is not None
    assert other is not None
    assert found.online_eval == "scored"
    assert (other.online_eval, other.output_text) == (None, None)  # never stored
    # Kept for the scorer, cleared once scored: this server does not record content.
    assert (found.output_text, found.input_messages) == (None, None)
    assert found.scores["pii"]["reason"].startswith("phone: output[")
    assert found.safety_flags == ["pii"]
