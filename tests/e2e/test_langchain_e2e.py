"""LangChain's real ChatOpenAI, traced by PromptlaneCallbackHandler, against a real server.

`prompt.to_langchain() | ChatOpenAI(...)` calls a local OpenAI-compatible stub (sync, async and
streamed), and the handler's spans go over OTLP/HTTP to a real promptlane process: each call
must be one generation of the prompt version, with its model, tokens and cost. Then the same
application calls through promptlane's gateway, exporting its spans too: each call must be
counted once (the handler's span is the gateway generation's twin, streamed calls included),
under its prompt version even when the chain calls a plain model (the twin gives the link).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_openai import ChatOpenAI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from promptlane_client import Client, Prompt
from promptlane_client.langchain.tracing import PromptlaneCallbackHandler
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.generations import generations, wait_for
from tests.e2e.server import Server, start_server
from tests.evals.fake_openai import FakeOpenAI
from tests.factories import chat_body

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
MODEL = "gpt-4o-mini"  # in litellm's bundled price map
VARIABLES = {"company": "Acme", "ticket": "my card was charged twice"}
CALLS = 3  # invoke, ainvoke, stream
# Generous bound against a hang (gateway rows are written in the background); no test asserts
# how fast.


@pytest.fixture(autouse=True)
def _no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def stub() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, stub: FakeOpenAI
) -> Iterator[Server]:
    """A server whose `openai` connection is the stub (the gateway also serves MODEL plain)."""
    tmp = tmp_path_factory.mktemp("langchain")
    running = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    connection = {
        "name": "openai",
        "provider": "openai",
        "api_base": stub.base_url,
        "api_key": "sk-test-not-a-real-key",
        "gateway_models": [MODEL],
    }
    created = httpx.post(f"{running.url}/v1/connections", json=connection, headers=AUTH)
    assert created.status_code == 201, created.text
    yield running
    running.stop()


def publish(server: Server) -> Prompt:
    """Publish a chat prompt calling MODEL through the stub, label it production, fetch it."""
    name = f"e2e/langchain-{uuid.uuid4().hex[:8]}"
    body = chat_body(config={"model": f"openai/{MODEL}", "connection": "openai"})
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        assert http.post(f"/v1/prompts/{name}/versions", json=body).status_code == 201
        moved = http.put(f"/v1/prompts/{name}/labels/production", json={"version": 1})
        assert moved.status_code == 200, moved.text
    with Client(server.url, ADMIN_KEY) as client:
        return client.get_prompt(name, label="production")


def application(server: Server) -> TracerProvider:
    """The application's tracer provider, exporting each span as it ends to the server."""
    provider = TracerProvider(resource=Resource({"service.name": "langchain-app"}))
    exporter = OTLPSpanExporter(endpoint=server.url + "/v1/traces", headers=AUTH, timeout=120)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def chat_openai(base_url: str, model: str, key: str = "sk-test", **options: Any) -> ChatOpenAI:
    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=SecretStr(key),
        max_retries=0,
        stream_usage=True,  # token usage of streamed calls (off for a custom base_url)
        **options,
    )


Build = Callable[[httpx.AsyncClient | None], Runnable[Any, Any]]


def call_three_ways(build: Build, inputs: Any, config: RunnableConfig, **kwargs: Any) -> None:
    """Invoke, stream and ainvoke the chain `build` makes, once each.

    The async call's chain gets an HTTP client of its own event loop: ChatOpenAI's default
    async client is shared per base URL and would outlive the loop `asyncio.run` closes.
    """
    chain = build(None)
    assert chain.invoke(inputs, config, **kwargs).content
    assert "".join(str(chunk.content) for chunk in chain.stream(inputs, config, **kwargs))

    async def ainvoke() -> Any:
        async with httpx.AsyncClient() as http:
            return await build(http).ainvoke(inputs, config, **kwargs)

    assert asyncio.run(ainvoke()).content


