"""Calls and a trace for the console's browser tests, made through a real server's gateway
(offline models) and its OTLP/HTTP ingest, with content recording and online scoring on."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.console_runs_seed import admin_client
from tests.e2e.generations import HANG_GUARD, wait_for
from tests.e2e.server import Server
from tests.otlp_requests import JSON, genai, otlp_json, span

PROMPT, OTHER, FLAKY = "calls/triage", "calls/summary", "calls/flaky"
TRACE, ROOT, RETRIEVE, CLIENT = "ab" * 16, "a1" * 8, "b2" * 8, "c3" * 8
SECRET = "sk-console-calls-not-a-real-key"  # a connection's key: never on any page
TICKET = "Refund to jane@example.com please"
CHAT = [
    {"role": "system", "content": "You triage tickets for {{company}}."},
    {"role": "user", "content": "{{ticket}}"},
]
CALLS = 5  # three gateway calls answered, one failed, one ingested model call


@dataclass(frozen=True)
class CallsSeeded:
    """The server, a reader and a writer key, and the ids of the calls the tests open."""

    server: Server
    reader_key: str
    writer_key: str
    traced_call: int  # the gateway call made inside TRACE (content, scores, a pii flag)
    traced_span: str
    failed_call: int


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _publish(admin: httpx.Client, name: str, config: dict[str, Any]) -> None:
    body = {"messages": CHAT, "config": config}
    _ok(admin.post(f"/v1/prompts/{name}/versions", json=body), 201)
    _ok(admin.put(f"/v1/prompts/{name}/labels/production", json={"version": 1}))


def _chat(admin: httpx.Client, model: str, ticket: str, **headers: str) -> int:
    body = {"model": model, "messages": [], "variables": {"company": "Acme", "ticket": ticket}}
    return admin.post("/v1/chat/completions", json=body, headers=headers).status_code


def _export_trace(admin: httpx.Client, start_ns: int) -> None:
    """Send the application's side of TRACE: its root, a failed retrieval, its own model call."""
    ms = 1_000_000
    spans = [
        span({"http.route": "/triage"}, trace_id=TRACE, span_id=ROOT, name="POST /triage",
             start_ns=start_ns, duration_ms=3000),
        span({"db.system": "qdrant", "db.operation": "search"}, trace_id=TRACE, span_id=RETRIEVE,
             parent_span_id=ROOT, name="retrieve docs", start_ns=start_ns + 50 * ms,
             duration_ms=400, status=2, status_message="index timeout"),
        span(genai(**{"promptlane.prompt.name": PROMPT, "promptlane.prompt.version": 1,
                      "promptlane.score.helpfulness": 0.8}),
             trace_id=TRACE, span_id=CLIENT, parent_span_id=ROOT, name="chat gpt-4o-mini",
             start_ns=start_ns + 2000 * ms, duration_ms=800),
    ]  # fmt: skip
    body = otlp_json(*spans, resource={"service.name": "triage-app"})
    response = admin.post("/v1/traces", content=body, headers=JSON)
    assert response.status_code == 200, response.text


def _scored(admin: httpx.Client, call_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        call = _ok(admin.get(f"/v1/generations/{call_id}"))
        if call["online_eval"] not in (None, "pending"):
            return call
        time.sleep(0.1)
    raise AssertionError(f"call {call_id} was never scored")


def seed_calls(server: Server) -> CallsSeeded:
    """Make the calls, the trace and the keys; wait until every call is stored and scored."""
    with admin_client(server) as admin:
        remote = {"name": "openai", "provider": "openai", "api_base": "http://127.0.0.1:9/v1"}
        _ok(admin.post("/v1/connections", json={**remote, "api_key": SECRET}), 201)
        _publish(admin, PROMPT, {"model": "offline/echo", "temperature": 0.2})
        _publish(admin, OTHER, {"model": "offline/echo"})
        failing = {"fail_rate": 1.0, "fail_with": "rate_limit"}
        _publish(admin, FLAKY, {"model": "offline/echo", "offline": failing})
        scorers = [
            {"type": "pii"},
            {"name": "short", "type": "length", "params": {"max_chars": 20}},
        ]
        online = {"prompt": PROMPT, "label": None, "sample_rate": 1.0, "scorers": scorers}
        _ok(admin.put("/v1/online-evaluations", json=online))

        start_ns = time.time_ns() - 100_000_000
        parent = {"traceparent": f"00-{TRACE}-{ROOT}-01"}
        assert _chat(admin, f"promptlane/{PROMPT}", TICKET, **parent) == 200
        assert _chat(admin, f"promptlane/{PROMPT}", "my card was charged twice") == 200
        assert _chat(admin, f"promptlane/{OTHER}", "summarise this") == 200
        assert _chat(admin, f"promptlane/{FLAKY}", "anything") == 429
        _export_trace(admin, start_ns)

        stored = wait_for(admin, CALLS)
        assert len(stored) == CALLS, stored
        traced = next(c for c in stored if c["source"] == "gateway" and c["trace_id"] == TRACE)
        failed = next(c for c in stored if c["is_error"])
        _scored(admin, traced["id"])
        keys = {
            role: _ok(admin.post("/v1/keys", json={"name": f"calls-{role}", "role": role}), 201)
            for role in ("reader", "writer")
        }
    return CallsSeeded(
        server,
        reader_key=keys["reader"]["key"],
        writer_key=keys["writer"]["key"],
        traced_call=traced["id"],
        traced_span=traced["span_id"],
        failed_call=failed["id"],
    )
