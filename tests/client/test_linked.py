"""`linked(prompt)` / `prompt.link()` and PromptlaneSpanProcessor: every span in the block."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import promptlane_client
from promptlane_client import Prompt, PromptlaneSpanProcessor, linked

PROMPT = Prompt.local("support/triage", "Hi {{name}}", label="production")
OTHER = Prompt.local("judges/x", "Judge {{x}}")


@pytest.fixture
def traced() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(PromptlaneSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def attributes(exporter: InMemorySpanExporter) -> dict[str, dict[str, object]]:
    return {s.name: dict(s.attributes or {}) for s in exporter.get_finished_spans()}


def test_spans_inside_the_block_are_stamped(
    traced: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = traced
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("before"):
        pass
    with PROMPT.link(), tracer.start_as_current_span("call"):
        with tracer.start_as_current_span("child"):
            pass
        with linked(OTHER), tracer.start_as_current_span("judge"):
            pass
        with tracer.start_as_current_span("own", attributes={"promptlane.prompt.name": "mine"}):
            pass
    with tracer.start_as_current_span("after"):
        pass
    seen = attributes(exporter)
    assert seen["call"] == {
        "promptlane.prompt.name": "support/triage",
        "promptlane.prompt.version": str(PROMPT.version),
        "promptlane.prompt.label": "production",
        "promptlane.prompt.content_hash": PROMPT.content_hash,
    }
    assert seen["child"] == seen["call"]
    assert seen["judge"]["promptlane.prompt.name"] == "judges/x"
    assert "promptlane.prompt.label" not in seen["judge"]  # nothing of the outer prompt
    assert seen["own"] == {"promptlane.prompt.name": "mine"}
    assert seen["before"] == seen["after"] == {}


def test_a_mapping_links_too_and_a_nameless_one_is_refused() -> None:
    with linked({"promptlane.prompt.name": "p", "promptlane.prompt.version": 2}):
        pass
    with pytest.raises(ValueError, match="name"), linked({"promptlane.prompt.version": 2}):
        pass


def test_ref_names_the_version() -> None:
    assert PROMPT.ref == f"support/triage@{PROMPT.version}"
    assert promptlane_client.linked is linked


def test_importing_the_client_does_not_import_opentelemetry() -> None:
    code = "import sys, promptlane_client; print('opentelemetry' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
