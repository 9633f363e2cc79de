"""POST /v1/traces: OTLP/HTTP in protobuf or JSON (gzip too); GenAI spans become generations."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlmodel import select

from api.db import Database
from api.server.app import create_app
from prompts.policy import Role
from tests.conftest import auth, make_settings
from tests.otlp_requests import JSON, PROTOBUF, genai, otlp_json, protobuf, request, span
from tests.tracing.conftest import Traced
from tests.tracing.test_metrics import sample, started
from tracing.models import Generation
from tracing.pricing import load_litellm


async def generations(db: Database) -> list[Generation]:
    async with db.reader() as session:
        return list(await session.scalars(select(Generation).order_by(sa.text("id"))))


async def post(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], role: Role = Role.WRITER
) -> httpx.Response:
    return await client.post("/v1/traces", content=body, headers={**headers, **auth(role)})


async def test_protobuf_export_stores_genai_spans(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    body = protobuf(
        span(genai(**{"promptlane.cost_usd": 0.01}), duration_ms=500),
        span({"http.route": "/tickets"}),
        resource={"service.name": "support-bot"},
    )
    response = await post(client, body, PROTOBUF)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    (stored,) = await generations(db)
    assert (stored.source, stored.service_name, stored.prompt_name) == (
        "ingest",
        "support-bot",
        "support/triage",
    )
    assert (stored.duration_ms, stored.cost_usd) == (500.0, 0.01)
    text = app.state.services.metrics.exposition().decode()
    assert sample(text, "promptlane_ingested_spans_total", kind="genai") == 1
    assert sample(text, "promptlane_ingested_spans_total", kind="other") == 1
    assert sample(text, "promptlane_cost_usd_total", prompt="support/triage") == 0.01


async def test_json_export_gets_a_json_response(client: httpx.AsyncClient, db: Database) -> None:
    response = await post(client, otlp_json(span(genai()), span(genai())), JSON)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    assert len(await generations(db)) == 2


async def test_gzip_export(client: httpx.AsyncClient, db: Database) -> None:
    body = gzip.compress(protobuf(span(genai())))
    response = await post(client, body, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert len(await generations(db)) == 1


async def test_a_retried_export_is_stored_once(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    body = protobuf(span(genai()), span(genai()))
    for _ in range(2):
        assert (await post(client, body, PROTOBUF)).status_code == 200
    assert len(await generations(db)) == 2
    text = app.state.services.metrics.exposition().decode()
    assert sample(text, "promptlane_ingested_spans_total", kind="duplicate") == 2


async def test_cost_is_computed_from_the_price_map(client: httpx.AsyncClient, db: Database) -> None:
    body = protobuf(span(genai(**{"gen_ai.response.model": None})))
    assert (await post(client, body, PROTOBUF)).status_code == 200
    (stored,) = await generations(db)
    per_input, per_output = load_litellm().cost_per_token(
        model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1
    )
    assert stored.cost_usd == pytest.approx(120 * per_input + 30 * per_output)
    usage = await client.get(
        "/v1/analytics/usage", params={"group_by": "version", "source": "ingest"}
    )
    (row,) = usage.json()["rows"]
    assert (row["version"], row["calls"], row["input_tokens"], row["output_tokens"]) == (
        2,
        1,
        120,
        30,
    )
    assert row["cost_usd"] == pytest.approx(stored.cost_usd)


def _bad_id() -> bytes:
    message = request([span(genai()), span(genai())])
    message.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x01"
    return message.SerializeToString()


BAD: list[tuple[str, bytes, dict[str, str], str]] = [
    ("protobuf", b"\x0a\x05\x01", PROTOBUF, "not an OTLP protobuf request"),
    ("json", b'{"resourceSpans": [', JSON, "not JSON"),
    ("otlp-json", b'{"resourceSpans": [{"scopeSpans": 1}]}', JSON, "not an OTLP/JSON request"),
    ("gzip", b"\x1f\x8b not really", {**PROTOBUF, "Content-Encoding": "gzip"}, "not valid gzip"),
    ("id", _bad_id(), PROTOBUF, r"spans[1].traceId: 1 bytes"),
]


@pytest.mark.parametrize(
    ("body", "headers", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
async def test_malformed_payloads_are_400_and_store_nothing(
    client: httpx.AsyncClient, db: Database, body: bytes, headers: dict[str, str], reason: str
) -> None:
    response = await post(client, body, headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:promptlane:problem:invalid-payload"
    assert reason in problem["detail"]
    assert await generations(db) == []


async def test_a_gzip_bomb_is_413_and_stores_nothing(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    limit = app.state.services.settings.max_body_bytes * 10
    bomb = gzip.compress(protobuf(span(genai(big="x" * (limit + 1)))))
    assert len(bomb) < app.state.services.settings.max_body_bytes
    response = await post(client, bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json()["type"] == "urn:promptlane:problem:decompressed-too-large"
    assert await generations(db) == []


async def test_an_oversized_body_is_413(client: httpx.AsyncClient, app: FastAPI) -> None:
    body = protobuf(span(genai(big="x" * app.state.services.settings.max_body_bytes)))
    response = await post(client, body, PROTOBUF)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/grpc"},
        {**PROTOBUF, "Content-Encoding": "br"},
    ],
)
async def test_unsupported_media_is_415(
    client: httpx.AsyncClient, db: Database, headers: dict[str, str]
) -> None:
    response = await post(client, protobuf(span(genai())), headers)
    assert response.status_code == 415
    assert response.json()["type"] == "urn:promptlane:problem:unsupported-media-type"
    assert await generations(db) == []


@pytest.mark.parametrize(("role", "status"), [(Role.READER, 403), (None, 401)])
async def test_exporting_needs_the_writer_role(
    client: httpx.AsyncClient, db: Database, role: Role | None, status: int
) -> None:
    headers = {**PROTOBUF, **auth(role)} if role else {**PROTOBUF, "Authorization": ""}
    response = await client.post("/v1/traces", content=protobuf(span(genai())), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await generations(db) == []


class RecordingEvaluator:
    def __init__(self) -> None:
        self.submitted: list[Sequence[Generation]] = []

    async def submit(self, generations: Sequence[Generation]) -> None:
        self.submitted.append(generations)


@pytest.fixture
def evaluator(app: FastAPI) -> Iterator[RecordingEvaluator]:
    """Stand in for the app's online evaluator (the real one is put back before it stops)."""
    real, recording = app.state.services, RecordingEvaluator()
    app.state.services = dataclasses.replace(real, online_evaluator=recording)
    yield recording
    app.state.services = real


