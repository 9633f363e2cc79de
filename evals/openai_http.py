"""A direct HTTP path for plain calls to an OpenAI-compatible `api_base` (`openai/*` models).

litellm spends ~4 ms of CPU on each such call (the openai SDK's request transforms, its cost
calculation, logging payloads) where the HTTP request itself takes ~2 ms, which is more than
the gateway's whole latency budget (bench/gateway.py). For a non-streamed `openai/<name>` call
with an `api_base` and only standard chat parameters, litellm forwards the body unchanged, so
`direct_request` builds that body here and `send` posts it on one pooled aiohttp session
(aiohttp's client costs ~0.25 ms of CPU a request, httpx's ~1.2 ms). Failures are raised as
the openai SDK's errors (the ones litellm's subclass), so the retry policy and the status kept
on ModelCallError (`evals/gateway.py` `provider_status`) stay the same. Any other call
(streams, other providers, unknown parameters) returns None and goes through litellm.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import httpx

from tracing import pricing

if TYPE_CHECKING:
    import aiohttp

_PREFIX: Final = "openai/"
# Set by evals/llm.py `call_kwargs` for litellm; never part of the request body.
_CONTROL: Final = frozenset(
    {"model", "messages", "timeout", "max_retries", "num_retries", "metadata", "api_base"}
)
_CONTROL_EXTRA: Final = frozenset({"api_key", "_skip_mcp_handler"})
# Chat parameters litellm sends to an OpenAI-compatible provider as they are.
_PASSTHROUGH: Final = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "user",
        "logit_bias",
        "logprobs",
        "top_logprobs",
    }
)
_ERRORS: Final[Mapping[int, str]] = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


@dataclass(frozen=True)
class DirectRequest:
    """One chat completion request, ready to post."""

    url: str
    headers: dict[str, str]
    content: bytes


def direct_request(kwargs: Mapping[str, Any]) -> DirectRequest | None:
    """Return the HTTP request litellm would send for `kwargs`, or None if it is not plain."""
    model, api_base, api_key = kwargs["model"], kwargs.get("api_base"), kwargs.get("api_key")
    if not model.startswith(_PREFIX) or not isinstance(api_base, str) or not api_base:
        return None
    if not isinstance(api_key, str) or not api_key:
        return None  # litellm would read OPENAI_API_KEY from the environment
    body: dict[str, Any] = {"model": model.removeprefix(_PREFIX), "messages": kwargs["messages"]}
    for key, value in kwargs.items():
        if key in _CONTROL or key in _CONTROL_EXTRA or value is None:
            continue
        if key not in _PASSTHROUGH:
            return None
        body[key] = value
    return DirectRequest(
        url=api_base.rstrip("/") + "/chat/completions",
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        content=json.dumps(body, separators=(",", ":")).encode(),
    )


def open_session() -> aiohttp.ClientSession:
    """Open the pooled HTTP session of the direct path (inside the loop that will use it)."""
    import aiohttp

    # Like the openai SDK's httpx client, honour HTTP(S)_PROXY and NO_PROXY.
    return aiohttp.ClientSession(trust_env=True)


async def send(session: aiohttp.ClientSession, request: DirectRequest, *, timeout: float) -> Any:  # noqa: ASYNC109
    """Post `request`; return the provider's JSON answer or raise the openai SDK's error."""
    import aiohttp
    import openai

    try:
        async with session.post(
            request.url,
            data=request.content,
            headers=request.headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            content = await response.read()
    except TimeoutError as exc:
        raise openai.APITimeoutError(request=httpx.Request("POST", request.url)) from exc
    except aiohttp.ClientError as exc:
        raise openai.APIConnectionError(request=httpx.Request("POST", request.url)) from exc
    if response.status >= 400:
        answer = httpx.Response(
            response.status,
            headers=list(response.headers.items()),
            content=content,
            request=httpx.Request("POST", request.url),
        )
        raise status_error(answer)
    return json.loads(content)


def status_error(response: httpx.Response) -> Exception:
    """Return the openai SDK's error for a provider's error answer (status and headers kept)."""
    import openai

    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    error = body.get("error") if isinstance(body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    message = f"Error code: {response.status_code} - {detail or body}"
    default = "InternalServerError" if response.status_code >= 500 else "APIStatusError"
    cls = getattr(openai, _ERRORS.get(response.status_code, default))
    return cls(message, response=response, body=body)  # type: ignore[no-any-return]


def answer_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a provider's JSON answer as `Completion` fields (text, tokens, finish, raw)."""
    choices = body.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    text = message.get("content")
    raw: dict[str, Any] = {"id": body.get("id"), "model": body.get("model")}
    if message.get("tool_calls"):
        raw["tool_calls"] = message["tool_calls"]
        # A tool call is the answer when there is no text: scorers see it as JSON.
        text = text or json.dumps(raw["tool_calls"], sort_keys=True)
    usage = body.get("usage") or {}
    return {
        "text": text or "",
        "input_tokens": int(usage.get("prompt_tokens") or 0),
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "finish_reason": choice.get("finish_reason"),
        "raw": raw,
    }


@functools.lru_cache(maxsize=256)
def price(model: str, loader: Callable[[], Any]) -> pricing.Price | None:
    """Return litellm's per-token prices of `model` (cached; None when it has none)."""
    return pricing.litellm_price(None, model, loader=loader)


def cost(
    model: str, input_tokens: int, output_tokens: int, *, loader: Callable[[], Any]
) -> float | None:
    """Return the cost in USD of a call from litellm's price map, or None if unpriced."""
    per_token = price(model, loader)
    if per_token is None:
        return None
    return input_tokens * per_token[0] + output_tokens * per_token[1]
