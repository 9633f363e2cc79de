"""What a routed call sends: litellm's keyword arguments, and the response-cache key.

Where a call goes and with which key comes from its route's connection only (evals/connections),
never from the version's content: a stored config is read with `prompts.config.call_config`,
which keeps known invocation parameters and drops anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from evals.connections.resolver import Route
from evals.llm import http as openai_http
from promptlane_client.hashing import sha256_hex
from promptlane_client.params import PARAM_NAMES

# Bump to orphan every cached response (when what a cached Completion means changes).
_CACHE_KEY_VERSION: Final = 2


def cache_key(model: str, messages: Sequence[dict[str, Any]], params: dict[str, Any]) -> str:
    """Return the response-cache key of a call: a hash of model, messages and parameters.

    `params` are a call config's (`prompts.config.call_config`, model left out) plus whatever
    else should split the cache, such as a repeat number.
    """
    return sha256_hex(
        {"v": _CACHE_KEY_VERSION, "model": model, "messages": list(messages), "params": params}
    )


def call_kwargs(
    call: dict[str, Any],
    *,
    route: Route,
    messages: list[dict[str, Any]],
    metadata: dict[str, Any] | None,
    timeout: float,
) -> dict[str, Any]:
    """Return the `litellm.acompletion` keyword arguments for a call config and its route.

    The endpoint and key come from the route's connection only; a connection without a key
    gets a placeholder, so litellm never falls back to a key in the server's environment.
    """
    kwargs = {k: v for k, v in call.items() if k in PARAM_NAMES}
    if route.connection is None:  # an offline model: its knobs are call parameters
        kwargs.update(call.get("offline") or {})
    else:
        if route.connection.api_base:
            kwargs["api_base"] = route.connection.api_base
        kwargs["api_key"] = route.connection.api_key or openai_http.KEYLESS
    kwargs.update(
        model=route.model,
        messages=messages,
        timeout=timeout,
        # Ours is the only retry loop: litellm's num_retries=N alone makes 2N+1 requests.
        max_retries=0,
        num_retries=0,
    )
    if metadata is not None:
        kwargs["metadata"] = metadata
    if kwargs.get("tools"):
        # litellm imports its MCP gateway (the optional `mcp` package) for any call with
        # tools, and fails without it; LLMConfig only admits plain function tools.
        kwargs["_skip_mcp_handler"] = True
    return kwargs


def secret_of(way: Route) -> str | None:
    """Return the key a route sends (to redact it from error text), if it has one."""
    return way.connection.api_key if way.connection is not None else None
