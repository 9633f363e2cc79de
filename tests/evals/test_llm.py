"""The model client on a real HTTP provider path: a local OpenAI-compatible server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from evals.connections.resolver import ResolvedConnection, Route, StaticConnections
from evals.errors import ModelCallError, ModelTimeoutError
from evals.llm.client import Completion, ModelClient, RetryPolicy, ensure_litellm
from evals.llm.http import KEYLESS
from evals.llm.params import cache_key, call_kwargs
from promptlane_client.params import call_config
from tests.evals.fake_openai import FakeOpenAI, Step, fake_embedding
from tests.evals.model_helpers import MESSAGES, ModelClients, Sleeps, connections, openai_config

Make = Callable[..., ModelClient]


@pytest.fixture(params=[True, False], ids=["native", "litellm"])
def client(request: pytest.FixtureRequest, model_clients: ModelClients) -> Make:
    """Return a client factory for the native path and for litellm: both must behave alike."""

    def make(server: FakeOpenAI | None = None, attempts: int = 4, **options: Any) -> ModelClient:
        retry = RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.5)
        if server is not None:
            options["connections"] = connections(server)
        return model_clients(retry=retry, native=request.param, **options)

    return make


# --- the retry policy -----------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=1.0, jitter=False)
    assert [policy.delay(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.0, 1.0]


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=8.0)
    for attempt in (1, 2, 3):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= 0.1 * 2 ** (attempt - 1) for d in delays)
        assert len(set(delays)) > 1


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_delay=2.0)
    assert policy.delay(1, retry_after=1.5) == 1.5
    assert policy.delay(1, retry_after=60) == 2.0


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


# --- request mapping, results, cache keys -----------------------------------------------------


def test_config_maps_to_litellm_kwargs_with_retries_off() -> None:
    config = {
        "model": "openai/gpt-4o-mini",
        "temperature": 0.2,
        "stop": ["\n"],
        # A legacy version's free-form extra: its known parameters count, nothing else does.
        "extra": {"api_base": "http://evil/v1", "max_retries": 5, "timeout": 999, "seed": 3},
    }
    mine = ResolvedConnection("openai", "openai", "http://127.0.0.1:1/v1", "sk-connection")
    way = Route("openai/gpt-4o-mini", mine)
    call = call_config(config)
    kwargs = call_kwargs(call, route=way, messages=MESSAGES, metadata={"k": 1}, timeout=3.0)
    assert kwargs == {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.2,
        "stop": ["\n"],
        "seed": 3,
        "api_base": "http://127.0.0.1:1/v1",
        "api_key": "sk-connection",
        "timeout": 3.0,
        "max_retries": 0,
        "num_retries": 0,
        "metadata": {"k": 1},
    }


def test_a_connection_without_a_key_never_lets_litellm_read_the_environment() -> None:
    keyless = Route("openai/llama", ResolvedConnection("local", "openai", "http://127.0.0.1:1/v1"))
    kwargs = call_kwargs(
        {"model": "openai/llama"}, route=keyless, messages=MESSAGES, metadata=None, timeout=1
    )
    assert kwargs["api_key"] == KEYLESS


def test_offline_knobs_reach_offline_models_only() -> None:
    knobs = {"model": "offline/echo", "offline": {"latency_ms": 5}}
    kwargs = call_kwargs(
        knobs, route=Route("offline/echo", None), messages=MESSAGES, metadata=None, timeout=1
    )
    assert kwargs["latency_ms"] == 5
    assert "api_key" not in kwargs
    assert "api_base" not in kwargs


async def test_a_config_without_a_model_is_refused() -> None:
    with pytest.raises(ModelCallError, match="the prompt version's config has no model"):
        await ModelClient().complete(messages=MESSAGES, config={"temperature": 0})


def test_cache_key_covers_what_changes_the_answer() -> None:
    params = {"temperature": 0, "connection": "openai"}
    key = cache_key("openai/gpt-4o-mini", MESSAGES, params)
    assert len(key) == 64
    assert cache_key("openai/gpt-4o-mini", MESSAGES, dict(params)) == key
    assert cache_key("openai/gpt-4o-mini", MESSAGES, {**params, "connection": "b"}) != key
    assert cache_key("openai/gpt-4o", MESSAGES, params) != key
    assert cache_key("openai/gpt-4o-mini", MESSAGES[1:], params) != key
    assert cache_key("openai/gpt-4o-mini", MESSAGES, {**params, "temperature": 1}) != key
    assert cache_key("openai/gpt-4o-mini", MESSAGES, {**params, "repeat": 1}) != key


def test_completion_round_trips_through_json() -> None:
    completion = Completion(
        text="billing",
        model="offline/scripted",
        input_tokens=12,
        output_tokens=2,
        cost_usd=1.6e-6,
        latency_ms=3.5,
        finish_reason="stop",
        attempts=2,
        raw={"id": "x"},
    )
    assert Completion.from_json({**completion.to_json(), "unknown": 1}) == completion


# --- the real provider path against the local server ----------------------------------------


async def test_openai_compatible_call_returns_text_tokens_and_cost(
    fake_openai: FakeOpenAI, client: Make
) -> None:
    fake_openai.script(Step.ok("billing", prompt_tokens=1000, completion_tokens=10))
    completion = await client(fake_openai).complete(
        messages=MESSAGES, config=openai_config(), metadata={"promptlane_item": {}}
    )
    assert completion.text == "billing"
    assert (completion.input_tokens, completion.output_tokens) == (1000, 10)
    assert completion.cost_usd is not None
    assert completion.cost_usd > 0
    assert completion.finish_reason == "stop"
    assert completion.attempts == 1
    assert completion.latency_ms > 0
    (request,) = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == MESSAGES
    assert request.body["temperature"] == 0.0
    assert "metadata" not in request.body  # the item stays with litellm, not the provider
    assert request.headers["authorization"] == "Bearer sk-test-not-a-real-key"


async def test_rate_limits_are_retried_by_us_alone(fake_openai: FakeOpenAI, client: Make) -> None:
    fake_openai.script(
        Step.error(429, retry_after=0.2), Step.error(429, retry_after=30), Step.ok("ok")
    )
    sleeps = Sleeps()
    completion = await client(fake_openai, sleep=sleeps).complete(
        messages=MESSAGES, config=openai_config()
    )
    assert (completion.text, completion.attempts) == ("ok", 3)
    # Exactly one HTTP request per attempt: neither litellm nor the openai SDK retried.
    assert len(fake_openai.requests) == 3
    assert sleeps.delays == [0.2, 0.5]  # Retry-After, then Retry-After capped at max_delay


async def test_server_errors_beyond_the_budget_fail_with_a_reason(
    fake_openai: FakeOpenAI, client: Make
) -> None:
    fake_openai.script(Step.error(500), Step.error(503), Step.error(500), Step.ok("late"))
    with pytest.raises(ModelCallError) as caught:
        await client(fake_openai, attempts=3, sleep=Sleeps()).complete(
            messages=MESSAGES, config=openai_config()
        )
    assert type(caught.value) is ModelCallError
    assert "openai/gpt-4o-mini: InternalServerError (500) after 3 attempts" in caught.value.detail
    assert "\n" not in caught.value.detail
    assert len(fake_openai.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_not_retried(
    fake_openai: FakeOpenAI, status: int, client: Make
) -> None:
    fake_openai.script(Step.error(status))
    with pytest.raises(ModelCallError, match=rf"\({status}\) after 1 attempt:"):
        await client(fake_openai, sleep=Sleeps()).complete(
            messages=MESSAGES, config=openai_config()
        )
    assert len(fake_openai.requests) == 1


async def test_a_hanging_server_times_out_per_attempt(
    fake_openai: FakeOpenAI, client: Make
) -> None:
    fake_openai.script(Step.hang(30), Step.hang(30))
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError, match="timeout after 2 attempts"):
        await client(fake_openai, attempts=2, sleep=Sleeps()).complete(
            messages=MESSAGES, config=openai_config(), timeout=0.3
        )
    assert time.monotonic() - started < 2 * 0.3 + 1.0
    assert len(fake_openai.requests) == 2


async def test_a_timeout_then_success_is_retried(fake_openai: FakeOpenAI, client: Make) -> None:
    fake_openai.script(Step.hang(30), Step.ok("second time lucky"))
    completion = await client(fake_openai, sleep=Sleeps()).complete(
        messages=MESSAGES, config=openai_config(), timeout=0.3
    )
    assert (completion.text, completion.attempts) == ("second time lucky", 2)
    assert completion.latency_ms < 300  # the successful attempt's latency, not the total


async def test_connection_errors_are_retried(client: Make) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = ResolvedConnection("openai", "openai", f"http://127.0.0.1:{port}/v1", "sk-x")
    sleeps = Sleeps()
    model = client(attempts=2, sleep=sleeps, connections=StaticConnections([gone]))
    with pytest.raises(ModelCallError, match="after 2 attempts"):
        await model.complete(messages=MESSAGES, config={"model": "openai/gpt-4o-mini"})
    assert len(sleeps.delays) == 1


async def test_a_tool_call_is_the_answer_when_there_is_no_text(
    fake_openai: FakeOpenAI, client: Make
) -> None:
    fake_openai.script(Step.tool_call("route", {"queue": "billing"}))
    tools = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]
    config = openai_config(tools=tools, tool_choice="auto")
    completion = await client(fake_openai).complete(messages=MESSAGES, config=config)
    assert completion.finish_reason == "tool_calls"
    assert completion.raw is not None
    (call,) = completion.raw["tool_calls"]
    assert call["function"]["name"] == "route"
    assert json.loads(completion.text)[0]["function"]["arguments"] == '{"queue": "billing"}'
    body = fake_openai.requests[0].body
    assert body["tools"] == tools
    assert body["tool_choice"] == "auto"
    assert "_skip_mcp_handler" not in body


async def test_a_model_without_a_price_has_no_cost(fake_openai: FakeOpenAI, client: Make) -> None:
    config = openai_config(model="openai/promptlane-unpriced-model")
    completion = await client(fake_openai).complete(messages=MESSAGES, config=config)
    assert completion.text == "my card was charged twice"
    assert completion.cost_usd is None
    assert completion.input_tokens == 7


async def test_streaming_through_litellm(fake_openai: FakeOpenAI, client: Make) -> None:
    fake_openai.script(Step.error(429, retry_after=0), Step.ok("your refund is on its way"))
    pieces = [
        piece
        async for piece in client(fake_openai, sleep=Sleeps()).stream(
            messages=MESSAGES, config=openai_config()
        )
    ]
    assert "".join(pieces) == "your refund is on its way"
    assert len(pieces) == 6
    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[-1].body["stream"] is True


async def test_the_fake_server_answers_embeddings(fake_openai: FakeOpenAI) -> None:
    litellm = ensure_litellm()
    response = await litellm.aembedding(
        model="openai/text-embedding-3-small",
        input=["refund", "crash"],
        api_base=fake_openai.base_url,
        api_key="sk-test",
        max_retries=0,
    )
    vectors = [row["embedding"] for row in response.data]
    assert vectors[0] == pytest.approx(fake_embedding("refund"))
    assert vectors[1] == pytest.approx(fake_embedding("crash"))
    assert len(vectors[0]) == 8
    assert fake_openai.paths() == ["/v1/embeddings"]
