"""Offline model providers registered with litellm as `offline/...`: no network, no keys.

- `offline/echo` answers with the last user message.
- `offline/scripted` answers, in order, from the dataset item's `metadata.answer` (the item
  travels in litellm's `metadata={"promptlane_item": {...}}`), from a `script` mapping
  (exact last user message, then the first key it contains), from `default`, else echoes.
  A scripted answer's `{{system}}` becomes the call's system prompt: a model that leaks it.

Both take their knobs as extra call parameters (a prompt version's `config.offline`):
`latency_ms`, `input_tokens` / `output_tokens` (default: words x 1.3, rounded up),
`fail_rate` (0..1, decided by a hash of `seed` and the request, so reruns fail the same
calls), `fail_times` (fail the first N attempts of each distinct request) and `fail_with`
(`rate_limit` 429, `server_error` 500, `timeout`, `auth` 401: a key the provider refuses).
litellm hands call parameters to a custom provider in `optional_params` and the `metadata=`
kwarg in `litellm_params`.

litellm is imported lazily (it takes seconds); `evals.llm.client.ensure_litellm` calls `register`.
The model client answers plain calls in-process without litellm (`native_request`, `respond`):
the same answer, tokens, errors and, through the registered prices, cost, in OpenAI's JSON shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Final

from promptlane_client.params import OFFLINE_KNOBS, OFFLINE_PREFIX, PARAM_NAMES
from tracing.pricing import load_litellm

PROVIDER: Final = "offline"
MODELS: Final = ("echo", "scripted")
ITEM_KEY: Final = "promptlane_item"
# In a scripted answer: replaced by the call's system prompt (a model that leaks it).
SYSTEM_PLACEHOLDER: Final = "{{system}}"
# Fictional prices (USD per token) so that cost tracking has something to add up offline.
INPUT_COST_PER_TOKEN: Final = 1e-7
OUTPUT_COST_PER_TOKEN: Final = 2e-7
FAILURES: Final = ("rate_limit", "server_error", "timeout", "auth")
# Bounds the per-request attempt counters `fail_times` keeps (a long-lived server's memory).
_MAX_TRACKED: Final = 100_000

# What evals/llm/params.py `call_kwargs` may add for litellm; never a model's knob.
_CONTROL: Final = frozenset(
    {"model", "messages", "timeout", "max_retries", "num_retries", "metadata", "_skip_mcp_handler"}
)
# What litellm hands the provider unchanged; it refuses `reasoning_effort` for this provider.
_NATIVE: Final = (PARAM_NAMES - {"reasoning_effort"}) | OFFLINE_KNOBS
# Message contents litellm accepts; it crashes (a retryable APIConnectionError) on the others.
_CONTENTS: Final = (str, list, dict, type(None))

_attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


@dataclass(frozen=True)
class OfflineRequest:
    """One call to an offline model, as the provider sees it."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any]
    item: dict[str, Any] | None = None

    @property
    def system(self) -> str:
        """Return the text of the system messages, one after another ('' if there are none)."""
        texts = [_text_of(m.get("content")) for m in self.messages if m.get("role") == "system"]
        return "\n".join(texts)

    @property
    def last_user(self) -> str:
        """Return the text of the last user message ('' if there is none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def count_tokens(text: str) -> int:
    """Estimate tokens as words x 1.3, rounded up (cheap; the bench calls this a lot)."""
    return math.ceil(len(text.split()) * 1.3)


def answer(request: OfflineRequest) -> str:
    """Return what the offline model answers to `request`."""
    if request.model == "scripted":
        scripted = _scripted(request)
        if scripted is not None:
            return scripted.replace(SYSTEM_PLACEHOLDER, request.system)
    return request.last_user


def _scripted(request: OfflineRequest) -> str | None:
    metadata = (request.item or {}).get("metadata") or {}
    if isinstance(metadata, dict) and metadata.get("answer") is not None:
        return _as_text(metadata["answer"])
    script = request.params.get("script") or {}
    last = request.last_user
    if isinstance(script, dict):
        if last in script:
            return _as_text(script[last])
        for needle, reply in script.items():
            if needle and needle in last:
                return _as_text(reply)
    default = request.params.get("default")
    return None if default is None else _as_text(default)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _fingerprint(request: OfflineRequest) -> str:
    content = json.dumps(
        [request.model, request.params.get("seed", 0), request.messages],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def should_fail(request: OfflineRequest) -> bool:
    """Decide whether this attempt fails (`fail_times` first, then `fail_rate`)."""
    fail_times = int(request.params.get("fail_times") or 0)
    fail_rate = float(request.params.get("fail_rate") or 0.0)
    if fail_times <= 0 and fail_rate <= 0.0:
        return False
    fingerprint = _fingerprint(request)
    if fail_times > 0:
        with _attempts_lock:
            if len(_attempts) >= _MAX_TRACKED:
                _attempts.clear()
            seen = _attempts.get(fingerprint, 0)
            _attempts[fingerprint] = seen + 1
        if seen < fail_times:
            return True
    # The same request with the same seed draws the same number: reruns fail alike.
    draw = int(fingerprint[:13], 16) / float(16**13)
    return draw < fail_rate


def reset_failures() -> None:
    """Forget how often each request was attempted (`fail_times` counts start again)."""
    with _attempts_lock:
        _attempts.clear()


def _failure(request: OfflineRequest) -> Exception:
    load_litellm()  # under the import lock (tracing.pricing)
    from litellm.exceptions import AuthenticationError, InternalServerError, RateLimitError, Timeout

    kind = request.params.get("fail_with") or "server_error"
    model = f"{PROVIDER}/{request.model}"
    message = f"injected {kind} ({model})"
    if kind == "rate_limit":
        return RateLimitError(message, llm_provider=PROVIDER, model=model)
    if kind == "timeout":
        return Timeout(message, model=model, llm_provider=PROVIDER)
    if kind == "auth":
        return AuthenticationError(message, llm_provider=PROVIDER, model=model)
    return InternalServerError(message, llm_provider=PROVIDER, model=model)


def _check(request: OfflineRequest) -> None:
    """Refuse unknown models (404, as providers do) and knobs (400); neither is retried."""
    load_litellm()  # under the import lock (tracing.pricing)
    from litellm.exceptions import BadRequestError, NotFoundError

    model = f"{PROVIDER}/{request.model}"
    if request.model not in MODELS:
        known = ", ".join(MODELS)
        problem = f"unknown offline model {request.model!r} (known: {known})"
        raise NotFoundError(problem, model=model, llm_provider=PROVIDER)
    if (request.params.get("fail_with") or "server_error") not in FAILURES:
        problem = f"fail_with must be one of {', '.join(FAILURES)}"
        raise BadRequestError(problem, model=model, llm_provider=PROVIDER)


def _request(
    model: str, messages: list[Any], params: dict[str, Any], litellm_params: Any
) -> OfflineRequest:
    metadata = (litellm_params or {}).get("metadata") or {}
    item = metadata.get(ITEM_KEY) if isinstance(metadata, dict) else None
    request = OfflineRequest(model, messages, params, item if isinstance(item, dict) else None)
    _check(request)
    return request


def _usage(request: OfflineRequest, text: str) -> dict[str, int]:
    prompt = request.params.get("input_tokens")
    if prompt is None:
        prompt = sum(count_tokens(_text_of(m.get("content"))) for m in request.messages)
    completion = request.params.get("output_tokens")
    if completion is None:
        completion = count_tokens(text)
    return {
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "total_tokens": int(prompt) + int(completion),
    }


def _answer_or_fail(request: OfflineRequest) -> str:
    if should_fail(request):
        raise _failure(request)
    return answer(request)


def _fill(model_response: Any, request: OfflineRequest) -> Any:
    load_litellm()  # under the import lock (tracing.pricing)
    from litellm.types.utils import Usage

    text = _answer_or_fail(request)
    model_response.choices[0].message.content = text
    model_response.choices[0].finish_reason = "stop"
    # The full name lets completion_cost find the prices `register` gave litellm.
    model_response.model = f"{PROVIDER}/{request.model}"
    usage = _usage(request, text)
    model_response.usage = Usage(
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        total_tokens=usage["total_tokens"],
    )
    return model_response


def _latency(request: OfflineRequest) -> float:
    return max(0.0, float(request.params.get("latency_ms") or 0.0)) / 1000.0


def _chunks(request: OfflineRequest, text: str) -> Iterator[dict[str, Any]]:
    words = text.split(" ")
    for i, word in enumerate(words):
        last = i == len(words) - 1
        yield {
            "text": word if i == 0 else f" {word}",
            "tool_use": None,
            "is_finished": last,
            "finish_reason": "stop" if last else "",
            "usage": _usage(request, text) if last else None,
            "index": 0,
        }


def _provider_class() -> type[Any]:
    load_litellm()  # under the import lock (tracing.pricing)
    from litellm.llms.custom_llm import CustomLLM

    class OfflineLLM(CustomLLM):
        """litellm's handler for `offline/...` models."""

        def completion(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            request = _request(model, messages, kw["optional_params"], kw.get("litellm_params"))
            time.sleep(_latency(request))
            return _fill(kw["model_response"], request)

        async def acompletion(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            request = _request(model, messages, kw["optional_params"], kw.get("litellm_params"))
            await asyncio.sleep(_latency(request))
            return _fill(kw["model_response"], request)

        def streaming(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            request = _request(model, messages, kw["optional_params"], kw.get("litellm_params"))
            # Decided before the first chunk, so a failure surfaces where retries happen.
            text = _answer_or_fail(request)
            time.sleep(_latency(request))
            return _chunks(request, text)

        def astreaming(self, model: str, messages: list[Any], *args: Any, **kw: Any) -> Any:
            request = _request(model, messages, kw["optional_params"], kw.get("litellm_params"))
            return _astream(request, _answer_or_fail(request))

    return OfflineLLM


async def _astream(request: OfflineRequest, text: str) -> AsyncIterator[dict[str, Any]]:
    await asyncio.sleep(_latency(request))
    for chunk in _chunks(request, text):
        yield chunk


def register(litellm: Any) -> None:
    """Register the offline provider and its (fictional) prices with litellm, once."""
    if any(entry.get("provider") == PROVIDER for entry in litellm.custom_provider_map):
        return
    handler = _provider_class()()
    litellm.custom_provider_map = [
        *litellm.custom_provider_map,
        {"provider": PROVIDER, "custom_handler": handler},
    ]
    prices = {
        "input_cost_per_token": INPUT_COST_PER_TOKEN,
        "output_cost_per_token": OUTPUT_COST_PER_TOKEN,
        # Declared (as zero) so litellm does not warn that cache pricing is missing.
        "cache_creation_input_token_cost": 0.0,
        "cache_read_input_token_cost": 0.0,
        "litellm_provider": PROVIDER,
        "mode": "chat",
    }
    litellm.register_model({f"{PROVIDER}/{name}": dict(prices) for name in MODELS})


def native_request(kwargs: dict[str, Any]) -> OfflineRequest | None:
    """Return the request litellm would hand this provider for `kwargs`, or None if not plain."""
    model = kwargs["model"]
    if not model.startswith(OFFLINE_PREFIX) or "api_key" in kwargs or "api_base" in kwargs:
        return None
    params: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in _CONTROL or value is None:
            continue
        if key not in _NATIVE:
            return None
        params[key] = value
    messages = kwargs["messages"]
    if not all(isinstance(m, dict) and isinstance(m.get("content"), _CONTENTS) for m in messages):
        return None
    metadata = kwargs.get("metadata") or {}
    item = metadata.get(ITEM_KEY) if isinstance(metadata, dict) else None
    name = model.removeprefix(OFFLINE_PREFIX)
    return OfflineRequest(name, messages, params, item if isinstance(item, dict) else None)


async def respond(request: OfflineRequest) -> dict[str, Any]:
    """Answer `request` as the litellm provider does (same checks, latency, failures), as JSON."""
    _check(request)
    await asyncio.sleep(_latency(request))
    text = _answer_or_fail(request)
    return {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{PROVIDER}/{request.model}",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(request, text),
    }
