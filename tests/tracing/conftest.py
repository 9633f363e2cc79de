"""Fixtures of the tracing tests: tracing wired to an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tracing.setup import TracingHandle, configure


class Traced:
    """A tracing handle and the exporter its spans land in."""

    def __init__(self, *, record_content: bool = False) -> None:
        self.exporter = InMemorySpanExporter()
        self.handle: TracingHandle = configure(
            exporter=self.exporter, record_content=record_content, schedule_delay_millis=50
        )

    def spans(self) -> list[object]:
        """Flush the batch processor and return every finished span."""
        assert self.handle.tracer_provider is not None
        self.handle.tracer_provider.force_flush()
        return list(self.exporter.get_finished_spans())


@pytest.fixture
def traced() -> Iterator[Traced]:
    """Return tracing on an in-memory exporter, shut down after the test."""
    t = Traced()
    yield t
    t.handle.shutdown()
