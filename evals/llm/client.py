"""The model-call layer: every model call goes through litellm with one retry policy.

`ModelClient.complete` maps a prompt version's config to `litellm.acompletion`, retries
429s, 5xx, timeouts and connection errors with full-jitter exponential backoff (honouring
`Retry-After`), and returns a `Completion` with text, tokens, cost and latency. litellm's
own retries and the openai SDK's are switched off (`max_retries=0`, `num_retries=0`) so the
attempt count here is the number of HTTP requests a provider sees. Where a call goes and with
which key comes only from its connection (evals/connections), never from the version's
content nor from litellm reading the server's environment. A client built with `direct_http`
sends plain calls to an OpenAI-compatible `api_base` itself (evals/llm/http.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from evals.connections.resolver import NO_CONNECTIONS, ConnectionSource, Route, route
from evals.errors import ModelCallError
from evals.llm import http as openai_http
from evals.llm.failures import call_error as call_error
from evals.llm.failures import classify, failure_error, redact_error
from evals.llm.failures import error_type as error_type
from evals.llm.params import cache_key as cache_key
from evals.llm.params import call_kwargs, secret_of
from promptlane_client.params import call_config
from tracing import pricing
from tracing.genai import chat_call
from tracing.telemetry import PromptRef, Telemetry, span_ids

Sleep = Callable[[float], Awaitable[None]]
Send = Callable[[], Awaitable[Any]]


@functools.cache
def ensure_litellm() -> Any:
    """Import litellm (lazily: it takes seconds), quiet it, register the offline models."""
    litellm = pricing.load_litellm()

    from evals.llm import offline

    offline.register(litellm)
    return litellm


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a model call is retried (the only retry loop)."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Return the pause after failed attempt `attempt` (1-based), full jitter."""
        if retry_after is not None:
            return min(self.max_delay, max(0.0, retry_after))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        # Jitter spreads retries of concurrent calls; it needs no cryptographic randomness.
        return random.uniform(0.0, ceiling) if self.jitter else ceiling  # noqa: S311


