"""The native path against litellm: the same call gives the same Completion and the same errors.

Each test makes one call twice, through a client on the native path (the default) and through
one with `native=False` (litellm), and compares what runs, judges and the gateway read: text,
tokens, cost, finish reason, attempts, and on failure the error's class, `error.type`,
provider status and text. Offline models need no server; OpenAI-compatible calls go to the
local stub server (tests/evals/fake_openai.py).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from evals.connections.resolver import ResolvedConnection, Route, StaticConnections
from evals.errors import ModelCallError
from evals.llm import offline
from evals.llm.client import Completion, RetryPolicy, ensure_litellm, error_type
from evals.llm.failures import is_configuration_error, provider_status
from evals.llm.params import call_kwargs
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.evals.model_helpers import MESSAGES, ModelClients, Sleeps, connections, openai_config

# No jitter: both clients must sleep exactly the same delays.
RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.5, jitter=False)
SAME = ("text", "model", "input_tokens", "output_tokens", "finish_reason", "attempts", "is_cached")
RESPONSE_ID = re.compile(r"chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TOOLS = [{"type": "function", "function": {"name": "route", "parameters": {"type": "object"}}}]


@pytest.fixture(autouse=True)
def _fresh_failure_counters() -> Iterator[None]:
    offline.reset_failures()
    yield
    offline.reset_failures()


class Pair:
    """A native client and a litellm one, built alike, each with its own recorded sleeps."""

    def __init__(self, clients: ModelClients, **options: Any) -> None:
        self.sleeps = {True: Sleeps(), False: Sleeps()}
        self.clients = {
            native: clients(retry=RETRY, sleep=self.sleeps[native], native=native, **options)
            for native in (True, False)
        }

    async def complete(self, native: bool, **call: Any) -> Completion | ModelCallError:
        try:
            return await self.clients[native].complete(**call)
        except ModelCallError as exc:
            return exc

    async def both(self, **call: Any) -> tuple[Any, Any]:
        """Make the call natively, then through litellm (failure counters reset between)."""
        mine = await self.complete(True, **call)
        offline.reset_failures()
        theirs = await self.complete(False, **call)
        return mine, theirs


def assert_same_answer(mine: Any, theirs: Any) -> None:
    assert isinstance(mine, Completion), mine
    assert isinstance(theirs, Completion), theirs
    assert [getattr(mine, f) for f in SAME] == [getattr(theirs, f) for f in SAME]
    assert mine.cost_usd == theirs.cost_usd
    assert mine.raw is not None
    assert theirs.raw is not None
    assert mine.raw.keys() == theirs.raw.keys()
    assert mine.raw["model"] == theirs.raw["model"]
    assert mine.raw.get("tool_calls") == theirs.raw.get("tool_calls")
    assert mine.trace_id
    assert mine.span_id


def assert_same_failure(mine: Any, theirs: Any, *, same_text: bool = True) -> None:
    assert isinstance(mine, ModelCallError), mine
    assert isinstance(theirs, ModelCallError), theirs
    assert type(mine) is type(theirs)
    assert error_type(mine) == error_type(theirs)
    assert mine.trace_id
    if same_text:
        assert provider_status(mine) == provider_status(theirs)
        assert mine.detail == theirs.detail


def user(text: Any, system: str = "You triage tickets.") -> list[dict[str, Any]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


# --- offline models: answered in-process, as litellm's provider answers -----------------------


@pytest.mark.parametrize(
    ("messages", "config", "item"),
    [
        (user("my card was charged twice"), {"model": "offline/echo"}, None),
        (user("refund please"), {"model": "offline/scripted"}, {"metadata": {"answer": "bill"}}),
        (
            user("refund please"),
            {"model": "offline/scripted", "offline": {"script": {"refund": {"queue": "b"}}}},
            None,
        ),
        (user("hello"), {"model": "offline/scripted", "offline": {"default": "fallback"}}, None),
        (
            user("a b c"),
            {"model": "offline/echo", "offline": {"input_tokens": 11, "output_tokens": 5}},
            None,
        ),
        (user([{"type": "text", "text": "two parts"}]), {"model": "offline/echo"}, None),
        (
            [{"role": "user", "content": "x", "name": "n"}, {"role": "assistant", "content": None}],
            {"model": "offline/echo", "temperature": 0.2, "seed": 7, "max_completion_tokens": 9},
            None,
        ),
        (user("hi"), {"model": "offline/echo", "tools": TOOLS, "tool_choice": "auto"}, None),
        (user("hi"), {"model": "offline/echo", "user": "u-1", "stop": ["\n"]}, None),
    ],
)
async def test_offline_answers_match_litellms(
    model_clients: ModelClients,
    messages: list[dict[str, Any]],
    config: dict[str, Any],
    item: dict[str, Any] | None,
) -> None:
    metadata = {offline.ITEM_KEY: item} if item is not None else None
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=messages, config=config, metadata=metadata)
    assert_same_answer(mine, theirs)
    assert RESPONSE_ID.fullmatch(mine.raw["id"])
    assert RESPONSE_ID.fullmatch(theirs.raw["id"])


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "timeout"])
async def test_offline_failures_match_litellms(model_clients: ModelClients, kind: str) -> None:
    config = {"model": "offline/echo", "offline": {"fail_rate": 1.0, "fail_with": kind}}
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=user("hello"), config=config)
    assert_same_failure(mine, theirs)
    assert f"after {RETRY.attempts} attempts" in mine.detail
    assert pair.sleeps[True].delays == pair.sleeps[False].delays


async def test_offline_refused_key_matches_litellms_and_is_not_retried(
    model_clients: ModelClients,
) -> None:
    config = {"model": "offline/echo", "offline": {"fail_rate": 1.0, "fail_with": "auth"}}
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=user("hello"), config=config)
    assert_same_failure(mine, theirs)
    assert "AuthenticationError (401) after 1 attempt:" in mine.detail
    assert provider_status(mine) == 401
    assert is_configuration_error(mine)
    assert pair.sleeps[True].delays == pair.sleeps[False].delays == []


async def test_offline_retries_match_litellms(model_clients: ModelClients) -> None:
    config = {"model": "offline/echo", "offline": {"fail_times": 2, "fail_with": "rate_limit"}}
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=user("hello"), config=config)
    assert_same_answer(mine, theirs)
    assert mine.attempts == 3
    assert pair.sleeps[True].delays == pair.sleeps[False].delays


async def test_offline_fail_rate_fails_the_same_calls(model_clients: ModelClients) -> None:
    pair = Pair(model_clients)
    config = {"model": "offline/echo", "seed": 3, "offline": {"fail_rate": 0.5}}
    failed: dict[bool, list[int]] = {True: [], False: []}
    for native in (True, False):
        for i in range(24):
            answer = await pair.complete(native, messages=user(f"ticket {i}"), config=config)
            if isinstance(answer, ModelCallError):
                failed[native].append(i)
    assert failed[True] == failed[False]
    assert 0 < len(failed[True]) < 24


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model": "offline/nope"}, "unknown offline model"),
        ({"model": "offline/echo", "offline": {"fail_with": "gremlins"}}, "fail_with must be"),
        ({"model": "offline/echo", "reasoning_effort": "low"}, "does not support parameters"),
    ],
)
async def test_offline_refusals_match_litellms(
    model_clients: ModelClients, config: dict[str, Any], message: str
) -> None:
    mine, theirs = await Pair(model_clients).both(messages=user("hello"), config=config)
    assert_same_failure(mine, theirs)
    assert message in mine.detail


async def test_content_litellm_cannot_read_fails_alike(model_clients: ModelClients) -> None:
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=user(5), config={"model": "offline/echo"})
    assert_same_failure(mine, theirs)


@pytest.mark.parametrize(
    ("config", "messages"),
    [
        ({"model": "offline/echo", "reasoning_effort": "low"}, user("x")),
        ({"model": "offline/echo"}, user(5)),
        ({"model": "offline/echo"}, user(True)),
    ],
)
def test_what_litellm_would_refuse_stays_with_litellm(
    config: dict[str, Any], messages: list[dict[str, Any]]
) -> None:
    way = Route(config["model"], None)
    kwargs = call_kwargs(config, route=way, messages=messages, metadata=None, timeout=1.0)
    assert offline.native_request(kwargs) is None


async def test_offline_calls_need_no_litellm_provider(
    model_clients: ModelClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    litellm = ensure_litellm()
    handler = next(e["custom_handler"] for e in litellm.custom_provider_map)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("litellm's offline provider was called")

    monkeypatch.setattr(handler, "acompletion", broken)
    pair = Pair(model_clients)
    mine, theirs = await pair.both(messages=user("hello"), config={"model": "offline/echo"})
    assert isinstance(mine, Completion)
    assert mine.text == "hello"
    assert isinstance(theirs, ModelCallError)
    assert "litellm's offline provider was called" in theirs.detail


# --- OpenAI-compatible connections: the stub server ---------------------------------------------


async def test_an_answer_matches_litellms(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    step = Step.ok("billing", prompt_tokens=1000, completion_tokens=10)
    fake_openai.script(step, step)
    pair = Pair(model_clients, connections=connections(fake_openai))
    config = openai_config(max_tokens=64, seed=1, stop=["\n"], user="u-1")
    mine, theirs = await pair.both(messages=MESSAGES, config=config, metadata={"k": 1})
    assert_same_answer(mine, theirs)
    assert mine.cost_usd is not None
    assert mine.raw == theirs.raw
    sent, expected = (request.body for request in fake_openai.requests)
    assert sent == expected


async def test_a_tool_call_matches_litellms(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    step = Step.tool_call("route", {"queue": "b"})
    fake_openai.script(step, step)
    pair = Pair(model_clients, connections=connections(fake_openai))
    config = openai_config(tools=TOOLS, tool_choice="auto")
    mine, theirs = await pair.both(messages=MESSAGES, config=config)
    assert_same_answer(mine, theirs)
    assert mine.finish_reason == "tool_calls"


async def test_an_unpriced_model_has_no_cost_either_way(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    pair = Pair(model_clients, connections=connections(fake_openai))
    config = openai_config(model="openai/promptlane-unpriced-model")
    mine, theirs = await pair.both(messages=MESSAGES, config=config)
    assert_same_answer(mine, theirs)
    assert mine.cost_usd is None


@pytest.mark.parametrize(
    "steps",
    [
        (Step.error(429), Step.error(429), Step.error(429)),
        (Step.error(429, retry_after=0.2), Step.error(429, retry_after=30), Step.ok("ok")),
        (Step.error(500), Step.error(500), Step.error(500)),
        (Step.error(503), Step.error(502), Step.error(503)),
        (Step.error(504), Step.error(504), Step.error(504)),
        (Step.error(400),),
        (Step.error(401),),
        (Step.error(403),),
        (Step.error(404),),
        (Step.error(422),),
        (Step.error(400, message="This model's maximum context length is 8192 tokens"),),
    ],
    ids=["429", "retry-after", "500", "503", "504", "400", "401", "403", "404", "422", "context"],
)
async def test_provider_errors_match_litellms(
    fake_openai: FakeOpenAI, model_clients: ModelClients, steps: tuple[Step, ...]
) -> None:
    fake_openai.script(*steps, *steps)
    pair = Pair(model_clients, connections=connections(fake_openai))
    mine, theirs = await pair.both(messages=MESSAGES, config=openai_config())
    if isinstance(mine, Completion):
        assert_same_answer(mine, theirs)
    else:
        assert_same_failure(mine, theirs)
    assert pair.sleeps[True].delays == pair.sleeps[False].delays
    assert len(fake_openai.requests) == 2 * len(steps)


async def test_a_timeout_matches_litellms(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    fake_openai.script(*[Step.hang(30)] * 6)
    pair = Pair(model_clients, connections=connections(fake_openai))
    mine, theirs = await pair.both(messages=MESSAGES, config=openai_config(), timeout=0.3)
    # Which timer fires first (ours or the HTTP client's) is a race on either path: the error
    # is a timeout both ways, its status and text may name either timer.
    assert_same_failure(mine, theirs, same_text=False)
    assert error_type(mine) == "timeout"
    assert "timeout after 3 attempts" in mine.detail
    assert "timeout after 3 attempts" in theirs.detail


async def test_a_refused_connection_matches_litellms(model_clients: ModelClients) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = ResolvedConnection("openai", "openai", f"http://127.0.0.1:{port}/v1", "sk-x")
    pair = Pair(model_clients, connections=StaticConnections([gone]))
    mine, theirs = await pair.both(messages=MESSAGES, config={"model": "openai/gpt-4o-mini"})
    assert_same_failure(mine, theirs)
    assert "after 3 attempts" in mine.detail  # litellm calls it an InternalServerError (500)


async def test_concurrent_calls_share_one_pool(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    client = model_clients(retry=RETRY, connections=connections(fake_openai))
    answers = await asyncio.gather(
        *(client.complete(messages=user(f"n{i}"), config=openai_config()) for i in range(20))
    )
    assert sorted(a.text for a in answers) == sorted(f"n{i}" for i in range(20))
