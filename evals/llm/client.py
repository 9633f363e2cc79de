"""The model-call layer: every model call, with one retry policy, natively or through litellm.

`ModelClient.complete` maps a prompt version's config to one request, retries 429s, 5xx,
timeouts and connection errors with full-jitter exponential backoff (honouring `Retry-After`),
and returns a `Completion` with text, tokens, cost and latency. Where a call goes and with which
key comes only from its connection (evals/connections), never from the version's content nor
from litellm reading the server's environment.

Which way a call goes (runs, judges, online scoring and the gateway alike):

- the native path, when the call is plain (only invocation parameters litellm passes through
  unchanged): an offline model (`offline/...`) is answered in-process (evals/llm/offline.py
  `respond`), an `openai/...` model whose connection has an `api_base` is posted on one pooled
  HTTP session (evals/llm/http.py). Both answer in OpenAI's JSON shape, priced from litellm's
  price map, so a call costs no litellm code but the price lookup (cached per model);
- litellm (`acompletion`, `completion_cost`) for everything else: other providers, OpenAI
  itself (no `api_base`), `reasoning_effort`, the offline models' streams, `stream` (only
  `open_stream` has a native variant), and every call of a client built with `native=False`.

Both paths give the same Completion fields and raise the same errors into the same retry loop
(a native failure goes through litellm's own exception mapper; tests/evals/test_native_path.py
makes each call both ways and compares them). litellm's own retries and the openai SDK's are
switched off (`max_retries=0`, `num_retries=0`) so the attempt count here is the number of
requests a provider sees.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from evals.connections.resolver import NO_CONNECTIONS, ConnectionSource, Route, route
from evals.errors import ModelCallError
from evals.llm import http as openai_http
from evals.llm import offline
from evals.llm.completion import Completion as Completion
from evals.llm.completion import from_litellm, from_openai_json
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
Build = Callable[..., Completion]


@functools.cache
def ensure_litellm() -> Any:
    """Import litellm (lazily: it takes seconds), quiet it, register the offline models."""
    litellm = pricing.load_litellm()

    offline.register(litellm)
    return litellm


# The native path's answers are OpenAI JSON, priced from litellm's map (offline prices included).
_FROM_JSON: Final = functools.partial(from_openai_json, ensure_litellm)


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


class ModelClient:
    """Calls models with one retry policy and a per-attempt timeout, natively or via litellm.

    Each call goes through the connection `connections` resolves for it (none for offline
    models). Plain calls take the native path: offline models are answered in-process
    (evals/llm/offline.py), OpenAI-compatible connections with an `api_base` on one pooled
    HTTP session (evals/llm/http.py, closed by `aclose`); everything else goes through litellm.
    `native=False` sends every call through litellm (the differential tests and benchmarks).
    """

    def __init__(
        self,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        telemetry: Telemetry | None = None,
        native: bool = True,
        connections: ConnectionSource = NO_CONNECTIONS,
    ) -> None:
        self.retry = retry
        self.timeout = timeout
        self._sleep = sleep
        self.telemetry = telemetry or Telemetry.disabled()
        self.native = native
        self.connections = connections
        self._http: openai_http.HttpPool | None = None

    async def aclose(self) -> None:
        """Close the pooled HTTP session of the native path (if one was opened)."""
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _sender(self, litellm: Any, kwargs: dict[str, Any], limit: float) -> tuple[Send, Build]:
        """Return how to make one attempt and how to read its answer: native, else litellm."""
        if self.native:
            asked = offline.native_request(kwargs)
            if asked is not None:
                return functools.partial(offline.respond, asked), _FROM_JSON
            request = openai_http.direct_request(kwargs)
            if request is not None:
                send = functools.partial(openai_http.send, self._pool(), request, timeout=limit)
                return send, _FROM_JSON
        return functools.partial(litellm.acompletion, **kwargs), functools.partial(
            from_litellm, litellm
        )

    def _pool(self) -> openai_http.HttpPool:
        """Return the native path's pooled HTTP session, opening it on first use."""
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
                send, build = self._sender(litellm, kwargs, limit)
                response, attempts, latency_ms = await self._call(send, model, limit, way)
            except ModelCallError as exc:
                exc.trace_id, exc.span_id = ids
                span.fail(error_type(exc), exc.detail)
                raise
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
        (litellm's objects, or the provider's JSON on the native path), maps a failure with
        `call_error` (redacted with the route) and records the call.
        """
        limit = self.timeout if timeout is None else timeout
        model, way, kwargs = await self._prepare(config, messages, limit)
        kwargs["stream_options"] = {"include_usage": True}
        request = openai_http.direct_request(kwargs) if self.native else None
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