@dataclass(frozen=True)
class Completion:
    """A model's answer with what it cost: tokens, USD, latency, attempts."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    latency_ms: float
    finish_reason: str | None
    is_cached: bool = False
    attempts: int = 1
    raw: dict[str, Any] | None = None
    # The `chat` span that recorded the call (random ids when tracing is off); not cached.
    trace_id: str | None = None
    span_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the completion as a JSON-ready dict (for the response cache)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        """Rebuild a completion from `to_json` output (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _cost(litellm: Any, response: Any) -> float | None:
    # litellm already ran completion_cost while building the response (None: no price);
    # pricing it twice would cost ~15% of an offline call.
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    if cost is None and "response_cost" not in hidden:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # litellm raises for models it has no price for
            return None
    return float(cost) if cost is not None else None


def _to_completion(
    litellm: Any,
    response: Any,
    *,
    model: str,
    latency_ms: float,
    attempts: int,
    ids: tuple[str, str] | None = None,
) -> Completion:
    choice = response.choices[0] if response.choices else None
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    tool_calls = getattr(message, "tool_calls", None)
    raw: dict[str, Any] = {"id": getattr(response, "id", None), "model": response.model}
    if tool_calls:
        raw["tool_calls"] = [call.model_dump() for call in tool_calls]
        # A tool call is the answer when there is no text: scorers see it as JSON.
        text = text or json.dumps(raw["tool_calls"], sort_keys=True)
    usage = getattr(response, "usage", None)
    return Completion(
        text=text or "",
        model=model,
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(litellm, response),
        latency_ms=latency_ms,
        finish_reason=getattr(choice, "finish_reason", None),
        attempts=attempts,
        raw=raw,
        trace_id=ids[0] if ids else None,
        span_id=ids[1] if ids else None,
    )


def _direct_completion(
    body: Any, *, model: str, latency_ms: float, attempts: int, ids: tuple[str, str]
) -> Completion:
    fields = openai_http.answer_fields(body)
    cost = openai_http.cost(
        model, fields["input_tokens"], fields["output_tokens"], loader=ensure_litellm
    )
    return Completion(
        model=model,
        cost_usd=cost,
        latency_ms=latency_ms,
        attempts=attempts,
        trace_id=ids[0],
        span_id=ids[1],
        **fields,
    )


class ModelClient:
    """Calls models through litellm with one retry policy and a per-attempt timeout.

    Each call goes through the connection `connections` resolves for it (none for offline
    models). With `direct_http`, plain calls to an OpenAI-compatible `api_base` skip litellm
    (evals/llm/http.py) on one pooled HTTP session, closed by `aclose`.
    """

    def __init__(
        self,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        telemetry: Telemetry | None = None,
        direct_http: bool = False,
        connections: ConnectionSource = NO_CONNECTIONS,
    ) -> None:
        self.retry = retry
        self.timeout = timeout
        self._sleep = sleep
        self.telemetry = telemetry or Telemetry.disabled()
        self.direct_http = direct_http
        self.connections = connections
        self._http: openai_http.HttpPool | None = None

    async def aclose(self) -> None:
        """Close the pooled HTTP session of the direct path (if one was opened)."""
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _sender(self, litellm: Any, kwargs: dict[str, Any], limit: float) -> tuple[Send, bool]:
        """Return how to make one attempt, and whether it is the direct HTTP path."""
        request = openai_http.direct_request(kwargs) if self.direct_http else None
        if request is None:
            return functools.partial(litellm.acompletion, **kwargs), False
        return functools.partial(openai_http.send, self._pool(), request, timeout=limit), True

    def _pool(self) -> openai_http.HttpPool:
        """Return the direct path's pooled HTTP session, opening it on first use."""
        if self._http is None or self._http.closed:
            self._http = openai_http.HttpPool()
        return self._http

    async def complete(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        # A per-call override of the client's timeout, enforced inside with asyncio.timeout.
        timeout: float | None = None,  # noqa: ASYNC109
        prompt: PromptRef | None = None,
    ) -> Completion:
        """Call the config's model on `messages`; raise ModelCallError when retries run out.

        The call is one `chat {model}` span (retries included), attributed to `prompt`.
        """
        call = call_config(config)
        model = _model_of(call)
        limit = self.timeout if timeout is None else timeout
        litellm = ensure_litellm()
        with chat_call(
            self.telemetry,
            provider=provider_of(model),
            model=model,
            config=call,
            messages=messages,
            prompt=prompt,
        ) as span:
            ids = span_ids(span.span)
            try:
                way = await self.route(call)
                kwargs = call_kwargs(
                    call, route=way, messages=messages, metadata=metadata, timeout=limit
                )
                send, direct = self._sender(litellm, kwargs, limit)
                response, attempts, latency_ms = await self._call(send, model, limit, way)
            except ModelCallError as exc:
                exc.trace_id, exc.span_id = ids
                span.fail(error_type(exc), exc.detail)
                raise
            build = _direct_completion if direct else functools.partial(_to_completion, litellm)
            completion = build(
                response, model=model, latency_ms=latency_ms, attempts=attempts, ids=ids
            )
            span.finish(completion)
        return completion

    async def route(self, call: dict[str, Any]) -> Route:
        """Return the model string and connection a call config goes through."""
        return await route(
            self.connections,
            model=_model_of(call),
            connection=call.get("connection"),
            providers=known_providers(),
        )

    async def _prepare(
        self, config: dict[str, Any], messages: list[dict[str, Any]], limit: float
    ) -> tuple[str, Route, dict[str, Any]]:
        """Return the model, its route and the litellm kwargs of a streamed call."""
        call = call_config(config)
        model = _model_of(call)
        way = await self.route(call)
        kwargs = call_kwargs(call, route=way, messages=messages, metadata=None, timeout=limit)
        kwargs["stream"] = True
        return model, way, kwargs

    async def stream(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[str]:
        """Yield the answer's text as it arrives; only opening the stream is retried."""
        limit = self.timeout if timeout is None else timeout
        model, way, kwargs = await self._prepare(config, messages, limit)
        send = functools.partial(ensure_litellm().acompletion, **kwargs)
        stream, _, _ = await self._call(send, model, limit, way)
        chunks = aiter(stream)
        while True:
            try:
                async with asyncio.timeout(limit):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except Exception as exc:
                raise redact_error(
                    failure_error(model, classify(exc), 1, exc), secret_of(way)
                ) from exc
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                yield delta

    async def open_stream(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> tuple[Any, int, Route]:
        """Open a streaming call (retried until it opens); return its chunks, attempts, route.

        Usage is always asked for (the last chunk carries it); the caller reads the chunks
        (litellm's objects, or the provider's JSON on the direct path), maps a failure with
        `call_error` (redacted with the route) and records the call.
        """
        limit = self.timeout if timeout is None else timeout
        model, way, kwargs = await self._prepare(config, messages, limit)
        kwargs["stream_options"] = {"include_usage": True}
        request = openai_http.direct_request(kwargs) if self.direct_http else None
        if request is None:
            send: Send = functools.partial(ensure_litellm().acompletion, **kwargs)
        else:  # chunks are the provider's JSON (dicts), not litellm's objects
            send = functools.partial(openai_http.open_stream, self._pool(), request, timeout=limit)
        stream, attempts, _ = await self._call(send, model, limit, way)
        return stream, attempts, way

    async def _call(
        self, send: Send, model: str, limit: float, way: Route
    ) -> tuple[Any, int, float]:
        """Run the retry loop; return the response, the attempts made and the latency (ms)."""
        attempt = 1
        while True:
            started = time.monotonic()
            try:
                # litellm's timeout covers the HTTP request; this one covers everything else.
                async with asyncio.timeout(limit):
                    response = await send()
            except Exception as exc:
                failure = classify(exc)
                if not failure.retryable or attempt >= self.retry.attempts:
                    raise redact_error(
                        failure_error(model, failure, attempt, exc), secret_of(way)
                    ) from exc
                await self._sleep(self.retry.delay(attempt, retry_after=failure.retry_after))
                attempt += 1
                continue
            return response, attempt, (time.monotonic() - started) * 1000.0


def _model_of(config: dict[str, Any]) -> str:
    model = config.get("model")
    if not isinstance(model, str) or not model:
        raise ModelCallError("the prompt version's config has no model")
    return model


@functools.cache
def known_providers() -> frozenset[str]:
    """Return the provider prefixes litellm routes (`openai`, `anthropic`, ..., `offline`)."""
    litellm = ensure_litellm()
    names = {str(getattr(p, "value", p)) for p in litellm.provider_list}
    return frozenset(names | {entry["provider"] for entry in litellm.custom_provider_map})


@functools.lru_cache(maxsize=256)
def provider_of(model: str) -> str:
    """Return the provider litellm routes `model` to (the `gen_ai.provider.name`)."""
    try:
        return str(ensure_litellm().get_llm_provider(model)[1])
    except Exception:  # litellm raises for model strings it cannot route
        return model.partition("/")[0] if "/" in model else "unknown"
