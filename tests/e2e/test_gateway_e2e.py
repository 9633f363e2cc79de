"""The gateway against a real server: the official openai SDK and LangChain's ChatOpenAI.

Behind the gateway: the offline provider, and a local OpenAI-compatible HTTP server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server, start_server
from tests.evals.fake_openai import FakeOpenAI, Step

pytestmark = pytest.mark.e2e
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
VARIABLES = {"company": "Acme", "ticket": "my card was charged twice"}
EXTRA = {"promptlane": {"variables": VARIABLES}}
CHAT = [
    {"role": "system", "content": "You triage tickets for {{company}}."},
    {"role": "user", "content": "{{ticket}}"},
]


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def publish(http: httpx.Client, name: str, config: dict[str, Any], *labels: str) -> None:
    published = http.post(f"/v1/prompts/{name}/versions", json={"messages": CHAT, "config": config})
    assert published.status_code == 201, published.text
    for label in labels:
        moved = http.put(f"/v1/prompts/{name}/labels/{label}", json={"version": 1})
        assert moved.status_code == 200, moved.text


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, provider: FakeOpenAI
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("gateway")
    running = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    remote = {"name": "openai", "provider": "openai", "api_base": provider.base_url}
    with httpx.Client(base_url=running.url, headers=AUTH) as http:
        created = http.post("/v1/connections", json={**remote, "api_key": "sk-test-not-a-real-key"})
        assert created.status_code == 201, created.text
        publish(http, "e2e/gw", {"model": "offline/echo", "temperature": 0.2}, "production")
        publish(http, "e2e/remote", {"model": "openai/gpt-4o-mini"}, "production")
        failing = {"fail_rate": 1.0, "fail_with": "rate_limit"}
        publish(http, "e2e/limited", {"model": "offline/echo", "offline": failing})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def reader_key(server: Server) -> str:
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        created = http.post("/v1/keys", json={"name": "app", "role": "reader"})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


@pytest.fixture
def sdk(server: Server, reader_key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=reader_key, max_retries=0) as client:
        yield client


def test_the_openai_sdk_calls_a_prompt_by_reference(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="promptlane/e2e/gw", messages=[], extra_body=EXTRA
    )
    assert completion.choices[0].message.content == VARIABLES["ticket"]
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    follow_up = sdk.chat.completions.create(
        model="promptlane/e2e/gw@production",
        messages=[{"role": "user", "content": "and the refund?"}],
        extra_body=EXTRA,
        temperature=0.0,
    )
    assert follow_up.choices[0].message.content == "and the refund?"


async def test_the_async_sdk_calls_a_version(server: Server, reader_key: str) -> None:
    client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key=reader_key, max_retries=0)
    async with client:
        completion = await client.chat.completions.create(
            model="promptlane/e2e/gw:1", messages=[], extra_body={"variables": VARIABLES}
        )
        stream = await client.chat.completions.create(
            model="promptlane/e2e/gw:1", messages=[], extra_body=EXTRA, stream=True
        )
        pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    assert completion.choices[0].message.content == VARIABLES["ticket"]
    assert "".join(pieces) == VARIABLES["ticket"]


def test_the_sdk_streams_chunks_with_usage_last(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="promptlane/e2e/gw",
        messages=[],
        extra_body=EXTRA,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len(pieces) > 2
    assert "".join(pieces) == VARIABLES["ticket"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


def test_a_plain_model_is_proxied(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="offline/echo", messages=[{"role": "user", "content": "plain call"}]
    )
    assert completion.choices[0].message.content == "plain call"


def test_the_sdk_raises_its_usual_errors(sdk: openai.OpenAI, server: Server) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="promptlane/e2e/nope", messages=[], extra_body=EXTRA)
    with pytest.raises(openai.BadRequestError, match="ticket"):
        sdk.chat.completions.create(
            model="promptlane/e2e/gw", messages=[], extra_body={"variables": {"company": "A"}}
        )
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="promptlane/e2e/limited:1", messages=[], extra_body=EXTRA)
    key = "pl_" + "x" * 30
    with (
        openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.chat.completions.create(model="promptlane/e2e/gw", messages=[], extra_body=EXTRA)


def test_an_openai_compatible_provider_behind_the_gateway(
    sdk: openai.OpenAI, provider: FakeOpenAI
) -> None:
    provider.script(Step.ok("refund issued"))
    completion = sdk.chat.completions.create(
        model="promptlane/e2e/remote", messages=[], extra_body=EXTRA, max_tokens=12
    )
    assert completion.choices[0].message.content == "refund issued"
    sent = provider.requests[-1].body
    assert sent["max_tokens"] == 12
    assert sent["messages"][1] == {"role": "user", "content": VARIABLES["ticket"]}
    provider.script(Step.ok("streamed from upstream"))
    stream = sdk.chat.completions.create(
        model="promptlane/e2e/remote", messages=[], extra_body=EXTRA, stream=True
    )
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == "streamed from upstream"
    provider.script(Step.error(500))
    with pytest.raises(openai.InternalServerError) as caught:
        sdk.chat.completions.create(model="promptlane/e2e/remote", messages=[], extra_body=EXTRA)
    assert caught.value.status_code == 502


def test_langchain_chat_openai_through_the_gateway(server: Server, reader_key: str) -> None:
    model = ChatOpenAI(
        model="promptlane/e2e/gw",
        base_url=f"{server.url}/v1",
        api_key=reader_key,  # type: ignore[arg-type]
        max_retries=0,
        extra_body=EXTRA,
    )
    answer = model.invoke([("user", "where is my parcel")])
    assert answer.content == "where is my parcel"
    streamed = "".join(str(chunk.content) for chunk in model.stream([("user", "a b c d")]))
    assert streamed == "a b c d"
    remote = model.model_copy(update={"model_name": "promptlane/e2e/remote"})
    assert remote.invoke([("user", "upstream please")]).content == "upstream please"


def test_calls_show_up_in_usage_and_metrics(sdk: openai.OpenAI, server: Server) -> None:
    sdk.chat.completions.create(model="promptlane/e2e/gw", messages=[], extra_body=EXTRA)
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        # Generations are written in the background (PROMPTLANE_GATEWAY_FLUSH_INTERVAL).
        deadline = time.monotonic() + 30
        while True:
            params = {"source": "gateway", "prompt": "e2e/gw"}
            usage = http.get("/v1/analytics/usage", params=params)
            assert usage.status_code == 200, usage.text
            if usage.json()["rows"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        metrics = http.get("/metrics")
    [row] = usage.json()["rows"]
    assert row["prompt"] == "e2e/gw"
    assert row["calls"] >= 1
    assert row["output_tokens"] > 0
    assert row["cost_usd"] > 0
    duration = [
        line
        for line in metrics.text.splitlines()
        if line.startswith("gen_ai_client_operation_duration") and "e2e/gw" in line
    ]
    assert duration


def test_a_call_joins_its_callers_trace_and_is_listed_by_it(
    server: Server, reader_key: str
) -> None:
    # The server exports no spans (the default); the caller's traceparent still links the call.
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{caller_trace}-{caller_span}-01"}
    with openai.OpenAI(
        base_url=f"{server.url}/v1", api_key=reader_key, max_retries=0, default_headers=headers
    ) as client:
        for _ in range(2):
            client.chat.completions.create(model="promptlane/e2e/gw", messages=[], extra_body=EXTRA)
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        deadline = time.monotonic() + 30
        while True:  # written in the background
            listed = http.get("/v1/generations", params={"trace_id": caller_trace})
            assert listed.status_code == 200, listed.text
            if listed.json()["total"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    calls = listed.json()["items"]
    assert len(calls) == 2
    assert {(c["trace_id"], c["parent_span_id"], c["prompt"]) for c in calls} == {
        (caller_trace, caller_span, "e2e/gw")
    }
    assert len({c["span_id"] for c in calls}) == 2
