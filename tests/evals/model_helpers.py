"""What the model client tests share: the messages, a recording `sleep`, a provider config."""

from __future__ import annotations

from typing import Any

from tests.evals.fake_openai import FakeOpenAI

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


def openai_config(
    server: FakeOpenAI, model: str = "openai/gpt-4o-mini", **fields: Any
) -> dict[str, Any]:
    """Return a config calling `model` on the fake OpenAI-compatible server."""
    extra = {"api_base": server.base_url, "api_key": "sk-test-not-a-real-key"}
    return {"model": model, "temperature": 0.0, "extra": extra, **fields}
