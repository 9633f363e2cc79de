"""An application exporting with the OpenTelemetry SDK's OTLP/gRPC exporter to a real promptlane."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from grpc import Compression
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server, free_port, start_server
from tests.e2e.test_ingest_e2e import _no_otel_env  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def grpc_server(databases: DatabaseFactory, tmp: Path, *args: str) -> tuple[Server, int]:
    """Start `promptlane serve` with the OTLP/gRPC receiver on a free port."""
    port = free_port()
    server = start_server(
        tmp,
        args=args,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        otlp_grpc_enabled="true",
        otlp_grpc_port=str(port),
    )
    return server, port


@pytest.fixture(scope="module")
def receiver(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, int]]:
    server, port = grpc_server(databases, tmp_path_factory.mktemp("grpc"))
    yield server, port
    server.stop()


def exporter(port: int, key: str, compression: Compression) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"127.0.0.1:{port}",
        insecure=True,
        headers=(("authorization", f"Bearer {key}"),),
        compression=compression,
        timeout=120,  # the server's first export loads litellm's price map (seconds)
    )


def model_calls(provider: TracerProvider, prompt: str, count: int) -> str:
    """Record `count` model calls of `prompt` under one request span; return the trace id."""
    tracer = provider.get_tracer("grpc-app")
    with tracer.start_as_current_span("POST /ask", kind=SpanKind.SERVER) as root:
        for i in range(count):
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
                span.set_attributes(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.usage.input_tokens": 100 + i,
                        "gen_ai.usage.output_tokens": 10,
                        "promptlane.prompt.name": prompt,
                        "promptlane.prompt.version": 1,
                    }
                )
    return f"{root.get_span_context().trace_id:032x}"


def stored(server: Server, trace_id: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        page = http.get("/v1/generations", params={"trace_id": trace_id, "limit": 200})
    assert page.status_code == 200, page.text
    items: list[dict[str, object]] = page.json()["items"]
    return items


def recorded(prompt: str, count: int) -> tuple[str, tuple[ReadableSpan, ...]]:
    """Return the trace id and finished spans of `count` model calls, recorded in memory."""
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "grpc-app"}))
    provider.add_span_processor(SimpleSpanProcessor(finished))
    trace_id = model_calls(provider, prompt, count)
    return trace_id, finished.get_finished_spans()


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_sdk_grpc_exports_are_stored_exactly_once(
    receiver: tuple[Server, int], compression: Compression
) -> None:
    server, port = receiver
    provider = TracerProvider(resource=Resource({"service.name": "grpc-app"}))
    provider.add_span_processor(BatchSpanProcessor(exporter(port, ADMIN_KEY, compression)))
    trace_id = model_calls(provider, f"e2e/grpc-{compression.name}", 5)
    assert provider.force_flush(timeout_millis=120_000)
    provider.shutdown()
    items = stored(server, trace_id)
    assert len(items) == 5
    assert len({item["span_id"] for item in items}) == 5
    assert {item["source"] for item in items} == {"ingest"}
    assert {item["service_name"] for item in items} == {"grpc-app"}
    assert sorted(item["input_tokens"] for item in items) == [100, 101, 102, 103, 104]  # type: ignore[type-var]
    assert all(item["cost_usd"] for item in items)  # priced from litellm's map


def test_a_batch_sent_again_is_not_stored_again(receiver: tuple[Server, int]) -> None:
    server, port = receiver
    trace_id, spans = recorded("e2e/grpc-retry", 3)
    sender = exporter(port, ADMIN_KEY, Compression.NoCompression)
    assert sender.export(spans) is SpanExportResult.SUCCESS
    assert sender.export(spans) is SpanExportResult.SUCCESS  # an exporter's retry
    sender.shutdown()
    assert len(stored(server, trace_id)) == 3


def test_a_reader_key_cannot_export(receiver: tuple[Server, int]) -> None:
    server, port = receiver
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        created = http.post(
            "/v1/keys", json={"name": f"grpc-{uuid.uuid4().hex[:8]}", "role": "reader"}
        )
        assert created.status_code == 201, created.text
    trace_id, spans = recorded("e2e/grpc-reader", 1)
    sender = exporter(port, created.json()["key"], Compression.NoCompression)
    assert sender.export(spans) is SpanExportResult.FAILURE  # PERMISSION_DENIED: not retried
    sender.shutdown()
    assert stored(server, trace_id) == []


def test_worker_processes_share_the_grpc_port(databases: DatabaseFactory, tmp_path: Path) -> None:
    server, port = grpc_server(databases, tmp_path, "--workers", "2")
    try:
        traces = []
        for n in range(4):  # one connection per exporter: the kernel spreads them over workers
            trace_id, spans = recorded(f"e2e/grpc-workers-{n}", 2)
            sender = exporter(port, ADMIN_KEY, Compression.NoCompression)
            assert sender.export(spans) is SpanExportResult.SUCCESS
            sender.shutdown()
            traces.append(trace_id)
        assert [len(stored(server, trace_id)) for trace_id in traces] == [2, 2, 2, 2]
        assert "cannot listen" not in server.output()
    finally:
        server.stop()
