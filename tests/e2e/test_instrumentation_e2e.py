"""Real instrumentations (OpenLLMetry, OpenInference) and the raw SDK, linked to a prompt version.

An application calls a local OpenAI-compatible stub with the official openai SDK (sync, async
and streamed), traced by each instrumentation package, exporting over OTLP/HTTP to a real
promptlane process. Each call must be exactly one generation, linked to the prompt version,
with its tokens, cost and model.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from promptlane_client import Client, Prompt, PromptlaneSpanProcessor
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.evals.fake_openai import FakeOpenAI
from tests.factories import chat_body

pytestmark = [
    pytest.mark.e2e,
    # opentelemetry-instrumentation-openai 0.62 declares a pydantic model with class-based config.
    pytest.mark.filterwarnings("ignore:Support for class-based `config`:DeprecationWarning"),
]
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
MODEL = "gpt-4o-mini"  # in litellm's bundled price map


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OTEL_", "TRACELOOP_", "OPENINFERENCE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACELOOP_TELEMETRY", "false")


@pytest.fixture
def stub() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def application(server: Server) -> TracerProvider:
    provider = TracerProvider(resource=Resource({"service.name": "e2e-app"}), sampler=ALWAYS_ON)
    provider.add_span_processor(PromptlaneSpanProcessor())
    exporter = OTLPSpanExporter(endpoint=server.url + "/v1/traces", headers=AUTH, timeout=120)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def prompt(server: Server) -> Prompt:
    name = f"e2e/instrumented-{uuid.uuid4().hex[:8]}"
    pushed = httpx.post(f"{server.url}/v1/prompts/{name}/versions", json=chat_body(), headers=AUTH)
    assert pushed.status_code == 201, pushed.text
    with Client(server.url, ADMIN_KEY) as client:
        return client.get_prompt(name, version=1)


def calls(stub: FakeOpenAI, request: dict[str, Any]) -> None:
    """One sync, one async and one streamed call through the official SDK."""
    sync = openai.OpenAI(base_url=stub.base_url, api_key="sk-test")
    sync.chat.completions.create(**request)
    stream = sync.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    async def one() -> None:
        client = openai.AsyncOpenAI(base_url=stub.base_url, api_key="sk-test")
        await client.chat.completions.create(**request)
        await client.close()

    asyncio.run(one())


def generations(server: Server, name: str) -> list[dict[str, Any]]:
    page = httpx.get(
        f"{server.url}/v1/generations", params={"prompt": name, "limit": 50}, headers=AUTH
    )
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def check(server: Server, linked: Prompt) -> None:
    found = generations(server, linked.name)
    assert len(found) == 3, found  # exactly one generation per call
    for g in found:
        assert (g["prompt"], g["version"]) == (linked.name, 1)
        assert (g["input_tokens"], g["output_tokens"]) == (7, 3)
        assert g["request_model"] == MODEL
        assert g["cost_usd"] is not None
        assert g["cost_usd"] > 0
    traces = {g["trace_id"] for g in found}
    listed = httpx.get(f"{server.url}/v1/traces", params={"limit": 200}, headers=AUTH).json()
    assert traces <= {t["trace_id"] for t in listed["items"]}


def instrumented(server: Server, instrumentor: Any, run: Callable[[TracerProvider], None]) -> None:
    provider = application(server)
    instrumentor.instrument(tracer_provider=provider)
    try:
        run(provider)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def test_openllmetry_calls_in_a_linked_block(server: Server, stub: FakeOpenAI) -> None:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    linked = prompt(server)

    def run(provider: TracerProvider) -> None:
        with linked.link():
            calls(stub, linked.to_openai({"company": "Acme", "ticket": "t"}, model=MODEL))

    instrumented(server, OpenAIInstrumentor(), run)
    check(server, linked)


def test_openllmetry_calls_under_a_linked_parent_span(server: Server, stub: FakeOpenAI) -> None:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    linked = prompt(server)

    def run(provider: TracerProvider) -> None:
        tracer = provider.get_tracer("app")
        with tracer.start_as_current_span("triage", attributes=linked.metadata):
            calls(stub, linked.to_openai({"company": "Acme", "ticket": "t"}, model=MODEL))

    instrumented(server, OpenAIInstrumentor(), run)
    check(server, linked)  # the parent span is no generation: three calls, not four


def test_openinference_prompt_template_version(server: Server, stub: FakeOpenAI) -> None:
    from openinference.instrumentation import using_prompt_template
    from openinference.instrumentation.openai import OpenAIInstrumentor

    linked = prompt(server)

    def run(provider: TracerProvider) -> None:
        with using_prompt_template(template="...", version=linked.ref):
            calls(stub, linked.to_openai({"company": "Acme", "ticket": "t"}, model=MODEL))

    instrumented(server, OpenAIInstrumentor(), run)
    check(server, linked)


def test_openinference_metadata(server: Server, stub: FakeOpenAI) -> None:
    from openinference.instrumentation import using_metadata
    from openinference.instrumentation.openai import OpenAIInstrumentor

    linked = prompt(server)

    def run(provider: TracerProvider) -> None:
        with using_metadata(linked.metadata):
            calls(stub, linked.to_openai({"company": "Acme", "ticket": "t"}, model=MODEL))

    instrumented(server, OpenAIInstrumentor(), run)
    check(server, linked)
