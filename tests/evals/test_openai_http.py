"""The direct OpenAI-compatible path: same answers, retries and errors as through litellm."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from evals.connections.resolver import (
    ConnectionSource,
    ResolvedConnection,
    Route,
    StaticConnections,
)
from evals.errors import ModelCallError, ModelTimeoutError
from evals.llm.client import ModelClient, RetryPolicy, error_type
from evals.llm.failures import provider_status
from evals.llm.http import direct_request
from evals.llm.params import call_kwargs
from promptlane_client.params import PARAM_NAMES
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.evals.model_helpers import MESSAGES, Sleeps, connections, openai_config


def direct_client(via: ConnectionSource) -> ModelClient:
    retry = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.5)
    return ModelClient(retry=retry, sleep=Sleeps(), connections=via)


@pytest.fixture
async def direct(fake_openai: FakeOpenAI) -> AsyncIterator[ModelClient]:
    model = direct_client(connections(fake_openai))
    yield model
    await model.aclose()


def through_litellm(server: FakeOpenAI) -> ModelClient:
    retry = RetryPolicy(attempts=3, base_delay=0.001)
    return ModelClient(retry=retry, sleep=Sleeps(), native=False, connections=connections(server))


def kwargs_of(
    config: dict[str, Any],
    api_base: str | None = "http://provider/v1/",
    api_key: str | None = "sk-k",
    **options: Any,
) -> dict[str, Any]:
    way = Route(config["model"], ResolvedConnection("c", "openai", api_base, api_key))
    kwargs = call_kwargs(config, route=way, messages=MESSAGES, metadata=None, timeout=5.0)
    return {**kwargs, **options}


# --- which calls take the direct path ---------------------------------------------------------


def test_a_plain_call_becomes_the_body_litellm_would_send() -> None:
    config = {"model": "openai/my-model", "temperature": 0.3, "top_p": None, "seed": 7}
    request = direct_request(kwargs_of(config, metadata={"item": 1}))
    assert request is not None
    assert request.url == "http://provider/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-k"
    body = json.loads(request.content)
    assert body == {"model": "my-model", "messages": MESSAGES, "temperature": 0.3, "seed": 7}


def test_a_connection_without_a_key_sends_no_authorization() -> None:
    request = direct_request(kwargs_of({"model": "openai/llama"}, api_key=None))
    assert request is not None
    assert "Authorization" not in request.headers


def test_every_invocation_parameter_but_reasoning_effort_is_sent_as_it_is() -> None:
    call = {name: f"value-{name}" for name in PARAM_NAMES - {"reasoning_effort"}}
    request = direct_request(kwargs_of({"model": "openai/m", **call}))
    assert request is not None
    body = json.loads(request.content)
    assert {k: v for k, v in body.items() if k not in ("model", "messages")} == call


@pytest.mark.parametrize(
    ("config", "options"),
    [
        ({"model": "anthropic/claude"}, {}),
        ({"model": "gpt-4o-mini"}, {}),
        ({"model": "openai/m"}, {"api_base": None}),
        ({"model": "openai/m"}, {"headers": {}}),
        ({"model": "openai/m"}, {"input_cost_per_token": 1.0}),
        ({"model": "openai/m", "reasoning_effort": "low"}, {}),
    ],
)
def test_anything_but_a_plain_openai_compatible_call_stays_with_litellm(
    config: dict[str, Any], options: dict[str, Any]
) -> None:
    assert direct_request(kwargs_of(config, **options)) is None


# --- the same results as through litellm ------------------------------------------------------


async def test_an_answer_matches_litellms(fake_openai: FakeOpenAI, direct: ModelClient) -> None:
    fake_openai.script(
        Step.ok("billing", prompt_tokens=1000, completion_tokens=10),
        Step.ok("billing", prompt_tokens=1000, completion_tokens=10),
    )
    config = openai_config(max_tokens=64)
    mine = await direct.complete(messages=MESSAGES, config=config)
    theirs = await through_litellm(fake_openai).complete(messages=MESSAGES, config=config)
    fields = ("text", "model", "input_tokens", "output_tokens", "finish_reason", "attempts")
    assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert mine.cost_usd is not None
    assert mine.cost_usd == pytest.approx(theirs.cost_usd)
    assert mine.trace_id
    assert mine.span_id
    sent, expected = (request.body for request in fake_openai.requests)
    assert sent == expected
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test-not-a-real-key"


async def test_a_tool_call_matches_litellms(fake_openai: FakeOpenAI, direct: ModelClient) -> None:
    fake_openai.script(
        Step.tool_call("route", {"queue": "b"}), Step.tool_call("route", {"queue": "b"})
    )
    tools = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]
    config = openai_config(tools=tools, tool_choice="auto")
    mine = await direct.complete(messages=MESSAGES, config=config)
    theirs = await through_litellm(fake_openai).complete(messages=MESSAGES, config=config)
    assert (mine.text, mine.finish_reason) == (theirs.text, "tool_calls")
    assert mine.raw is not None
    assert theirs.raw is not None
    assert mine.raw["tool_calls"] == theirs.raw["tool_calls"]
    assert "_skip_mcp_handler" not in fake_openai.requests[0].body


async def test_a_model_without_a_price_has_no_cost(
    fake_openai: FakeOpenAI, direct: ModelClient
) -> None:
    config = openai_config(model="openai/promptlane-unpriced-model")
    completion = await direct.complete(messages=MESSAGES, config=config)
    assert (completion.text, completion.cost_usd) == ("my card was charged twice", None)
    assert fake_openai.requests[0].body["model"] == "promptlane-unpriced-model"


async def collect(chunks: Any) -> list[Any]:
    return [chunk async for chunk in chunks]


async def test_a_stream_matches_litellms(fake_openai: FakeOpenAI, direct: ModelClient) -> None:
    fake_openai.script(Step.ok("your refund is on its way"), Step.ok("your refund is on its way"))
    config = openai_config(max_tokens=64)
    mine, attempts, _ = await direct.open_stream(messages=MESSAGES, config=config)
    theirs, _, _ = await through_litellm(fake_openai).open_stream(messages=MESSAGES, config=config)
    mine, theirs = await collect(mine), await collect(theirs)
    assert all(isinstance(chunk, dict) for chunk in mine)  # the provider's JSON, as sent
    theirs = [chunk.model_dump(exclude_none=True) for chunk in theirs]

    def text(chunks: list[dict[str, Any]]) -> str:
        deltas = [c["delta"].get("content") or "" for x in chunks for c in x.get("choices", [])]
        return "".join(deltas)

    def last(chunks: list[dict[str, Any]], key: str) -> Any:
        return [x[key] for x in chunks if x.get(key)][-1]

    assert text(mine) == text(theirs) == "your refund is on its way"
    assert last(mine, "usage")["completion_tokens"] == last(theirs, "usage")["completion_tokens"]
    sent, expected = (request.body for request in fake_openai.requests)
    assert sent == expected
    assert sent["stream_options"] == {"include_usage": True}
    assert attempts == 1


async def test_a_refused_stream_is_retried_and_keeps_the_status(
    fake_openai: FakeOpenAI, direct: ModelClient
) -> None:
    fake_openai.script(Step.error(503), Step.error(429, retry_after=0), Step.error(429))
    with pytest.raises(ModelCallError) as caught:
        await direct.open_stream(messages=MESSAGES, config=openai_config())
    assert provider_status(caught.value) == 429
    assert error_type(caught.value) == "RateLimitError"
    assert len(fake_openai.requests) == 3


async def test_an_error_event_mid_stream_is_raised(
    fake_openai: FakeOpenAI, direct: ModelClient
) -> None:
    fake_openai.script(Step.broken_stream("first words"))
    chunks, _, _ = await direct.open_stream(messages=MESSAGES, config=openai_config())
    first = await anext(chunks)
    assert first["choices"][0]["delta"]["content"] == "first"
    with pytest.raises(openai.APIError, match="overloaded"):
        await anext(chunks)


# --- retries and errors -----------------------------------------------------------------------


async def test_rate_limits_are_retried_after_retry_after(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Step.error(429, retry_after=0.2), Step.ok("ok"))
    sleeps = Sleeps()
    model = ModelClient(
        retry=RetryPolicy(attempts=3),
        sleep=sleeps,
        connections=connections(fake_openai),
    )
    try:
        completion = await model.complete(messages=MESSAGES, config=openai_config())
    finally:
        await model.aclose()
    assert (completion.text, completion.attempts) == ("ok", 2)
    assert sleeps.delays == [0.2]
    assert len(fake_openai.requests) == 2


@pytest.mark.parametrize(
    ("steps", "status", "kind"),
    [
        ((Step.error(429), Step.error(429), Step.error(429)), 429, "RateLimitError"),
        ((Step.error(500), Step.error(503), Step.error(500)), 500, "InternalServerError"),
        ((Step.error(400),), 400, "BadRequestError"),
        ((Step.error(401),), 401, "AuthenticationError"),
    ],
)
async def test_failures_keep_the_providers_status(
    fake_openai: FakeOpenAI, direct: ModelClient, steps: tuple[Step, ...], status: int, kind: str
) -> None:
    fake_openai.script(*steps)
    with pytest.raises(ModelCallError) as caught:
        await direct.complete(messages=MESSAGES, config=openai_config())
    assert type(caught.value) is ModelCallError
    assert provider_status(caught.value) == status
    assert error_type(caught.value) == kind
    assert f"({status}) after {len(steps)} attempt" in caught.value.detail
    assert caught.value.trace_id
    assert len(fake_openai.requests) == len(steps)


async def test_a_hanging_server_times_out(fake_openai: FakeOpenAI, direct: ModelClient) -> None:
    fake_openai.script(Step.hang(30), Step.hang(30), Step.hang(30))
    with pytest.raises(ModelTimeoutError, match="timeout after 3 attempts") as caught:
        await direct.complete(messages=MESSAGES, config=openai_config(), timeout=0.3)
    assert provider_status(caught.value) is None
    assert error_type(caught.value) == "timeout"


async def test_connection_errors_are_retried() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = ResolvedConnection("openai", "openai", f"http://127.0.0.1:{port}/v1", "sk-x")
    direct = direct_client(StaticConnections([gone]))
    try:
        with pytest.raises(ModelCallError, match="after 3 attempts") as caught:
            await direct.complete(messages=MESSAGES, config={"model": "openai/gpt-4o-mini"})
    finally:
        await direct.aclose()
    assert error_type(caught.value) == "InternalServerError"  # litellm's name for it


def use_proxy(monkeypatch: pytest.MonkeyPatch, proxy: str | None, no_proxy: str = "") -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    if proxy is not None:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


async def test_http_proxy_from_the_environment_is_used(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_proxy(monkeypatch, fake_openai.base_url.removesuffix("/v1"))  # the fake acts as proxy
    far = ResolvedConnection("openai", "openai", "http://provider.invalid/v1", "sk-x")
    direct = direct_client(StaticConnections([far]))
    try:
        answer = await direct.complete(messages=MESSAGES, config={"model": "openai/gpt-4o-mini"})
    finally:
        await direct.aclose()
    assert answer.text == "my card was charged twice"
    assert fake_openai.requests[0].path == "http://provider.invalid/v1/chat/completions"


async def test_no_proxy_hosts_are_reached_directly(
    fake_openai: FakeOpenAI, direct: ModelClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a proxy nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    use_proxy(monkeypatch, f"http://127.0.0.1:{port}", no_proxy="localhost,127.0.0.1")
    answer = await direct.complete(messages=MESSAGES, config=openai_config())
    assert answer.text == "my card was charged twice"
    assert fake_openai.requests[0].path == "/v1/chat/completions"


# --- what stays with litellm ------------------------------------------------------------------


async def test_streams_still_go_through_litellm(
    fake_openai: FakeOpenAI, direct: ModelClient
) -> None:
    fake_openai.script(Step.ok("your refund is on its way"))
    stream = direct.stream(messages=MESSAGES, config=openai_config())
    assert "".join([piece async for piece in stream]) == "your refund is on its way"
    assert fake_openai.requests[0].body["stream"] is True


async def test_the_pool_reopens_after_aclose(fake_openai: FakeOpenAI, direct: ModelClient) -> None:
    first = await direct.complete(messages=MESSAGES, config=openai_config())
    await direct.aclose()
    second = await direct.complete(messages=MESSAGES, config=openai_config())
    assert first.text == second.text == "my card was charged twice"
