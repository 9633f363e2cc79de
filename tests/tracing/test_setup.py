"""configure(): no network by default, settings to exporters, and counted span drops."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracer

from api.server.telemetry import configure_tracing, exporter_name, parse_headers, traces_endpoint
from api.settings import Settings
from tracing.setup import configure


def settings(**values: object) -> Settings:
    return Settings.model_validate({"database_url": "sqlite://", **values})


def test_default_builds_no_provider_and_no_exporter() -> None:
    handle = configure()
    assert handle.tracer_provider is None
    assert not handle.enabled
    assert isinstance(handle.telemetry.tracer, NoOpTracer)
    assert handle.dropped_spans == 0
    handle.shutdown()


def test_default_settings_export_nothing() -> None:
    s = settings()
    assert exporter_name(s) == "none"
    assert configure_tracing(s).tracer_provider is None


def test_an_otlp_endpoint_turns_otlp_on() -> None:
    s = settings(otlp_endpoint="http://collector:4318/")
    assert exporter_name(s) == "otlp"
    assert traces_endpoint(s) == "http://collector:4318/v1/traces"
    s = settings(tracing_endpoint="http://c:4318/custom", otlp_endpoint="http://x:1")
    assert traces_endpoint(s) == "http://c:4318/custom"


def test_otel_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console,otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "svc")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    s = Settings()
    assert exporter_name(s) == "console"
    assert (s.service_name, s.tracing_max_queue_size) == ("svc", 64)
    assert (s.tracing_sample_ratio, s.tracing_record_content) == (0.25, True)
    monkeypatch.setenv("PROMPTLANE_TRACING_EXPORTER", "none")
    assert exporter_name(Settings()) == "none"


def test_unknown_exporter_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown trace exporter"):
        exporter_name(settings(tracing_exporter="zipkin"))


def test_headers_are_parsed() -> None:
    assert parse_headers("a=1, b=x%20y,junk") == {"a": "1", "b": "x y"}
    assert parse_headers(None) == {}


@pytest.mark.parametrize(
    ("name", "cls"), [("otlp", OTLPSpanExporter), ("console", ConsoleSpanExporter)]
)
def test_named_exporters_are_built(name: str, cls: type[SpanExporter]) -> None:
    handle = configure(exporter=name, endpoint="http://127.0.0.1:9/v1/traces")  # type: ignore[arg-type]
    assert handle.processor is not None
    assert isinstance(handle.processor._batch.span_exporter.inner, cls)  # type: ignore[attr-defined]
    assert handle.tracer_provider is not None
    # Nothing was queued, so shutting down sends nothing (port 9 would refuse it anyway).
    handle.shutdown()


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="ratio"):
        configure(sampler_ratio=2.0)
    with pytest.raises(ValueError, match="sizes"):
        configure(max_queue_size=0)


class BlockingExporter(SpanExporter):
    """Holds the worker thread in `export` until released, like a slow collector."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(10)
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def test_a_full_queue_drops_spans_and_counts_them() -> None:
    exporter = BlockingExporter()
    handle = configure(exporter=exporter, max_queue_size=2, max_export_batch_size=2)
    tracer = handle.telemetry.tracer
    for i in range(10):
        with tracer.start_as_current_span(f"span {i}"):
            pass
    dropped = handle.dropped_spans
    assert dropped >= 6  # at most 2 queued and 2 held by the blocked export
    exporter.release.set()
    handle.shutdown()
    assert exporter.exported + handle.dropped_spans == 10
    text = handle.metrics.exposition().decode()
    assert f"promptlane_tracing_dropped_spans_total {float(handle.dropped_spans)}" in text


def test_unsampled_spans_take_no_queue_slot() -> None:
    exporter = BlockingExporter()
    exporter.release.set()
    handle = configure(exporter=exporter, sampler_ratio=0.0, max_queue_size=1)
    for _ in range(5):
        with handle.telemetry.tracer.start_as_current_span("s"):
            pass
    handle.shutdown()
    assert (handle.dropped_spans, exporter.exported) == (0, 0)
