"""What instrumented code is handed: a tracer, the metrics, and whether content is recorded.

Domain code takes a `Telemetry` argument (default: `Telemetry.disabled()`, a no-op tracer and
metrics nobody scrapes) instead of reaching for OpenTelemetry's global providers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from tracing import semconv
from tracing.metrics import Metrics

_ids = RandomIdGenerator()


@dataclass(frozen=True, slots=True)
class PromptRef:
    """The prompt version a model call or eval item belongs to."""

    name: str
    version: int
    label: str | None = None
    content_hash: str | None = None
    run_id: int | None = None

    def attributes(self) -> dict[str, AttributeValue]:
        """Return the `promptlane.*` span attributes of this prompt version."""
        out: dict[str, AttributeValue] = {
            semconv.PROMPT_NAME: self.name,
            semconv.PROMPT_VERSION: self.version,
        }
        if self.label:
            out[semconv.PROMPT_LABEL] = self.label
        if self.content_hash:
            out[semconv.PROMPT_CONTENT_HASH] = self.content_hash
        if self.run_id is not None:
            out[semconv.RUN_ID] = self.run_id
        return out


class Telemetry:
    """A tracer and metrics for domain code; `record_content` gates message content."""

    def __init__(
        self,
        *,
        tracer: Tracer | None = None,
        metrics: Metrics | None = None,
        record_content: bool = False,
    ) -> None:
        self.tracer: Tracer = tracer or trace.NoOpTracer()
        self.metrics = metrics or Metrics()
        self.record_content = record_content

    @classmethod
    def disabled(cls) -> Telemetry:
        """Return telemetry that records no spans and whose metrics nobody reads."""
        return cls()

    @contextmanager
    def span(
        self,
        name: str,
        attributes: dict[str, AttributeValue] | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> Iterator[Span]:
        """Open a span as the current one; an escaping exception marks it as an error."""
        with self.tracer.start_as_current_span(
            name,
            kind=kind,
            attributes=attributes,
            record_exception=True,
            set_status_on_exception=True,
        ) as span:
            yield span


def mark_error(span: Span, error_type: str, description: str) -> None:
    """Mark a span failed with a low-cardinality `error.type` and a description."""
    span.set_attribute(semconv.ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR, description))


def current_ids() -> tuple[str, str] | None:
    """Return the current span's (trace id, span id) in hex: the parent of a span started now."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def trace_id_of(span: Span) -> str | None:
    """Return the span's trace id as 32 hex digits, or None for a no-op span."""
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def new_span_ids() -> tuple[str, str]:
    """Return fresh random, valid (trace id, span id) in hex, drawn as the SDK draws them."""
    return format(_ids.generate_trace_id(), "032x"), format(_ids.generate_span_id(), "016x")


def span_ids(span: Span) -> tuple[str, str]:
    """Return the span's (trace id, span id) in hex; made-up ids for a no-op span.

    A generation is identified by these ids even when tracing is off (128 + 64 random bits
    do not collide with a real span's in practice). With tracing off, the no-op tracer hands
    back the current *remote* span (a caller's traceparent) as the new span: the call keeps
    the caller's trace id, as a child would, and gets a fresh span id of its own.
    """
    context = span.get_span_context()
    if not context.is_valid:
        return new_span_ids()
    trace_id = format(context.trace_id, "032x")
    if context.is_remote:
        return trace_id, format(_ids.generate_span_id(), "016x")
    return trace_id, format(context.span_id, "016x")


@contextmanager
def caller_context(headers: Mapping[str, str]) -> Iterator[None]:
    """Make a caller's trace context (its `traceparent`) current, unless a span already is.

    Under the HTTP server span of instrumented routes the caller is that span's parent
    already; elsewhere (fast paths, tracing off) this is what links a call to its caller.
    """
    if trace.get_current_span().get_span_context().is_valid:
        yield
        return
    token = otel_context.attach(propagate.extract(headers))
    try:
        yield
    finally:
        otel_context.detach(token)
