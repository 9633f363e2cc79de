"""Connection requests and responses; a response never carries the key, only whether one is set."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from evals.connections.urls import URL_MAX, endpoint_url_problem
from promptlane_client.params import OFFLINE_PREFIX
from prompts.config import CONNECTION_RE

PROVIDER_RE: Final = CONNECTION_RE  # litellm provider names: openai, anthropic, together_ai
ENV_RE: Final = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
API_BASE_MAX: Final = URL_MAX
GATEWAY_MODELS_MAX: Final = 100
_API_KEY_RE: Final = re.compile(r"[\x21-\x7e]{1,4096}")  # one header value: no spaces, no CR/LF
_GATEWAY_MODEL_RE: Final = re.compile(r"[\x21-\x7e]{1,300}")
_RESERVED_MODEL_PREFIXES: Final = ("promptlane/", OFFLINE_PREFIX)
_TEXT_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SLUG_HELP: Final = (
    "up to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
)


def slug_problem(value: str, what: str) -> str | None:
    """Say what is wrong with a connection or provider name, or None."""
    if CONNECTION_RE.fullmatch(value):
        return None
    return f"invalid {what} {value!r}: {_SLUG_HELP}"


def api_base_problem(url: str) -> str | None:
    """Say what is wrong with an endpoint URL, or None (http/https, a host, nothing else)."""
    problem = endpoint_url_problem(url, "api_base")
    if problem == "api_base must not hold a user or password":
        return problem + ": give the key as the connection's key"
    return problem


def gateway_model_problem(model: str) -> str | None:
    """Say what is wrong with a model name readers may call through the gateway, or None."""
    if not _GATEWAY_MODEL_RE.fullmatch(model):
        return f"gateway model {model!r}: 1 to 300 printable ASCII characters, no spaces"
    if model.startswith(_RESERVED_MODEL_PREFIXES):
        return f"gateway model {model!r}: promptlane/ and offline/ models are not provider models"
    return None


def _check(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


def _api_key(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not _API_KEY_RE.fullmatch(value.get_secret_value()):
        # The message never repeats the value: it is a secret.
        raise ValueError("api_key must be 1 to 4096 printable ASCII characters without spaces")
    return value


def _env(value: str | None) -> str | None:
    if value is not None and not ENV_RE.fullmatch(value):
        raise ValueError("api_key_env must be an environment variable name such as OPENAI_API_KEY")
    return value


def _gateway_models(models: list[str]) -> list[str]:
    for model in models:
        _check(gateway_model_problem(model))
    if len(set(models)) != len(models):
        raise ValueError("gateway_models lists a model twice")
    return models


def _description(value: str) -> str:
    if _TEXT_CONTROL_RE.search(value):
        raise ValueError("description must not contain control characters")
    return value


class _ConnectionFields(BaseModel):
    """Fields shared by create and update, with their checks."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    provider: str | None = Field(default=None, max_length=64, description="litellm provider")
    api_base: str | None = Field(default=None, max_length=API_BASE_MAX)
    api_key: SecretStr | None = Field(default=None, description="Write-only: never returned")
    api_key_env: str | None = Field(
        default=None, max_length=128, description="A server environment variable (allow-listed)"
    )
    gateway_models: list[str] | None = Field(default=None, max_length=GATEWAY_MODELS_MAX)
    description: str | None = Field(default=None, max_length=2_000)

    @field_validator("provider")
    @classmethod
    def _check_provider(cls, value: str | None) -> str | None:
        _check(None if value is None else slug_problem(value, "provider"))
        return value

    @field_validator("api_base")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        _check(None if value is None else api_base_problem(value))
        return value

    @field_validator("api_key")
    @classmethod
    def _check_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        return _api_key(value)

    @field_validator("api_key_env")
    @classmethod
    def _check_env(cls, value: str | None) -> str | None:
        return _env(value)

    @field_validator("gateway_models")
    @classmethod
    def _check_gateway_models(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _gateway_models(value)

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str | None) -> str | None:
        return None if value is None else _description(value)

    @model_validator(mode="after")
    def _one_key_source(self) -> Any:
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give api_key or api_key_env, not both")
        return self


class ConnectionCreate(_ConnectionFields):
    """A new connection: its name, provider, endpoint and key (or the variable holding it)."""

    name: str = Field(max_length=64)
    provider: str = Field(max_length=64, description="litellm provider: openai, anthropic, ...")
    gateway_models: list[str] = Field(
        default_factory=list,
        max_length=GATEWAY_MODELS_MAX,
        description="Models readers may call as plain models through the gateway",
    )
    description: str = Field(default="", max_length=2_000)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        _check(slug_problem(value, "connection name"))
        return value


class ConnectionUpdate(_ConnectionFields):
    """A change: fields given replace the stored ones (null removes api_base or the key)."""

    @model_validator(mode="after")
    def _not_null(self) -> ConnectionUpdate:
        for name in ("provider", "gateway_models", "description"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ConnectionRead(BaseModel):
    """A connection as anyone with a key sees it: never the key, only whether one is set."""

    name: str
    provider: str
    api_base: str | None
    has_api_key: bool
    api_key_env: str | None
    gateway_models: list[str]
    description: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
