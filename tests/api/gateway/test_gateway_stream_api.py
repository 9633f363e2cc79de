"""POST /v1/chat/completions streamed, and an OpenAI-compatible provider behind the gateway."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from opentelemetry.trace import StatusCode

from api.db import Database
from evals.connections.resolver import Route
from evals.gateway.schemas import ChatCompletionRequest
from evals.llm.client import ModelClient
from tests.api.gateway.conftest import (
    ECHO,
    URL,
    VARIABLES,
    assert_openai_error,
    events,
    gateway_of,
    generations,
    request,
)
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.evals.model_helpers import TEST_KEY
from tests.factories import chat_body
from tests.tracing.conftest import Traced
from tracing import semconv
from tracing.dedupe import is_gateway_response

# --- streaming --------------------------------------------------------------------------------


async def test_a_stream_forwards_chunks_in_order_then_done(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database, traced: Traced
) -> None:
    response = await seeded.post(URL, json=request(stream=True))
    assert response.status_code == 200, response.text
    data = events(response)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert semconv.GATEWAY_COST_HEADER not in response.headers  # unknown when headers are sent
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == VARIABLES["ticket"]
    assert len(chunks) > 2  # word by word, not one buffered answer
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    [row] = await generations(app, db)
    assert row.prompt_label == "production"
    assert row.is_error is False
    assert row.output_tokens
    assert row.cost_usd
    [span] = [s for s in traced.spans() if s.name == "chat offline/echo"]  # type: ignore[attr-defined]
    assert span.status.status_code != StatusCode.ERROR  # type: ignore[attr-defined]
    assert semconv.ERROR_TYPE not in span.attributes  # type: ignore[attr-defined]
    scraped = (await seeded.get("/metrics")).text
    assert re.search(r'error_type="[^"]', scraped) is None  # a success, not also a failure
    assert "gen_ai_client_operation_duration_seconds_count{" in scraped


async def test_a_stream_ends_with_usage_when_asked(seeded: httpx.AsyncClient) -> None:
    body = request(stream=True, stream_options={"include_usage": True})
    data = events(await seeded.post(URL, json=body))
    last = json.loads(data[-2])
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] > 0
    assert data[-1] == "[DONE]"


async def test_a_stream_that_cannot_open_is_an_http_error(
    seeded: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    config = {**ECHO, "offline": {"fail_rate": 1.0, "fail_with": "rate_limit"}}
    await seeded.post("/v1/prompts/failing/versions", json=chat_body(config=config))
    response = await seeded.post(URL, json=request("promptlane/failing:1", stream=True))
    assert_openai_error(response, 429)
    [row] = await generations(app, db)
    assert row.is_error is True


# --- a real HTTP provider behind the gateway ----------------------------------------------------


@pytest.fixture
def provider() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
async def remote(
    seeded: httpx.AsyncClient, provider: FakeOpenAI
) -> AsyncIterator[httpx.AsyncClient]:
    connection = {
        "name": "openai",
        "provider": "openai",
        "api_base": provider.base_url,
        "api_key": TEST_KEY,
    }
    created = await seeded.post("/v1/connections", json=connection)
    assert created.status_code == 201, created.text
    config = {"model": "openai/gpt-4o-mini", "temperature": 0.2}
    published = await seeded.post("/v1/prompts/remote/versions", json=chat_body(config=config))
    assert published.status_code == 201, published.text
    return seeded


async def test_an_openai_compatible_provider_gets_the_merged_call(
    remote: httpx.AsyncClient, provider: FakeOpenAI, app: FastAPI, db: Database
) -> None:
    provider.script(Step.ok("refund issued", prompt_tokens=11, completion_tokens=2))
    response = await remote.post(URL, json=request("promptlane/remote:1", temperature=0.9))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "refund issued"
    sent = provider.requests[-1].body
    assert sent["temperature"] == 0.9
    assert sent["messages"][0] == {"role": "system", "content": "You triage tickets for Acme."}
    assert "api_base" not in sent
    assert provider.requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"
    [row] = await generations(app, db)
    assert (row.input_tokens, row.output_tokens) == (11, 2)
    assert float(response.headers[semconv.GATEWAY_COST_HEADER]) == row.cost_usd > 0
    config = {"model": "openai/unpriced-local-model"}  # litellm has no price for it
    published = await remote.post("/v1/prompts/local/versions", json=chat_body(config=config))
    assert published.status_code == 201, published.text
    provider.script(Step.ok("ok"))
    unpriced = await remote.post(URL, json=request("promptlane/local:1"))
    assert unpriced.status_code == 200, unpriced.text
    assert semconv.GATEWAY_COST_HEADER not in unpriced.headers


async def test_an_openai_compatible_provider_streams_through(
    remote: httpx.AsyncClient, provider: FakeOpenAI, app: FastAPI, db: Database
) -> None:
    provider.script(Step.ok("one two three", prompt_tokens=5, completion_tokens=3))
    body = request("promptlane/remote:1", stream=True, stream_options={"include_usage": True})
    response = await remote.post(URL, json=body)
    data = events(response)
    chunks = [json.loads(d) for d in data[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-1]["usage"]["total_tokens"] == 8
    [row] = await generations(app, db)
    assert (row.input_tokens, row.output_tokens) == (5, 3)
    assert {c["id"] for c in chunks} == {row.response_id}  # the provider's id replaced
    # ...and repeated in a header, for clients that drop a stream's id (LangChain's ChatOpenAI)
    assert response.headers[semconv.GATEWAY_RESPONSE_ID_HEADER] == row.response_id
    assert is_gateway_response(row.response_id)


async def test_a_provider_failing_mid_stream_ends_it_with_an_error_event(
    remote: httpx.AsyncClient, provider: FakeOpenAI, app: FastAPI, db: Database
) -> None:
    provider.script(Step.broken_stream("partial answer"))
    data = events(await remote.post(URL, json=request("promptlane/remote:1", stream=True)))
    assert data[-1] != "[DONE]"
    assert json.loads(data[0])["choices"][0]["delta"]["content"] == "partial"
    assert "overloaded" in json.loads(data[-1])["error"]["message"]
    [row] = await generations(app, db)
    assert row.is_error is True
    assert row.error_type == "APIError"


async def test_a_refused_stream_is_an_http_error(
    remote: httpx.AsyncClient, provider: FakeOpenAI, app: FastAPI, db: Database
) -> None:
    provider.script(Step.error(429, retry_after=0))
    body = request("promptlane/remote:1", stream=True)
    assert_openai_error(await remote.post(URL, json=body), 429)
    [row] = await generations(app, db)
    assert (row.is_error, row.error_type) == (True, "RateLimitError")


async def test_a_provider_429_is_a_429(
    remote: httpx.AsyncClient, provider: FakeOpenAI, db: Database
) -> None:
    provider.script(Step.error(429, retry_after=0))
    error = assert_openai_error(await remote.post(URL, json=request("promptlane/remote:1")), 429)
    assert error["type"] == "rate_limit_error"
    assert len(provider.requests) == 1  # the gateway does not retry: the caller's SDK does


class Chunk:
    """A provider chunk as litellm yields it (only what the gateway reads)."""

    def __init__(self, text: str) -> None:
        self.data = {
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}}],
        }

    def model_dump(self, *, exclude_none: bool) -> dict[str, Any]:
        return self.data


class PulledModel(ModelClient):
    """A model client whose stream counts how many chunks were pulled from it."""

    pulled = 0

    async def open_stream(self, **kwargs: Any) -> tuple[Any, int, Route]:
        async def chunks() -> AsyncIterator[Chunk]:
            for word in ("one", " two", " three"):
                self.pulled += 1
                yield Chunk(word)

        return chunks(), 1, Route("offline/echo", None)


async def test_chunks_are_forwarded_as_they_arrive(seeded: httpx.AsyncClient, app: FastAPI) -> None:
    gateway = gateway_of(app)
    model = PulledModel(telemetry=gateway.telemetry)
    gateway.model = model
    body = ChatCompletionRequest.model_validate(request(stream=True))
    response = await gateway.chat(body)
    assert isinstance(response, StreamingResponse)
    events = aiter(response.body_iterator)
    first = await anext(events)
    assert b'"one"' in bytes(first)  # type: ignore[arg-type]
    assert model.pulled == 1  # nothing read ahead: the first chunk left before the second came
    rest = [bytes(e) async for e in events]  # type: ignore[arg-type]
    assert model.pulled == 3
    assert rest[-1] == b"data: [DONE]\n\n"
