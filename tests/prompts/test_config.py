"""A version's LLM config: known parameters only, strict types, never an endpoint or a key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from promptlane_client import params
from promptlane_client.params import call_config, is_endpoint_or_credential, public_config
from prompts.config import INT32_MAX, INT64_MAX, InvocationParams, LLMConfig, OfflineParams


def problems(config: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        LLMConfig.model_validate(config)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"api_base": "http://attacker.test/v1"}, "api_base"),
        ({"api_key": "sk-live"}, "api_key"),
        ({"base_url": "http://x"}, "base_url"),
        ({"api_version": "2024-01-01"}, "api_version"),
        ({"headers": {"Authorization": "x"}}, "headers"),
        ({"extra_headers": {"x": "y"}}, "extra_headers"),
        ({"extra_body": {"api_key": "x"}}, "extra_body"),
        ({"aws_access_key_id": "AKIA"}, "aws_access_key_id"),
        ({"azure_ad_token": "t"}, "azure_ad_token"),
        ({"vertex_credentials": "{}"}, "vertex_credentials"),
        ({"custom_llm_provider": "openai"}, "custom_llm_provider"),
        ({"extra": {"api_base": "http://attacker.test/v1"}}, "extra.api_base"),
        ({"extra": {"API_KEY": "sk-live"}}, "extra.API_KEY"),
    ],
)
def test_endpoints_and_credentials_are_refused_with_a_pointer_to_connections(
    config: dict[str, Any], where: str
) -> None:
    found = problems({"model": "openai/gpt-4o-mini", **config})
    assert found[0][0] == where
    assert "connection" in found[0][1]


def test_extra_is_gone_with_a_message_that_says_where_things_went() -> None:
    [(where, message)] = problems({"model": "m", "extra": {"temperature": 1}})
    assert where == "extra"
    assert "offline" in message
    assert "connection" in message


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"temperature": False}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": "0.5"}, "temperature"),
        ({"temperature": 2.5}, "temperature"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": INT32_MAX + 1}, "max_tokens"),
        ({"max_tokens": 1.5}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"seed": INT64_MAX + 1}, "seed"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"parallel_tool_calls": 1}, "parallel_tool_calls"),
        ({"top_logprobs": 21}, "top_logprobs"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"logit_bias": {"50256": 101}}, "logit_bias"),
        ({"logit_bias": {"word": 1}}, "logit_bias"),
        ({"tool_choice": "always"}, "tool_choice"),
        ({"reasoning_effort": "HIGH\n"}, "reasoning_effort"),
        ({"unknown": 1}, "unknown"),
        ({"model": "openai/x\x00y"}, "model"),
        ({"connection": "openai\n"}, "connection"),
        ({"connection": "Prod"}, "connection"),
        ({"model": "openai/gpt-4o", "offline": {"latency_ms": 5}}, ""),
        ({"model": "offline/echo", "offline": {"fail_with": "explode"}}, "offline.fail_with"),
        ({"model": "offline/echo", "offline": {"latency_ms": "5"}}, "offline.latency_ms"),
        ({"model": "offline/echo", "offline": {"api_base": "http://x"}}, "offline.api_base"),
    ],
)
def test_types_are_strict_and_integers_bounded(config: dict[str, Any], where: str) -> None:
    assert problems(config)[0][0] == where


def test_every_known_parameter_is_accepted_and_kept() -> None:
    config = {
        "model": "openai/gpt-4o-mini",
        "connection": "prod-openai",
        "temperature": 0,
        "top_p": 1,
        "max_tokens": INT32_MAX,
        "max_completion_tokens": 10,
        "stop": "END",
        "seed": -(2**63),
        "presence_penalty": -2,
        "frequency_penalty": 2.0,
        "logit_bias": {"50256": -100},
        "logprobs": True,
        "top_logprobs": 3,
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "user": "tests",
    }
    params = LLMConfig.model_validate(config).as_params()
    assert params == {**config, "stop": ["END"]}


def test_offline_knobs_are_typed() -> None:
    config = {"model": "offline/scripted", "offline": {"latency_ms": 5, "default": {"a": 1}}}
    assert LLMConfig.model_validate(config).as_params() == config


@pytest.mark.parametrize(
    "key",
    ["temperature", "max_tokens", "max_completion_tokens", "top_logprobs", "user", "seed"],
)
def test_known_parameters_are_not_mistaken_for_credentials(key: str) -> None:
    assert not is_endpoint_or_credential(key)


def test_a_legacy_config_is_called_with_its_known_parameters_only() -> None:
    stored = {
        "model": "openai/gpt-4o-mini",
        "temperature": 0.2,
        "api_base": "http://attacker.test/v1",
        "extra": {
            "api_key": "sk-planted",
            "headers": {"x": "y"},
            "temperature": 1.0,  # the top-level value wins
            "presence_penalty": 0.5,
            "latency_ms": 20,
            "mystery": 1,
        },
    }
    assert call_config(stored) == {
        "model": "openai/gpt-4o-mini",
        "temperature": 0.2,
        "presence_penalty": 0.5,
        "offline": {"latency_ms": 20},
    }


def test_readers_never_see_a_legacy_endpoint_or_key() -> None:
    stored = {
        "model": "m",
        "api_key": "sk-planted",
        "extra": {"api_base": "http://x", "presence_penalty": 1},
    }
    assert public_config(stored) == {"model": "m", "extra": {"presence_penalty": 1}}


def test_the_light_names_match_the_typed_models() -> None:
    assert frozenset(InvocationParams.model_fields) == params.PARAM_NAMES
    assert frozenset(OfflineParams.model_fields) == params.OFFLINE_KNOBS
