"""The native HTTP path for plain calls to an OpenAI-compatible `api_base` (`openai/*` models).

litellm spends ~4 ms of CPU on each such call (the openai SDK's request transforms, its cost
calculation, logging payloads) where the HTTP request itself takes ~2 ms, which is more than
the gateway's whole latency budget (bench/gateway.py) and most of an eval run's overhead
(bench/runner.py). For an `openai/<name>` call whose connection has an `api_base`, with only
invocation parameters litellm forwards unchanged, `direct_request` builds the body litellm
would send and `send` posts it on one pooled aiohttp session (aiohttp's client costs ~0.25 ms
of CPU a request, httpx's ~1.2 ms); `open_stream` does the same for a streamed call and yields
the provider's chunks, parsed from its server-sent events, as they arrive. A failure (a 4xx/5xx
answer, a timeout, a refused connection) is passed through litellm's own exception mapper
(`litellm_error`), so its class, status, `Retry-After` and text are the ones the litellm path
raises, and the retry policy, `error.type` and the status kept on ModelCallError
(`evals/llm/failures.py` `provider_status`) stay the same. Any other call (other providers,
unknown parameters) returns None and goes through litellm.
"""

from __future__ import annotations

import contextlib
import functools
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from promptlane_client.params import PARAM_NAMES
from tracing import pricing

_PREFIX: Final = "openai/"
# The key of a connection that has none: sent so that neither litellm nor the openai SDK
# falls back to a key in the server's environment; the direct path sends no header for it.
KEYLESS: Final = "promptlane-no-key"
# Set by evals/llm/client.py `call_kwargs` for litellm; never part of the request body.
_CONTROL: Final = frozenset(
    {"model", "messages", "timeout", "max_retries", "num_retries", "metadata", "api_base"}
)
_CONTROL_EXTRA: Final = frozenset({"api_key", "_skip_mcp_handler"})
# Chat parameters litellm sends to an OpenAI-compatible provider as they are: every invocation
# parameter but those litellm rewrites per model (`reasoning_effort`), and the stream flags.
_PASSTHROUGH: Final = (PARAM_NAMES - {"reasoning_effort"}) | {"stream", "stream_options"}
_CONNECTIONS: Final = 1000
_CONNECTIONS_PER_HOST: Final = 500
_MAX_URLS: Final = 1024  # proxy decisions remembered (one per api_base in practice)
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
    model: str  # the routed model string (`openai/<name>`), as litellm names it in errors


def direct_request(kwargs: Mapping[str, Any]) -> DirectRequest | None:
    """Return the HTTP request litellm would send for `kwargs`, or None if it is not plain."""
    model, api_base, api_key = kwargs["model"], kwargs.get("api_base"), kwargs.get("api_key")
    if not model.startswith(_PREFIX) or not isinstance(api_base, str) or not api_base:
        return None
    if not isinstance(api_key, str) or not api_key:
        return None  # evals/llm/client.py always sets one (the connection's, or KEYLESS)
    name = model.removeprefix(_PREFIX)
    body: dict[str, Any] = {"model": name, "messages": kwargs["messages"]}
    for key, value in kwargs.items():
        if key in _CONTROL or key in _CONTROL_EXTRA or value is None:
            continue
        if key not in _PASSTHROUGH:
            return None
        body[key] = value
    headers = {"Content-Type": "application/json"}
    if api_key != KEYLESS:
        headers["Authorization"] = f"Bearer {api_key}"
    return DirectRequest(
        url=api_base.rstrip("/") + "/chat/completions",
        headers=headers,
        content=json.dumps(body, separators=(",", ":")).encode(),
        model=model,
    )


class HttpPool:
    """The direct path's pooled aiohttp session and the proxies it honours.

    Like the openai SDK's httpx client, HTTP(S)_PROXY and NO_PROXY are read once, when the
    pool opens, and decided once per URL: aiohttp's own `trust_env` would re-read the
    environment (and ~/.netrc) in a worker thread on every request.
    """

    def __init__(self) -> None:
        """Open the session (inside the event loop that will use it)."""
        import aiohttp

        # litellm's own aiohttp transport allows as many connections (AIOHTTP_CONNECTOR_LIMIT*):
        # runs, judges and the gateway share this pool and must not queue where litellm did not.
        connector = aiohttp.TCPConnector(limit=_CONNECTIONS, limit_per_host=_CONNECTIONS_PER_HOST)
        self.session = aiohttp.ClientSession(connector=connector, trust_env=False)
        self.proxies = urllib.request.getproxies_environment()
        self._proxy_of: dict[str, str | None] = {}

    @property
    def closed(self) -> bool:
        """Whether the session was closed."""
        return bool(self.session.closed)

    async def close(self) -> None:
        """Close the session and its connections."""
        await self.session.close()

    def proxy_for(self, url: str) -> str | None:
        """Return the proxy URL for `url` (None: connect directly), as urllib decides it."""
        try:
            return self._proxy_of[url]
        except KeyError:
            pass
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        # proxy_bypass_environment is urllib's NO_PROXY check (not in typeshed's stubs).
        request_module: Any = urllib.request
        bypass = not self.proxies or request_module.proxy_bypass_environment(host, self.proxies)
        proxy = None if bypass else self.proxies.get(parts.scheme) or self.proxies.get("all")
        if len(self._proxy_of) < _MAX_URLS:
            self._proxy_of[url] = proxy
        return proxy


