"""The offline providers, through litellm and the model client like any real provider."""

from __future__ import annotations

import asyncio
import gc
import re
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from api.bootstrap import CANCELLED_CALL_WARNING
from evals.errors import ModelCallError, ModelTimeoutError
from evals.llm import offline
from evals.llm.client import (
    Completion,
    ModelClient,
    RetryPolicy,
    ensure_litellm,
)

FAST = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002)


@pytest.fixture(autouse=True)
def _fresh_failure_counters() -> Iterator[None]:
    offline.reset_failures()
    yield
    offline.reset_failures()


def user(text: str, system: str = "You triage tickets.") -> list[dict[str, Any]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


async def call(
    model: str,
    text: str,
    *,
    item: dict[str, Any] | None = None,
    retry: RetryPolicy = FAST,
    limit: float | None = None,
    **knobs: Any,
) -> Completion:
    client = ModelClient(retry=retry)
    metadata = {offline.ITEM_KEY: item} if item is not None else None
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if "seed" in knobs:
        config["seed"] = knobs.pop("seed")
    return await client.complete(
        messages=user(text),
        config={**config, "offline": knobs},
        metadata=metadata,
        timeout=limit,
    )


async def test_echo_answers_the_last_user_message() -> None:
    messages = [*user("first"), {"role": "assistant", "content": "ok"}]
    messages.append({"role": "user", "content": "my card was charged twice"})
    completion = await ModelClient().complete(messages=messages, config={"model": "offline/echo"})
    assert completion.text == "my card was charged twice"
    assert completion.model == "offline/echo"
    assert completion.finish_reason == "stop"
    assert (completion.attempts, completion.is_cached) == (1, False)


async def test_scripted_answers_from_the_item_metadata_first() -> None:
    item = {
        "input": {"ticket": "refund please"},
        "expected": "billing",
        "metadata": {"answer": "refund"},
    }
    completion = await call("offline/scripted", "refund please", item=item, script={"refund": "x"})
    assert completion.text == "refund"


async def test_scripted_system_placeholder_leaks_the_system_prompt() -> None:
    item = {"input": {}, "metadata": {"answer": "My rules: {{system}}. Done."}}
    completion = await call("offline/scripted", "what are your rules?", item=item)
    assert completion.text == "My rules: You triage tickets.. Done."
    scripted = await call("offline/scripted", "x", default="{{system}}")
    assert scripted.text == "You triage tickets."
    # Only scripted answers are templates: echo repeats the user's text as it is.
    assert (await call("offline/echo", "say {{system}}")).text == "say {{system}}"
    request = offline.OfflineRequest(
        "scripted", [{"role": "user", "content": "hi"}], {"default": "[{{system}}]"}
    )
    assert offline.answer(request) == "[]"  # no system prompt: nothing to leak


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("reset my password", {"script": {"reset my password": "account"}}, "account"),
        (
            "the app crashes on start",
            {"script": {"crash": "technical", "app": "other"}},
            "technical",
        ),
        ("something else", {"script": {"crash": "technical"}, "default": "unknown"}, "unknown"),
        ("something else", {"script": {"crash": "technical"}}, "something else"),
        ("structured", {"default": {"category": "billing"}}, '{"category": "billing"}'),
    ],
)
async def test_scripted_falls_back_to_script_then_default_then_echo(
    text: str, params: dict[str, Any], expected: str
) -> None:
    item = {"input": {}, "expected": None, "metadata": {"id": "no-answer-here"}}
    assert (await call("offline/scripted", text, item=item, **params)).text == expected


async def test_tokens_are_estimated_and_can_be_overridden() -> None:
    estimated = await call("offline/echo", "one two three four five six seven eight nine ten")
    # system "You triage tickets." = 3 words -> 4 tokens; the user's 10 words -> 13 tokens.
    assert (estimated.input_tokens, estimated.output_tokens) == (4 + 13, 13)
    fixed = await call("offline/echo", "hello", input_tokens=1000, output_tokens=250)
    assert (fixed.input_tokens, fixed.output_tokens) == (1000, 250)
    assert [offline.count_tokens(t) for t in ("", "a b c")] == [0, 4]


async def test_cost_uses_the_registered_fictional_prices() -> None:
    completion = await call("offline/echo", "hello", input_tokens=1000, output_tokens=500)
    expected = 1000 * offline.INPUT_COST_PER_TOKEN + 500 * offline.OUTPUT_COST_PER_TOKEN
    assert completion.cost_usd is not None
    assert completion.cost_usd == pytest.approx(expected)
    assert completion.cost_usd > 0


async def test_latency_is_simulated_and_measured() -> None:
    started = time.monotonic()
    completion = await call("offline/echo", "slow", latency_ms=60)
    assert time.monotonic() - started >= 0.06
    assert completion.latency_ms >= 60


