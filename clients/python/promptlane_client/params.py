"""How a stored LLM config is read: by a call (known parameters only) and by readers.

A version's config names its model, connection, invocation parameters and offline knobs (the
server's prompts/config.py validates what is published). Versions stored before connections
kept free-form parameters under `extra`: `call_config` still honours the known ones, and never
an endpoint or a key; `public_config` is a stored config without endpoints or keys. No pydantic
here: the client (`Prompt.to_openai`) and the server read configs through this one module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

OFFLINE_PREFIX: Final = "offline/"
# The invocation parameters a config holds (prompts.config.InvocationParams' fields).
PARAM_NAMES: Final = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
        "user",
    }
)
_PARAM_ORDER: Final = tuple(sorted(PARAM_NAMES))  # a config's parameters, in a stable order
# The offline models' knobs (prompts.config.OfflineParams' fields).
OFFLINE_KNOBS: Final = frozenset(
    {
        "latency_ms",
        "input_tokens",
        "output_tokens",
        "fail_rate",
        "fail_times",
        "fail_with",
        "script",
        "default",
    }
)
# Keys that say where a call goes or with which credentials (litellm's and the SDKs' names).
_ENDPOINT_KEYS: Final = frozenset(
    {
        "api_key",
        "api_base",
        "base_url",
        "api_version",
        "api_type",
        "organization",
        "project",
        "headers",
        "extra_headers",
        "extra_body",
        "extra_query",
        "custom_llm_provider",
        "deployment_id",
        "credentials",
        "token",
        "access_token",
        "region_name",
        "proxy",
        "proxies",
        "http_client",
        "ssl_verify",
    }
)
_ENDPOINT_PREFIXES: Final = ("api_", "aws_", "azure_", "vertex_", "watsonx_", "openai_")
_ENDPOINT_SUFFIXES: Final = ("_key", "_url", "_base", "_endpoint", "_token", "_secret")
_ENDPOINT_WORDS: Final = ("secret", "password", "credential", "header")


def is_endpoint_or_credential(key: str) -> bool:
    """Say whether a config key would set where a call goes or with which credentials."""
    name = key.lower()
    return (
        name in _ENDPOINT_KEYS
        or name.startswith(_ENDPOINT_PREFIXES)
        or name.endswith(_ENDPOINT_SUFFIXES)
        or any(word in name for word in _ENDPOINT_WORDS)
    )


def call_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored config as a call uses it: model, connection, parameters, offline knobs.

    Legacy versions kept parameters under a free-form `extra`: the known ones still count
    (a top-level value wins); endpoints, credentials and anything unknown are never used.
    """
    out: dict[str, Any] = {
        key: config[key] for key in ("model", "connection") if isinstance(config.get(key), str)
    }
    legacy = config.get("extra")
    legacy = legacy if isinstance(legacy, Mapping) else {}
    for name in _PARAM_ORDER:
        value = config.get(name)
        if value is None:
            value = legacy.get(name)
        if value is not None:
            out[name] = value
    offline = {k: v for k, v in legacy.items() if k in OFFLINE_KNOBS}
    stored = config.get("offline")
    if isinstance(stored, Mapping):
        offline.update({k: v for k, v in stored.items() if k in OFFLINE_KNOBS})
    if offline:
        out["offline"] = offline
    return out


def public_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored config without endpoint or credential keys (legacy rows may hold them)."""
    out = {k: v for k, v in config.items() if not is_endpoint_or_credential(k)}
    extra = out.get("extra")
    if isinstance(extra, Mapping):
        out["extra"] = {k: v for k, v in extra.items() if not is_endpoint_or_credential(str(k))}
    return out
