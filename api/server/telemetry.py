"""Tracing and metrics wiring: settings to `tracing.configure`, and the app's instrumentation."""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.metrics import NoOpMeterProvider
from starlette.types import ASGIApp

from api.server.fastpath import GatewayFastPath, ResolveFastPath
from api.settings import Settings
from tracing.setup import ExporterName, TracingHandle, configure

# Probes and scrapes are not traced: they would drown the traces people look at. Nor is
# trace ingest: a promptlane exporting its own spans to itself would feed on them forever.
UNTRACED: Final = r"/(healthz|readyz|metrics|v1/traces)(\?|$)"
_EXPORTERS: Final[dict[str, ExporterName]] = {
    "otlp": "otlp",
    "otlp_proto_http": "otlp",
    "console": "console",
    "none": "none",
}


def exporter_name(settings: Settings) -> ExporterName:
    """Return the trace exporter: as set, else otlp when an endpoint is given, else none."""
    if settings.tracing_exporter is None:
        has_endpoint = settings.tracing_endpoint or settings.otlp_endpoint
        return "otlp" if has_endpoint else "none"
    # OTEL_TRACES_EXPORTER is a list ("otlp,console"); the first one promptlane knows wins.
    for name in settings.tracing_exporter.split(","):
        known = _EXPORTERS.get(name.strip().lower())
        if known is not None:
            return known
    raise ValueError(f"unknown trace exporter {settings.tracing_exporter!r}: otlp, console, none")


def traces_endpoint(settings: Settings) -> str | None:
    """Return the OTLP/HTTP traces URL: the signal URL as is, or <base>/v1/traces."""
    if settings.tracing_endpoint:
        return settings.tracing_endpoint
    if settings.otlp_endpoint:
        return settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def parse_headers(value: str | None) -> dict[str, str]:
    """Parse OTLP exporter headers, `k=v,k2=v2` with URL-encoded values."""
    headers: dict[str, str] = {}
    for pair in (value or "").split(","):
        key, sep, item = pair.partition("=")
        if sep and key.strip():
            headers[unquote(key.strip())] = unquote(item.strip())
    return headers


def configure_tracing(settings: Settings) -> TracingHandle:
    """Build tracing and metrics from the settings (the default makes no network calls)."""
    return configure(
        service_name=settings.service_name,
        exporter=exporter_name(settings),
        endpoint=traces_endpoint(settings),
        headers=parse_headers(settings.tracing_headers or settings.otlp_headers),
        sampler_ratio=settings.tracing_sample_ratio,
        max_queue_size=settings.tracing_max_queue_size,
        max_export_batch_size=settings.tracing_max_export_batch_size,
        record_content=settings.tracing_record_content,
        max_label_values=settings.metrics_max_label_values,
    )


def add_fast_path(app: FastAPI, handle: TracingHandle) -> None:
    """Install the resolve and gateway fast paths, with HTTP server spans for what is behind.

    The OTel middleware wraps the whole Starlette stack, so the fast paths are put outside
    it: a cached resolve (~30 µs) would otherwise pay for a server span on every hit, and a
    gateway call has its own `chat` span (api/server/fastpath.py).
    """
    if handle.tracer_provider is None:
        app.add_middleware(ResolveFastPath, state=app.state)
        app.add_middleware(GatewayFastPath, state=app.state)
        return
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=handle.tracer_provider,
        meter_provider=NoOpMeterProvider(),  # HTTP metrics are not part of /metrics (yet)
        excluded_urls=UNTRACED,
        exclude_spans=["receive", "send"],
    )
    instrumented = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return GatewayFastPath(ResolveFastPath(instrumented(), state=app.state), state=app.state)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