async def send(pool: HttpPool, request: DirectRequest, *, timeout: float) -> Any:  # noqa: ASYNC109
    """Post `request`; return the provider's JSON answer or raise the error litellm would."""
    import aiohttp

    with _provider_errors(request):
        async with pool.session.post(
            request.url,
            data=request.content,
            headers=request.headers,
            proxy=pool.proxy_for(request.url),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            content = await response.read()
    if response.status >= 400:
        raise _refusal(request, response, content)
    return json.loads(content)


async def open_stream(
    pool: HttpPool,
    request: DirectRequest,
    *,
    timeout: float,  # noqa: ASYNC109
) -> AsyncIterator[dict[str, Any]]:
    """Post a streamed `request`; once the provider answers 200, return its chunks.

    `timeout` bounds connecting and each read (a stream may run longer than it in all). A
    refusal (4xx/5xx) is raised here, as litellm would raise it, so it can be retried.
    """
    import aiohttp

    with _provider_errors(request):
        response = await pool.session.post(
            request.url,
            data=request.content,
            headers=request.headers,
            proxy=pool.proxy_for(request.url),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        )
        if response.status >= 400:
            async with response:
                content = await response.read()
    if response.status >= 400:
        raise _refusal(request, response, content)
    return _chunks(response, request.url)


@contextlib.contextmanager
def _provider_errors(request: DirectRequest) -> Iterator[None]:
    """Raise a timeout as the openai SDK's, and a connection failure as litellm would."""
    import aiohttp
    import openai

    try:
        yield
    except TimeoutError as exc:
        # Unmapped (no status): on either path the retry loop's own timer races this one.
        raise openai.APITimeoutError(request=httpx.Request("POST", request.url)) from exc
    except aiohttp.ClientError as exc:
        failed = openai.APIConnectionError(request=httpx.Request("POST", request.url))
        raise litellm_error(request.model, failed) from exc


def _refusal(request: DirectRequest, response: Any, content: bytes) -> Exception:
    """Return the error litellm raises for a provider's 4xx/5xx answer."""
    answer = httpx.Response(
        response.status,
        headers=list(response.headers.items()),
        content=content,
        request=httpx.Request("POST", request.url),
    )
    return litellm_error(request.model, status_error(answer))


def litellm_error(model: str, exc: Exception) -> Exception:
    """Return what litellm raises for the openai SDK's `exc`, by litellm's own wrap and mapper.

    A failure is off the hot path, so the native path pays for litellm's mapping there: as
    litellm's OpenAI handler does, the SDK's error is wrapped in its `OpenAIError` and mapped by
    `exception_type`, so the class (`error.type`), status, headers (`Retry-After`) and text of a
    failure are the ones the litellm path raises. `exc` itself if litellm lacks those modules.
    """
    pricing.load_litellm()  # under the import lock (tracing.pricing): never half-imported
    try:
        from litellm.litellm_core_utils import exception_mapping_utils
        from litellm.llms.openai.common_utils import OpenAIError
    except ImportError:  # internal modules of litellm: without them the SDK's error will do
        return exc
    response = getattr(exc, "response", None)
    headers = getattr(exc, "headers", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    wrapped = OpenAIError(
        status_code=getattr(exc, "status_code", 500),
        message=getattr(exc, "message", str(exc)),
        headers=headers,
        body=getattr(exc, "body", None),
    )
    mapper: Any = exception_mapping_utils.exception_type
    try:
        mapper(model=model, original_exception=wrapped, custom_llm_provider="openai")
    except Exception as mapped:  # the mapper raises the error it maps to
        return mapped
    return exc


async def _chunks(response: Any, url: str) -> AsyncIterator[dict[str, Any]]:
    """Yield the JSON of each `data:` event until `[DONE]`; release the connection after."""
    import openai

    try:
        async for line in response.content:
            if not line.startswith(b"data:"):
                continue  # blank separators, comments, `event:` and `id:` fields
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            chunk = json.loads(data)
            if isinstance(chunk, dict) and "error" in chunk:  # a failure mid-stream
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else error
                raise openai.APIError(
                    f"stream error: {message}", httpx.Request("POST", url), body=chunk
                )
            yield chunk
    finally:
        response.release()


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
