"""GET /v1/traces (list), /v1/traces/{id} (the tree) and /v1/generations/{id}."""

from __future__ import annotations

import json
import time

import httpx

from prompts.policy import Role
from tests.conftest import auth
from tests.otlp_requests import JSON, genai, otlp_json, span

T1, T2 = "1" * 32, "2" * 32
UNLINKED = {"promptlane.prompt.name": None, "promptlane.prompt.version": None}
UNLINKED |= {"promptlane.prompt.label": None}
META = json.dumps({"promptlane.prompt.name": "support/triage", "promptlane.prompt.version": 4})
NOW = time.time_ns() - 60 * 10**9


async def export(client: httpx.AsyncClient, *spans: object, service: str) -> None:
    body = otlp_json(*spans, resource={"service.name": service})  # type: ignore[arg-type]
    response = await client.post("/v1/traces", content=body, headers=JSON)
    assert response.status_code == 200, response.text


async def seed(client: httpx.AsyncClient) -> None:
    content = {"gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "secret question"}
    llm = genai(**UNLINKED, **content, **{"gen_ai.usage.input_tokens": 10})
    # The model call and the tool first, their ancestors in a later batch (as exporters do).
    await export(
        client,
        span(llm, trace_id=T1, span_id="c" * 16, parent_span_id="b" * 16, start_ns=NOW + 2),
        span(
            {"tool.name": "search", "input.value": "secret input"},
            trace_id=T1,
            span_id="d" * 16,
            parent_span_id="b" * 16,
            name="search",
            status=2,
            start_ns=NOW + 3,
        ),
        span(genai(**UNLINKED), trace_id=T1, span_id="e" * 16, parent_span_id="9" * 16),
        service="bot",
    )
    await export(
        client,
        span(
            {"metadata": META},
            trace_id=T1,
            span_id="b" * 16,
            parent_span_id="a" * 16,
            name="agent",
            start_ns=NOW + 1,
        ),
        span(
            {"http.route": "/ask"},
            trace_id=T1,
            span_id="a" * 16,
            name="POST /ask",
            start_ns=NOW,
            duration_ms=900,
        ),
        service="bot",
    )
    await export(
        client,
        span(
            {"http.route": "/"}, trace_id=T2, span_id="f" * 16, name="GET /", start_ns=NOW + 10**9
        ),
        service="web",
    )


async def test_the_list_sums_each_trace_and_filters(client: httpx.AsyncClient) -> None:
    await seed(client)
    page = (await client.get("/v1/traces", headers=auth(Role.READER))).json()
    assert page["total"] == 2
    newest, first = page["items"]
    assert newest["trace_id"] == T2
    assert first == {
        "trace_id": T1,
        "name": "POST /ask",
        "service_name": "bot",
        "started_at": first["started_at"],
        "duration_ms": 900.0,
        "spans": 5,
        "errors": 1,
        "generations": 2,
        "input_tokens": 130,
        "output_tokens": 60,
        "cost_usd": first["cost_usd"],
    }
    assert first["cost_usd"] > 0

    async def ids(**params: object) -> list[str]:
        answer = await client.get("/v1/traces", params=params)
        assert answer.status_code == 200, answer.text
        return [item["trace_id"] for item in answer.json()["items"]]

    assert await ids(service="web") == [T2]
    assert await ids(prompt="support/triage") == [T1]
    assert await ids(errors="true") == [T1]
    assert await ids(errors="false") == [T2]
    assert await ids(limit=1, offset=1) == [T1]
    assert await ids(start="2000-01-01T00:00:00Z", end="2000-01-02T00:00:00Z") == []
    bad = await client.get("/v1/traces", params={"start": "2000-01-01T00:00:00Z"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_the_tree_nests_spans_with_generations_in_place(client: httpx.AsyncClient) -> None:
    await seed(client)
    response = await client.get(f"/v1/traces/{T1.upper()}", headers=auth(Role.READER))
    assert response.status_code == 200, response.text
    assert "secret" not in response.text  # no message content, not even a tool's input
    trace = response.json()
    assert (trace["spans"], trace["generations"], trace["errors"]) == (5, 2, 1)
    assert trace["truncated"] is False
    root, orphan = trace["roots"]
    assert (root["name"], orphan["span_id"], orphan["parent_span_id"]) == (
        "POST /ask",
        "e" * 16,
        "9" * 16,
    )
    (agent,) = root["children"]
    assert (agent["name"], agent["prompt"], agent["version"]) == ("agent", "support/triage", 4)
    call, tool = agent["children"]
    assert (tool["name"], tool["is_error"], tool["attributes"]) == (
        "search",
        True,
        {"tool.name": "search"},
    )
    generation = call["generation"]
    assert (generation["prompt"], generation["version"], generation["input_tokens"]) == (
        "support/triage",
        4,
        10,
    )
    assert "input_messages" not in generation
    assert orphan["generation"]["prompt"] is None


async def test_a_missing_trace_is_a_404_problem(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/v1/traces/{'0' * 32}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/traces/xyz")).status_code == 422
    assert (await client.get(f"/v1/traces/{'0' * 32}%0A")).status_code == 422


async def test_one_generation_has_every_stored_field(client: httpx.AsyncClient) -> None:
    await seed(client)
    page = (await client.get("/v1/generations", params={"trace_id": T1})).json()
    listed = next(item for item in page["items"] if item["span_id"] == "c" * 16)
    assert listed["attributes"]["gen_ai.request.temperature"] == 0.2
    one = await client.get(f"/v1/generations/{listed['id']}", headers=auth(Role.WRITER))
    assert one.status_code == 200, one.text
    body = one.json()
    assert body == listed
    # Ingest keeps message content only when it is recorded (or a sampled call awaits scoring).
    assert body["input_messages"] is None
    assert body["prompt"] == "support/triage"
    assert "created_at" in body
    gone = await client.get("/v1/generations/2147483647")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/generations/2147483648")).status_code == 422