async def test_stored_generations_go_to_online_evaluation(
    client: httpx.AsyncClient, db: Database, evaluator: RecordingEvaluator
) -> None:
    seen = span(genai())
    assert (await post(client, protobuf(seen), PROTOBUF)).status_code == 200
    body = protobuf(seen, span(genai()), span({"http.route": "/"}))
    assert (await post(client, body, PROTOBUF)).status_code == 200
    stored = await generations(db)
    assert [[g.id for g in batch] for batch in evaluator.submitted] == [
        [stored[0].id],
        [stored[1].id],  # neither the duplicate nor the HTTP span
    ]
    assert evaluator.submitted[1][0].span_id == stored[1].span_id


async def test_without_an_online_evaluator_ingest_still_works(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    real = app.state.services
    app.state.services = dataclasses.replace(real, online_evaluator=None)
    try:
        assert (await post(client, protobuf(span(genai())), PROTOBUF)).status_code == 200
    finally:
        app.state.services = real
    assert len(await generations(db)) == 1


def test_the_route_is_documented(app: FastAPI) -> None:
    operation: dict[str, Any] = app.openapi()["paths"]["/v1/traces"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/x-protobuf",
        "application/json",
    }
    assert {"200", "400", "413", "415"} <= set(operation["responses"])


async def test_ingest_requests_are_not_traced(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    traced = Traced()
    app = create_app(make_settings(database_url, tmp_path), database=db, tracing=traced.handle)
    try:
        async for client in started(app, db):
            await client.get("/v1/prompts")
            response = await post(client, protobuf(span(genai())), PROTOBUF, Role.ADMIN)
            assert response.status_code == 200, response.text
        names = [s.name for s in traced.spans()]  # type: ignore[attr-defined]
    finally:
        traced.handle.shutdown()
    assert "GET /v1/prompts" in names
    assert not [n for n in names if "/v1/traces" in n], "a self-exporting server would loop"
