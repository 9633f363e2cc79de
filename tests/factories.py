"""Plain typed factories with keyword overrides."""

from __future__ import annotations

from typing import Any

from prompts.schemas import VersionCreate


def text_version(**overrides: Any) -> VersionCreate:
    """Return a text version body."""
    body: dict[str, Any] = {
        "template": "Summarise for {{audience}}: {{text}}",
        "config": {"model": "openai/gpt-4o-mini", "temperature": 0.2},
        "message": "text version",
    }
    body.update(overrides)
    return VersionCreate.model_validate(body)


def chat_version(**overrides: Any) -> VersionCreate:
    """Return a chat version body."""
    body: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": "You triage tickets for {{company}}."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": {"model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 64},
        "message": "chat version",
    }
    body.update(overrides)
    return VersionCreate.model_validate(body)


def chat_body(**overrides: Any) -> dict[str, Any]:
    """Return a chat version as a JSON request body."""
    return chat_version(**overrides).model_dump(mode="json", exclude_none=True)