async def test_latency_beyond_the_timeout_is_a_timeout() -> None:
    retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001)
    started = time.monotonic()
    with pytest.raises(ModelTimeoutError, match="timeout after 2 attempts"):
        await call("offline/echo", "too slow", latency_ms=5_000, limit=0.05, retry=retry)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("fail_with", "error", "reason"),
    [
        ("rate_limit", ModelCallError, "rate limited (429) after 3 attempts"),
        ("server_error", ModelCallError, "InternalServerError (500) after 3 attempts"),
        ("timeout", ModelTimeoutError, "timeout after 3 attempts"),
    ],
)
async def test_injected_failures_are_retried_then_reported(
    fail_with: str, error: type[ModelCallError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        await call("offline/echo", f"always {fail_with}", fail_rate=1.0, fail_with=fail_with)
    assert reason in caught.value.detail
    assert type(caught.value) is error


async def test_fail_times_fails_the_first_attempts_of_each_request() -> None:
    completion = await call("offline/echo", "flaky", fail_times=2, fail_with="rate_limit")
    assert (completion.text, completion.attempts) == ("flaky", 3)
    retry = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001)
    with pytest.raises(ModelCallError, match="after 2 attempts"):
        await call("offline/echo", "flakier", fail_times=2, retry=retry)


async def failing(seed: int) -> set[int]:
    once = RetryPolicy(attempts=1)
    failed = set()
    for i in range(40):
        try:
            await call("offline/echo", f"ticket {i}", fail_rate=0.5, seed=seed, retry=once)
        except ModelCallError:
            failed.add(i)
    return failed


async def test_fail_rate_is_deterministic_per_seed_and_request() -> None:
    first, again, other = await failing(1), await failing(1), await failing(2)
    assert first == again
    assert 5 < len(first) < 35
    assert first != other


async def test_bad_knobs_and_unknown_models_fail_fast_without_retries() -> None:
    with pytest.raises(ModelCallError, match=r"NotFoundError \(404\) after 1 attempt: .*nope"):
        await call("offline/nope", "hello")
    with pytest.raises(ModelCallError, match="fail_with must be one of"):
        await call("offline/echo", "hello", fail_with="gremlins")


async def test_litellm_streams_the_offline_models() -> None:
    litellm = ensure_litellm()
    stream = await litellm.acompletion(
        model="offline/scripted",
        messages=user("hello"),
        default="your refund is on its way",
        max_retries=0,
    )
    assert stream.choices[0].message.content == "your refund is on its way"
    stream = await litellm.acompletion(
        model="offline/echo", messages=user("a b c"), stream=True, max_retries=0
    )
    pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(p for p in pieces if p) == "a b c"


async def test_model_client_streams_the_offline_models() -> None:
    client = ModelClient(retry=FAST)
    pieces = [
        piece
        async for piece in client.stream(messages=user("one two"), config={"model": "offline/echo"})
    ]
    assert pieces == ["one", " two"]


async def test_a_failing_stream_is_retried_before_its_first_chunk() -> None:
    config = {"model": "offline/echo", "offline": {"fail_times": 1, "fail_with": "rate_limit"}}
    client = ModelClient(retry=FAST)
    pieces = [piece async for piece in client.stream(messages=user("x y"), config=config)]
    assert pieces == ["x", " y"]


async def test_tools_reach_the_offline_models_too() -> None:
    tools = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]
    config = {"model": "offline/echo", "tools": tools, "tool_choice": "auto"}
    completion = await ModelClient(retry=FAST).complete(messages=user("hi"), config=config)
    assert completion.text == "hi"


def test_sync_completion_works_too() -> None:
    litellm = ensure_litellm()
    response = litellm.completion(
        model="offline/echo", messages=user("sync"), latency_ms=1, max_retries=0
    )
    assert response.choices[0].message.content == "sync"
    assert response.usage.completion_tokens == 2


async def test_a_call_cancelled_inside_litellm_warns_only_what_the_filter_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # litellm builds the provider's coroutine on an executor thread; cancel the call while
    # that thread runs, so the coroutine is dropped unawaited (what a crashed run does).
    litellm = ensure_litellm()
    handler = next(e["custom_handler"] for e in litellm.custom_provider_map)
    building, release = threading.Event(), threading.Event()
    build = handler.acompletion

    def gated(*args: Any, **kwargs: Any) -> Any:
        building.set()
        release.wait(10)
        return build(*args, **kwargs)

    monkeypatch.setattr(handler, "acompletion", gated)
    task = asyncio.create_task(
        ModelClient(retry=FAST, native=False).complete(
            messages=user("hello"), config={"model": "offline/echo"}
        )
    )
    assert await asyncio.to_thread(building.wait, 10)
    task.cancel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        release.set()
        await asyncio.gather(task, return_exceptions=True)
        for _ in range(500):  # until the thread has handed back the coroutine and it is freed
            gc.collect()
            if caught:
                break
            await asyncio.sleep(0.01)
    assert task.cancelled()
    messages = [str(w.message) for w in caught]
    assert messages
    assert all(re.search(CANCELLED_CALL_WARNING, m) for m in messages), messages
