"""An application traced with the plain OpenTelemetry SDK exports to a real promptlane process."""

from __future__ import annotations

import os

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Tracer

from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.tracing.test_metrics import sample
from tracing.pricing import load_litellm

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROMPT = "e2e/ingest"
MODEL = "gpt-4o-mini"  # in litellm's bundled price map


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's OTEL_* variables away from the SDK and exporter in this process."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


def exporter(server: Server, key: str, compression: Compression) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=server.url + "/v1/traces",
        headers={"Authorization": f"Bearer {key}"},
        compression=compression,
        timeout=120,  # the server's first export loads litellm's price map (seconds)
    )


def application(server: Server, compression: Compression) -> TracerProvider:
    """Return an application's tracer provider exporting to the server over OTLP/HTTP."""
    provider = TracerProvider(resource=Resource({"service.name": "e2e-app"}), sampler=ALWAYS_ON)
    provider.add_span_processor(BatchSpanProcessor(exporter(server, ADMIN_KEY, compression)))
    return provider


def call_model(tracer: Tracer, *, version: int, input_tokens: int, output_tokens: int) -> None:
    """What an instrumented app records around one model call made with a promptlane prompt."""
    with tracer.start_as_current_span("POST /triage", kind=SpanKind.SERVER):
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": MODEL,
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
            "promptlane.prompt.name": PROMPT,
            "promptlane.prompt.version": version,
            "promptlane.prompt.label": "production",
            "promptlane.score.helpfulness": 0.5 + version / 10,
        }
        with tracer.start_as_current_span(f"chat {MODEL}", kind=SpanKind.CLIENT) as span:
            span.set_attributes(attributes)


def test_sdk_spans_show_up_with_cost_per_prompt_version(server: Server) -> None:
    calls = {1: [(100, 20), (300, 40), (50, 10)], 2: [(200, 30), (120, 60)]}
    for version, compression in ((1, Compression.NoCompression), (2, Compression.Gzip)):
        provider = application(server, compression)
        tracer = provider.get_tracer("support-bot")
        for input_tokens, output_tokens in calls[version]:
            call_model(
                tracer, version=version, input_tokens=input_tokens, output_tokens=output_tokens
            )
        assert provider.force_flush(timeout_millis=120_000)
        provider.shutdown()

    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        usage = http.get(
            "/v1/analytics/usage",
            params={"group_by": "version", "prompt": PROMPT, "source": "ingest"},
        )
        assert usage.status_code == 200, usage.text
        rows = {row["version"]: row for row in usage.json()["rows"]}
        metrics = http.get("/metrics").text

    per_input, per_output = load_litellm().cost_per_token(
        model=MODEL, prompt_tokens=1, completion_tokens=1
    )
    assert set(rows) == {1, 2}
    for version, made in calls.items():
        row = rows[version]
        input_tokens = sum(i for i, _ in made)
        output_tokens = sum(o for _, o in made)
        assert row["calls"] == len(made)
        assert (row["input_tokens"], row["output_tokens"]) == (input_tokens, output_tokens)
        assert row["cost_usd"] == pytest.approx(
            input_tokens * per_input + output_tokens * per_output
        )
        assert row["cost_usd"] > 0
        assert row["scores"]["helpfulness"]["mean"] == pytest.approx(0.5 + version / 10)
        assert row["latency_p50_ms"] is not None
    assert sample(metrics, "promptlane_ingested_spans_total", kind="genai") == 5
    assert sample(metrics, "promptlane_ingested_spans_total", kind="other") == 5  # the HTTP spans
    assert sample(metrics, "promptlane_cost_usd_total", prompt=PROMPT, version="2") > 0


def test_a_reader_key_cannot_export(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        created = http.post("/v1/keys", json={"name": "e2e-reader", "role": "reader"})
        assert created.status_code == 201, created.text
        reader_key = created.json()["key"]
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "e2e-app"}))
    provider.add_span_processor(SimpleSpanProcessor(finished))
    call_model(provider.get_tracer("t"), version=9, input_tokens=1, output_tokens=1)
    result = exporter(server, reader_key, Compression.NoCompression).export(
        finished.get_finished_spans()
    )
    assert result is SpanExportResult.FAILURE
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        usage = http.get("/v1/analytics/usage", params={"prompt": PROMPT, "version": 9})
    assert usage.json()["rows"] == []
