"""One call, one generation: an instrumented app calling through the gateway.

The official openai SDK, instrumented with `opentelemetry-instrumentation-openai` (OpenLLMetry,
the response id as `gen_ai.response.id`) or `openinference-instrumentation-openai` (the id in
the response it records as `output.value`), calls a prompt through the gateway of a real
server and exports its client spans to the same server
(tests/e2e/instrumented_app.py, a process of its own). Each call then exists twice (the client
span, the gateway's generation); analytics and `/metrics` must count it once, whether the
client's spans arrive before the gateway writes its row or after.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_KEY
from tests.e2e.generations import HANG_GUARD, generations, wait_for
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROMPT = "e2e/twins"
APP = Path(__file__).with_name("instrumented_app.py")
ROOT = Path(__file__).resolve().parents[2]
# Generous bound against a hang (a server that never writes); no test asserts how fast.


@pytest.fixture(scope="module", autouse=True)
def prompt(server: Server) -> None:
    """Publish the prompt the calls use (offline/echo: priced, no network)."""
    chat = [{"role": "user", "content": "{{ticket}}"}]
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        body = {"messages": chat, "config": {"model": "offline/echo"}}
        assert http.post(f"/v1/prompts/{PROMPT}/versions", json=body).status_code == 201
        moved = http.put(f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1})
        assert moved.status_code == 200, moved.text


def run_app(
    server: Server, mode: str, instrumentation: str, gateway_rows: Callable[[], object]
) -> None:
    """Run the instrumented application; in batch mode, let it flush once `gateway_rows` ran."""
    command = [sys.executable, str(APP), server.url, ADMIN_KEY, PROMPT, mode, instrumentation]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as app:
        assert app.stdin is not None
        assert app.stdout is not None
        if mode == "batch":
            assert app.stdout.readline().strip() == "called"
            gateway_rows()  # the gateway's rows are written before any client span arrives
            app.stdin.write("flush\n")
            app.stdin.flush()
        assert app.wait(timeout=HANG_GUARD) == 0


def cost_metric(http: httpx.Client) -> float:
    text = http.get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "promptlane_cost_usd_total"
    )


def twins(http: httpx.Client, gateway: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the ingested client spans of the gateway's calls, found by the app's traces.

    OpenLLMetry's calls share the gateway's trace (it sends a traceparent); OpenInference's
    do not, so the app's traces are looked up by its service, and twins by response id.
    """
    wanted = {call["response_id"] for call in gateway}
    deadline = time.monotonic() + HANG_GUARD
    while True:
        listed = http.get("/v1/traces", params={"service": "support-app", "limit": 200})
        assert listed.status_code == 200, listed.text
        found = [
            g
            for trace in listed.json()["items"]
            for g in generations(http, trace_id=trace["trace_id"])
            if g["is_duplicate"] and g["response_id"] in wanted
        ]
        if len(found) >= len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("instrumentation", ["openllmetry", "openinference"])
@pytest.mark.parametrize("mode", ["simple", "batch"])
def test_each_call_is_counted_once(server: Server, mode: str, instrumentation: str) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        before = len(generations(http, source="gateway"))
        cost_before = cost_metric(http)
        usage_before = http.get("/v1/analytics/usage").json()["rows"]
        run_app(server, mode, instrumentation, lambda: wait_for(http, before + 3, source="gateway"))
        gateway = wait_for(http, before + 3, source="gateway")
        gateway = sorted(gateway, key=lambda g: g["id"])[before:]
        assert len(gateway) == 3
        spans = twins(http, gateway)
        assert len(spans) == 3  # every client span arrived, was stored, and is marked
        assert {s["response_id"] for s in spans} == {g["response_id"] for g in gateway}
        for span in spans:
            assert span["source"] == "ingest"
            assert span["service_name"] == "support-app"
            assert span["response_id"].startswith("chatcmpl-promptlane-")
            assert (span["input_tokens"] or 0) > 0  # a real call's span, priced as one would be

        calls = sum(r["calls"] for r in http.get("/v1/analytics/usage").json()["rows"])
        assert calls - sum(r["calls"] for r in usage_before) == 3
        spent = sum(g["cost_usd"] for g in gateway)
        assert spent > 0
        assert cost_metric(http) - cost_before == pytest.approx(spent)
        listed = generations(http)
        assert not [g for g in listed if g["is_duplicate"]]  # listed once too
