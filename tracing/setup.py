"""Build the OpenTelemetry tracer provider, exporter and metrics from plain values.

Nothing here reads the environment or touches OpenTelemetry's global providers: `api`
resolves settings (`PROMPTLANE_TRACING_*`, falling back to the standard `OTEL_*`) and passes
them in. With the exporter "none" (the default) no tracer provider is built at all: spans are
no-ops and nothing can reach the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from tracing.metrics import Metrics
from tracing.processor import CountingBatchSpanProcessor
from tracing.telemetry import Telemetry

ExporterName = Literal["otlp", "console", "none"]
DEFAULT_MAX_QUEUE_SIZE: Final = 8192
DEFAULT_MAX_EXPORT_BATCH_SIZE: Final = 512
_INSTRUMENTATION: Final = "promptlane"


@dataclass
class TracingHandle:
    """What `configure` built: telemetry for domain code, the provider, and shutdown."""

    telemetry: Telemetry
    metrics: Metrics
    tracer_provider: TracerProvider | None
    processor: CountingBatchSpanProcessor | None

    @property
    def enabled(self) -> bool:
        """Return whether spans are recorded and exported."""
        return self.tracer_provider is not None

    @property
    def dropped_spans(self) -> int:
        """Return how many spans were dropped because the export queue was full."""
        return self.processor.dropped if self.processor is not None else 0

    def shutdown(self) -> None:
        """Export the spans still queued, then stop (blocking: run it off the event loop)."""
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


def _exporter(
    exporter: ExporterName | SpanExporter, endpoint: str | None, headers: Mapping[str, str]
) -> SpanExporter | None:
    if isinstance(exporter, SpanExporter):
        return exporter
    if exporter == "none":
        return None
    if exporter == "console":
        return ConsoleSpanExporter()
    if exporter == "otlp":
        # Imported only when asked for: it pulls in requests and protobuf.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, headers=dict(headers))
    raise ValueError(f"unknown trace exporter {exporter!r}: use otlp, console or none")


def configure(
    *,
    service_name: str = "promptlane",
    exporter: ExporterName | SpanExporter = "none",
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    sampler_ratio: float = 1.0,
    max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    max_export_batch_size: int = DEFAULT_MAX_EXPORT_BATCH_SIZE,
    schedule_delay_millis: float = 5_000,
    record_content: bool = False,
    max_label_values: int = 1000,
) -> TracingHandle:
    """Build tracing and metrics; `exporter` may be a SpanExporter instance (tests).

    `endpoint` is the full OTLP/HTTP traces URL (…/v1/traces). `sampler_ratio` is the share
    of new traces kept (child spans follow their parent). Past `max_queue_size` waiting spans,
    new ones are dropped and counted. `record_content` puts message content on model-call
    spans (off by default: prompts and answers may hold personal data).
    """
    if not 0.0 <= sampler_ratio <= 1.0:
        raise ValueError("the sampler ratio must be between 0 and 1")
    if max_queue_size < 1 or max_export_batch_size < 1:
        raise ValueError("queue and batch sizes must be at least 1")
    metrics = Metrics(max_label_values=max_label_values)
    span_exporter = _exporter(exporter, endpoint, headers or {})
    if span_exporter is None:
        # No spans, but eval runs still store generations: content follows the setting there.
        telemetry = Telemetry(metrics=metrics, record_content=record_content)
        return TracingHandle(telemetry, metrics, None, None)
    processor = CountingBatchSpanProcessor(
        span_exporter,
        max_queue_size=max_queue_size,
        max_export_batch_size=max_export_batch_size,
        schedule_delay_millis=schedule_delay_millis,
        on_drop=metrics.dropped_spans.inc,
    )
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBased(TraceIdRatioBased(sampler_ratio)),
    )
    provider.add_span_processor(processor)
    telemetry = Telemetry(
        tracer=provider.get_tracer(_INSTRUMENTATION),
        metrics=metrics,
        record_content=record_content,
    )
    return TracingHandle(telemetry, metrics, provider, processor)
