"""The OpenAI chat completion request as the gateway reads it, and the model reference syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from evals.errors import InvalidGatewayRequestError
from prompts.schemas import LABEL_RE, name_problem

PREFIX: Final = "promptlane/"
_VERSION_RE: Final = re.compile(r"[1-9][0-9]{0,8}")

# Request fields that override the version's config (the request wins). Top-level LLMConfig
# fields replace the config's; the others go to its `extra` (litellm passes them on).
CONFIG_FIELDS: Final = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "response_format",
        "tools",
        "tool_choice",
    }
)
EXTRA_FIELDS: Final = frozenset(
    {
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "parallel_tool_calls",
        "reasoning_effort",
        "user",
    }
)


class GatewayOptions(BaseModel):
    """promptlane's own body field: `{"promptlane": {"variables": {...}}}`."""

    model_config = ConfigDict(extra="forbid")

    variables: dict[str, Any] = Field(default_factory=dict)


class StreamOptions(BaseModel):
    """OpenAI's `stream_options`."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat completion request; fields the gateway does not know are ignored.

    Unknown fields are dropped rather than passed on, so a client can never set litellm's
    `api_base` or `api_key` (the server's credentials would follow them).
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=300)
    messages: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, ge=1, le=1, description="Only 1 is supported")
    variables: dict[str, Any] | None = None
    promptlane: GatewayOptions | None = None

    def prompt_variables(self) -> dict[str, Any]:
        """Return the variables: `promptlane.variables` over top-level `variables`."""
        out = dict(self.variables or {})
        if self.promptlane is not None:
            out.update(self.promptlane.variables)
        return out

    def overrides(self) -> dict[str, Any]:
        """Return the request's model parameters that override the version's config."""
        values = self.model_dump(exclude_none=True, exclude_unset=True)
        return {k: v for k, v in values.items() if k in CONFIG_FIELDS or k in EXTRA_FIELDS}

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
