"""What the model client tests share: the messages, a recording `sleep`, a provider config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evals.connections.resolver import ResolvedConnection, StaticConnections
from evals.llm.client import ModelClient
from evals.scorers.context import JudgePrompt
from promptlane_client.hashing import content_hash, version_content
from tests.evals.fake_openai import FakeOpenAI

TEST_KEY = "sk-test-not-a-real-key"

MESSAGES = [
    {"role": "system", "content": "You triage tickets."},
    {"role": "user", "content": "my card was charged twice"},
]


class Sleeps:
    """A `sleep` that records the backoff delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def connection(
    server: FakeOpenAI, *, name: str = "openai", key: str | None = TEST_KEY, **fields: Any
) -> ResolvedConnection:
    """Return an `openai` connection to the fake OpenAI-compatible server."""
    return ResolvedConnection(name, "openai", server.base_url, key, **fields)


def connections(server: FakeOpenAI, **options: Any) -> StaticConnections:
    """Return the connections of a model client calling the fake server (`openai`)."""
    return StaticConnections([connection(server, **options)])


def openai_config(model: str = "openai/gpt-4o-mini", **fields: Any) -> dict[str, Any]:
    """Return a config calling `model` through the connection named `openai`."""
    return {"model": model, "temperature": 0.0, **fields}


class ModelClients:
    """Builds model clients and closes them all (their HTTP pools) after the test."""

    def __init__(self) -> None:
        self.made: list[ModelClient] = []

    def __call__(self, **options: Any) -> ModelClient:
        """Return a new ModelClient built with `options`."""
        model = ModelClient(**options)
        self.made.append(model)
        return model


def scripted_judge(rubric: JudgePrompt, name: str, offline: Mapping[str, Any]) -> JudgePrompt:
    """Return a built-in rubric as the managed judge prompt `name` (version 2) whose config
    scripts `offline/scripted` with `offline` (its `script` and `default` answers)."""
    messages = [dict(m) for m in rubric.messages]
    config = {"model": "offline/scripted", "offline": dict(offline)}
    content = version_content(
        kind="chat",
        template=None,
        messages=messages,
        template_format="mustache",
        variables_schema=None,
        config=config,
    )
    return JudgePrompt(
        name=name,
        version=2,
        content_hash=content_hash(content),
        kind="chat",
        messages=tuple(messages),
        config=config,
    )
