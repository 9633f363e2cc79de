"""promptlane's Python client: cached prompts rendered by promptlane's own renderer.

Entry points: `Client` / `AsyncClient` (`get_prompt`), `Prompt` (`render`, `to_openai`,
`to_langchain`, `link`), `linked` / `PromptlaneSpanProcessor` (link the spans of a block to a
prompt version), and `promptlane_client.render`, the one renderer the server uses too.
"""

from typing import TYPE_CHECKING, Any

from promptlane_client.client import Client
from promptlane_client.errors import (
    APIError,
    ConnectionFailedError,
    InvalidTemplateError,
    InvalidVariablesError,
    MissingVariablesError,
    PatternTimeoutError,
    PromptlaneError,
    PromptUnavailableError,
    RenderBudgetError,
    RenderError,
    SnapshotError,
    TemplateError,
)
from promptlane_client.http import DEFAULT_URL, prompt_path
from promptlane_client.prompt import Prompt
from promptlane_client.render import Rendered

if TYPE_CHECKING:
    from promptlane_client.aio import AsyncClient
    from promptlane_client.otel import PromptlaneSpanProcessor, linked

__all__ = [
    "DEFAULT_URL",
    "APIError",
    "AsyncClient",
    "Client",
    "ConnectionFailedError",
    "InvalidTemplateError",
    "InvalidVariablesError",
    "MissingVariablesError",
    "PatternTimeoutError",
    "Prompt",
    "PromptUnavailableError",
    "PromptlaneError",
    "PromptlaneSpanProcessor",
    "RenderBudgetError",
    "RenderError",
    "Rendered",
    "SnapshotError",
    "TemplateError",
    "linked",
    "prompt_path",
]


def __getattr__(name: str) -> Any:
    # AsyncClient is imported on first use: asyncio is a third of the package's import time,
    # and a synchronous application never needs it.
    if name == "AsyncClient":
        from promptlane_client.aio import AsyncClient

        return AsyncClient
    if name in ("linked", "PromptlaneSpanProcessor"):  # OpenTelemetry only when used
        from promptlane_client import otel

        return getattr(otel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
