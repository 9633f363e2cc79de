"""The OpenAI chat completion request as the gateway reads it, and the model reference syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evals.errors import InvalidGatewayRequestError
from promptlane_client.params import PARAM_NAMES
from prompts.config import InvocationParams
from prompts.schemas import LABEL_RE, name_problem

PREFIX: Final = "promptlane/"
_VERSION_RE: Final = re.compile(r"[1-9][0-9]{0,8}")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


class GatewayOptions(BaseModel):
    """promptlane's own body field: `{"promptlane": {"variables": {...}}}`."""

    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict)


class StreamOptions(BaseModel):
    """OpenAI's `stream_options`."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(default=False, strict=True)


class ChatCompletionRequest(InvocationParams):
    """An OpenAI chat completion request; fields the gateway does not know are ignored.

    The model parameters are typed and strict (`"stream": "yes"` or `temperature: false` is a
    400, not a guess). Unknown fields are dropped, never passed on, so a client can never set
    litellm's `api_base` or `api_key` (where a call goes is the connection's business).
    """

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=300)
    messages: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    stream: bool = Field(default=False, strict=True)
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, ge=1, le=1, strict=True, description="Only 1 is supported")
    variables: dict[str, Any] | None = None
    promptlane: GatewayOptions | None = None

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if _CONTROL_RE.search(value):
            raise ValueError("model must not contain control characters")
        return value

    def prompt_variables(self) -> dict[str, Any]:
        """Return the variables: `promptlane.variables` over top-level `variables`."""
        out = dict(self.variables or {})
        if self.promptlane is not None:
            out.update(self.promptlane.variables)
        return out

    def overrides(self) -> dict[str, Any]:
        """Return the request's model parameters that override the version's config."""
        return self.model_dump(include=set(PARAM_NAMES), exclude_none=True, exclude_unset=True)

    @property
    def include_usage(self) -> bool:
        """Say whether the client asked for usage in the last streamed chunk."""
        return self.stream_options is not None and self.stream_options.include_usage


@dataclass(frozen=True, slots=True)
class PromptReference:
    """A prompt named in `model`: `promptlane/<name>[@<label> | :<version>]`."""

    name: str
    label: str | None = None
    version: int | None = None


def parse_model(model: str) -> PromptReference | None:
    """Return the prompt `model` refers to, or None for a plain model (proxied as is)."""
    if not model.startswith(PREFIX):
        return None
    rest = model[len(PREFIX) :]
    name, label, version = rest, None, None
    if "@" in rest:
        name, _, label = rest.rpartition("@")
        if not LABEL_RE.fullmatch(label):
            raise InvalidGatewayRequestError(f"invalid label {label!r} in {model!r}", param="model")
    elif ":" in rest:
        name, _, number = rest.rpartition(":")
        if not _VERSION_RE.fullmatch(number):
            raise InvalidGatewayRequestError(
                f"invalid version {number!r} in {model!r}: a number from 1", param="model"
            )
        version = int(number)
    problem = name_problem(name)
    if problem is not None:
        raise InvalidGatewayRequestError(
            f"{problem}; use promptlane/<name>@<label> or promptlane/<name>:<version>",
            param="model",
        )
    return PromptReference(name, label, version)