def usage(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    found = http.get(
        "/v1/analytics/usage", params={"group_by": ["prompt", "version", "model"], **params}
    )
    assert found.status_code == 200, found.text
    return list(found.json()["rows"])


def test_chain_calls_become_priced_generations_of_the_prompt_version(
    server: Server, stub: FakeOpenAI
) -> None:
    prompt = publish(server)
    provider = application(server)
    handler = PromptlaneCallbackHandler(provider)

    def chain(http: httpx.AsyncClient | None) -> Runnable[Any, Any]:
        return prompt.to_langchain() | chat_openai(stub.base_url, MODEL, http_async_client=http)

    call_three_ways(chain, VARIABLES, {"callbacks": [handler]})
    provider.shutdown()
    sent = [r.body for r in stub.requests[-CALLS:]]
    assert [m["content"] for m in sent[0]["messages"]] == [
        "You triage tickets for Acme.",
        VARIABLES["ticket"],
    ]
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        found = generations(http, prompt=prompt.name)
        (row,) = usage(http, prompt=prompt.name)
    assert len(found) == CALLS, found  # exactly one generation per call
    for g in found:
        assert (g["prompt"], g["version"], g["label"]) == (prompt.name, 1, "production")
        assert (g["source"], g["service_name"]) == ("ingest", "langchain-app")
        assert (g["request_model"], g["response_model"]) == (MODEL, MODEL)
        assert (g["input_tokens"], g["output_tokens"]) == (7, 3)
        assert g["cost_usd"] > 0
        assert g["is_duplicate"] is False
    assert (row["prompt"], row["version"], row["model"], row["calls"]) == (
        prompt.name,
        1,
        MODEL,
        CALLS,
    )
    assert (row["input_tokens"], row["output_tokens"]) == (7 * CALLS, 3 * CALLS)
    assert row["cost_usd"] == pytest.approx(sum(g["cost_usd"] for g in found))


def through_the_gateway(
    server: Server, run: Callable[[PromptlaneCallbackHandler], None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Run the calls; return the gateway's new generations, the handler's spans, calls counted.

    The handler's spans are found by their trace (ChatOpenAI sends no `traceparent`, so the
    gateway's rows are in traces of their own); twins are listed only by trace.
    """
    spans = InMemorySpanExporter()
    provider = application(server)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        before = {g["id"] for g in generations(http, source="gateway")}
        counted_before = sum(r["calls"] for r in usage(http))
        run(PromptlaneCallbackHandler(provider))
        provider.shutdown()  # every span exported, and stored: ingest answers once it wrote
        rows = wait_for(http, len(before) + CALLS, source="gateway")
        gateway = [g for g in rows if g["id"] not in before]
        traces = {format(s.context.trace_id, "032x") for s in spans.get_finished_spans()}
        ingested = [g for t in sorted(traces) for g in generations(http, trace_id=t)]
        counted = sum(r["calls"] for r in usage(http)) - counted_before
    return gateway, ingested, counted


def test_calls_through_the_gateway_are_counted_once(server: Server) -> None:
    prompt = publish(server)

    def llm(http: httpx.AsyncClient | None) -> Runnable[Any, Any]:
        return chat_openai(
            f"{server.url}/v1",
            f"promptlane/{prompt.name}",  # the gateway renders the production version, links
            key=ADMIN_KEY,
            include_response_headers=True,  # a streamed call's id (ChatOpenAI drops it)
            http_async_client=http,
        )

    def run(handler: PromptlaneCallbackHandler) -> None:
        config: RunnableConfig = {"callbacks": [handler], "metadata": prompt.metadata}
        extra_body = {"promptlane": {"variables": VARIABLES}}
        call_three_ways(llm, [("user", "any update?")], config, extra_body=extra_body)

    gateway, spans, counted = through_the_gateway(server, run)
    assert len(gateway) == CALLS
    for g in gateway:
        assert (g["prompt"], g["version"], g["label"]) == (prompt.name, 1, "production")
        assert g["request_model"] == f"openai/{MODEL}"  # the version's config
        assert (g["input_tokens"], g["output_tokens"]) == (7, 3)
        assert g["cost_usd"] > 0
    assert len(spans) == CALLS  # each handler span arrived...
    assert {s["response_id"] for s in spans} == {g["response_id"] for g in gateway}
    for span in spans:  # ...and is its call's twin: stored, linked, not counted
        assert (span["source"], span["is_duplicate"]) == ("ingest", True)
        assert (span["prompt"], span["version"]) == (prompt.name, 1)
    assert counted == CALLS
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        (row,) = usage(http, prompt=prompt.name)
    assert (row["version"], row["model"], row["calls"]) == (1, MODEL, CALLS)  # model normalised
    assert row["cost_usd"] == pytest.approx(sum(g["cost_usd"] for g in gateway))


def test_a_chain_calling_a_plain_model_through_the_gateway_is_counted_once(
    server: Server,
) -> None:
    prompt = publish(server)

    def chain(http: httpx.AsyncClient | None) -> Runnable[Any, Any]:
        llm = chat_openai(
            f"{server.url}/v1",
            MODEL,
            key=ADMIN_KEY,
            include_response_headers=True,
            http_async_client=http,
        )
        return prompt.to_langchain() | llm

    def run(handler: PromptlaneCallbackHandler) -> None:
        call_three_ways(chain, VARIABLES, {"callbacks": [handler]})

    gateway, spans, counted = through_the_gateway(server, run)
    assert len(gateway) == len(spans) == counted == CALLS
    assert {s["response_id"] for s in spans} == {g["response_id"] for g in gateway}
    assert all(s["is_duplicate"] for s in spans)
    assert all((s["prompt"], s["version"]) == (prompt.name, 1) for s in spans)
    # The counted row is the gateway's: it knows no prompt, so it takes its twin's link
    # (docs/tracing.md, LangChain through the gateway), whichever was stored first.
    linked = {(g["prompt"], g["version"], g["label"], g["request_model"]) for g in gateway}
    assert linked == {(prompt.name, 1, "production", MODEL)}
    assert all(g["cost_usd"] > 0 for g in gateway)
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        (row,) = usage(http, prompt=prompt.name)
    assert (row["version"], row["model"], row["calls"]) == (1, MODEL, CALLS)  # counted once
    assert row["cost_usd"] == pytest.approx(sum(g["cost_usd"] for g in gateway))
