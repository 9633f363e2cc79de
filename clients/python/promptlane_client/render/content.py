"""What a prompt version renders (its templates) and what rendering returns."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from promptlane_client.errors import InvalidTemplateError

TemplateFormat = Literal["mustache", "jinja2"]
TEMPLATE_FORMATS: Final = ("mustache", "jinja2")

_KEY_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")


@dataclass(frozen=True)
class Message:
    """One chat message template (or, after rendering, its text)."""

    role: str
    content: str
    name: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the OpenAI message shape."""
        out = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class PromptContent:
    """What a version renders: a text template or chat message templates."""

    kind: Literal["text", "chat"]
    template_format: TemplateFormat = "mustache"
    template: str | None = None
    messages: tuple[Message, ...] = ()
    variables_schema: Mapping[str, Any] | None = None

    def templates(self) -> list[str]:
        """Return every template string in rendering order."""
        if self.kind == "text":
            return [self.template or ""]
        return [m.content for m in self.messages]


@dataclass(frozen=True)
class Rendered:
    """A rendered prompt: ready-to-send messages, plus the text for text prompts."""

    messages: list[dict[str, str]]
    text: str | None = None
    variables: list[str] = field(default_factory=list)


def messages_from_dicts(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Message, ...]:
    """Build Message templates from stored dicts."""
    return tuple(Message(str(m["role"]), str(m["content"]), m.get("name")) for m in raw or ())


def check_key(key: str, *, nested: bool) -> str:
    """Return a template's variable name if it may be used (`.` only inside a section)."""
    if key == "." and nested:
        return key
    if not _KEY_RE.fullmatch(key):
        raise InvalidTemplateError(
            f"invalid variable name {{{{{key}}}}}: use letters, digits, '_' or '-', "
            "dot-separated, not starting with '_'"
        )
    return key
