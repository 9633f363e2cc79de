"""A batch span processor that counts the spans it drops when its queue is full.

The SDK's `BatchSpanProcessor` drops spans silently once its queue (`max_queue_size`) is full
and keeps no public count. This wrapper admits a span only while fewer than `max_queue_size`
spans are waiting: it counts admissions, and the exporter wrapper subtracts each batch as the
worker thread takes it off the queue. The inner queue therefore never overflows and every drop
is counted here. `on_end` does no I/O: exporting stays on the SDK's worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult


class _Taking(SpanExporter):
    """Tells the processor how many spans left the queue, then exports them."""

    def __init__(self, inner: SpanExporter, taken: Callable[[int], None]) -> None:
        self.inner = inner
        self._taken = taken

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._taken(len(spans))
        return self.inner.export(spans)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingBatchSpanProcessor(SpanProcessor):
    """`BatchSpanProcessor` with a bounded queue whose overflow is counted, not silent."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_millis: float = 5_000,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.max_queue_size = max_queue_size
        self.dropped = 0
        self._on_drop = on_drop
        self._waiting = 0
        self._closed = False
        self._lock = threading.Lock()
        self._batch = BatchSpanProcessor(
            _Taking(exporter, self._taken),
            max_queue_size=max_queue_size,
            max_export_batch_size=min(max_export_batch_size, max_queue_size),
            schedule_delay_millis=schedule_delay_millis,
        )

    def _taken(self, count: int) -> None:
        with self._lock:
            self._waiting = max(0, self._waiting - count)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Do nothing: spans are queued when they end."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue the span for export, or count it as dropped when the queue is full."""
        if not (span.context and span.context.trace_flags.sampled):
            return  # the inner processor ignores these; counting them would leak slots
        with self._lock:
            admitted = not self._closed and self._waiting < self.max_queue_size
            if admitted:
                self._waiting += 1
            else:
                self.dropped += 1
        if admitted:
            self._batch.on_end(span)
        elif self._on_drop is not None:
            self._on_drop(1)

    def shutdown(self) -> None:
        """Export what is queued, then stop the worker."""
        with self._lock:
            self._closed = True  # later spans count as dropped, not queued
        self._batch.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is queued now (blocking: call it off the event loop)."""
        return self._batch.force_flush(timeout_millis)
