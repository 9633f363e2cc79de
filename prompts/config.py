"""A version's LLM config: the model, the connection it goes through, typed call parameters.

`LLMConfig` is what a writer may publish: known invocation parameters only (strict types,
bounded integers), the `connection` to call through, and `offline` knobs for the offline
models. Endpoints and credentials are never part of a version; a config that names one is
refused with a pointer to connections (managed by admins). How a stored config is read by
calls and readers is promptlane_client.params (no pydantic: the client package holds it).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal

from jsonschema import Draft202012Validator
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from promptlane_client.params import OFFLINE_PREFIX as OFFLINE_PREFIX
from promptlane_client.params import is_endpoint_or_credential
from tracing.validation import StrictModel

INT32_MAX: Final = 2**31 - 1
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
CONNECTION_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
_TOOL_CHOICES: Final = frozenset({"none", "auto", "required"})

_CONNECTION_HINT: Final = (
    "endpoints and credentials are not part of a prompt version: name a connection in "
    "`config.connection` (an admin creates it with `promptlane connections create`)"
)


def check_json_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """Return `schema` if it is a valid JSON Schema (Draft 2020-12); raise ValueError if not."""
    errors = list(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    if errors:
        raise ValueError(f"{where} is not a valid JSON Schema: {errors[0].message}")
    return schema


def _strict(**constraints: Any) -> Any:
    """Return an optional field refusing coercion (`false` or `"hot"` is no temperature)."""
    return Field(default=None, strict=True, **constraints)


class InvocationParams(StrictModel):
    """The parameters a model call is made with (OpenAI's names; litellm maps them)."""

    temperature: float | None = _strict(ge=0, le=2)
    top_p: float | None = _strict(ge=0, le=1)
    max_tokens: int | None = _strict(ge=1, le=INT32_MAX)
    max_completion_tokens: int | None = _strict(ge=1, le=INT32_MAX)
    stop: list[str] | None = Field(default=None, max_length=16)
    seed: int | None = _strict(ge=INT64_MIN, le=INT64_MAX)
    presence_penalty: float | None = _strict(ge=-2, le=2)
    frequency_penalty: float | None = _strict(ge=-2, le=2)
    logit_bias: dict[str, int] | None = Field(default=None, max_length=1024)
    logprobs: bool | None = _strict()
    top_logprobs: int | None = _strict(ge=0, le=20)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = Field(default=None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = _strict()
    reasoning_effort: str | None = Field(default=None, pattern=r"^[a-z]{1,16}$")
    user: str | None = Field(default=None, max_length=256)

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("logit_bias")
    @classmethod
    def _check_logit_bias(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for token, bias in (value or {}).items():
            if not token.isdigit() or isinstance(bias, bool) or not -100 <= bias <= 100:
                raise ValueError("logit_bias maps token ids to integers from -100 to 100")
        return value

    @field_validator("response_format")
    @classmethod
    def _check_response_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        kind = value.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise ValueError("type must be one of 'text', 'json_object', 'json_schema'")
        if kind == "json_schema":
            spec = value.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ValueError("json_schema needs an object with a 'name'")
            if not isinstance(spec.get("schema"), dict):
                raise ValueError("json_schema needs a 'schema' object")
            check_json_schema(spec["schema"], "json_schema.schema")
        return value

    @field_validator("tools")
    @classmethod
    def _check_tools(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for i, tool in enumerate(value or []):
            fn = tool.get("function")
            if tool.get("type") != "function" or not isinstance(fn, dict):
                raise ValueError(f"tools[{i}] must be {{'type': 'function', 'function': {{...}}}}")
            if not isinstance(fn.get("name"), str) or not fn["name"]:
                raise ValueError(f"tools[{i}].function needs a 'name'")
            if "parameters" in fn:
                check_json_schema(fn["parameters"], f"tools[{i}].function.parameters")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _check_tool_choice(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if isinstance(value, str) and value not in _TOOL_CHOICES:
            raise ValueError("tool_choice must be 'none', 'auto', 'required' or a function")
        if isinstance(value, dict):
            fn = value.get("function")
            if value.get("type") != "function" or not isinstance(fn, dict):
                raise ValueError("tool_choice must be {'type': 'function', 'function': {...}}")
            if not isinstance(fn.get("name"), str):
                raise ValueError("tool_choice.function needs a 'name'")
        return value


def _problem(loc: tuple[str, ...], kind: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)


def _endpoint_problems(
    data: Mapping[str, Any], known: Collection[str], where: tuple[str, ...] = ()
) -> list[InitErrorDetails]:
    return [
        _problem((*where, key), "connection_required", _CONNECTION_HINT, value)
        for key, value in data.items()
        if key not in known and is_endpoint_or_credential(str(key))
    ]


class _NoEndpoints(StrictModel):
    """Refuses endpoint and credential keys with a message that points at connections."""

    @model_validator(mode="wrap")
    @classmethod
    def _no_endpoints(cls, data: Any, handler: Any) -> Any:
        if isinstance(data, Mapping):
            problems = _endpoint_problems(data, cls.model_fields)
            extra = data.get("extra")
            if isinstance(extra, Mapping):
                problems.extend(_endpoint_problems(extra, (), ("extra",)))
            problems.extend(cls._more_problems(data, bool(problems)))
            if problems:
                raise PydanticValidationError.from_exception_data(cls.__name__, problems)
        return handler(data)

    @classmethod
    def _more_problems(cls, data: Mapping[str, Any], found: bool) -> list[InitErrorDetails]:
        return []


class OfflineParams(_NoEndpoints):
    """Knobs of the offline models (evals/llm/offline.py); no other model reads them."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float | None = _strict(ge=0, le=600_000)
    input_tokens: int | None = _strict(ge=0, le=INT32_MAX)
    output_tokens: int | None = _strict(ge=0, le=INT32_MAX)
    fail_rate: float | None = _strict(ge=0, le=1)
    fail_times: int | None = _strict(ge=0, le=1_000)
    fail_with: Literal["rate_limit", "server_error", "timeout", "auth"] | None = None
    script: dict[str, Any] | None = Field(default=None, max_length=1_000)
    default: Any = None


class LLMConfig(InvocationParams, _NoEndpoints):
    """The model settings a version runs with: model, connection, parameters, offline knobs."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, max_length=200)
    connection: str | None = Field(
        default=None,
        max_length=64,
        description="The connection (endpoint and key, managed by admins) the model is called "
        "through; default: the connection named like the model's provider prefix",
    )
    offline: OfflineParams | None = None

    @classmethod
    def _more_problems(cls, data: Mapping[str, Any], found: bool) -> list[InitErrorDetails]:
        if "extra" not in data or found:
            return []
        message = (
            "config.extra is gone: put model parameters at the top level of config, "
            "offline model knobs under `offline`, and endpoints and keys in a connection"
        )
        return [_problem(("extra",), "extra_removed", message, data["extra"])]

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL_RE.search(value):
            raise ValueError("model must not contain control characters")
        return value

    @field_validator("connection")
    @classmethod
    def _check_connection(cls, value: str | None) -> str | None:
        if value is not None and not CONNECTION_RE.fullmatch(value):
            raise ValueError("a connection name: up to 64 lowercase letters, digits, '.', '_', '-'")
        return value

    @model_validator(mode="after")
    def _offline_knobs_for_offline_models(self) -> LLMConfig:
        if self.offline is not None and self.model and not self.model.startswith(OFFLINE_PREFIX):
            raise ValueError("`offline` knobs apply to offline/* models only")
        return self

    def as_params(self) -> dict[str, Any]:
        """Return the config as a compact dict (unset fields dropped)."""
        return self.model_dump(exclude_none=True)
