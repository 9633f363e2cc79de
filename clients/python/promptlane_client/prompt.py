"""A resolved prompt version as an application holds it, rendered by promptlane's one renderer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

from promptlane_client import semconv
from promptlane_client.hashing import content_hash, version_content
from promptlane_client.params import PARAM_NAMES, call_config
from promptlane_client.render import (
    Message,
    PromptContent,
    Rendered,
    content_variables,
    messages_from_dicts,
    render_prompt,
)

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate

# The server's default label (prompts.service.DEFAULT_LABEL; a test keeps them equal).
DEFAULT_LABEL: Final = "production"


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt version: its identity, LLM config and templates, ready to render."""

    name: str
    version: int
    label: str | None
    content_hash: str
    config: dict[str, Any]
    content: PromptContent
    variables: tuple[str, ...] = ()
    is_fallback: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def kind(self) -> Literal["text", "chat"]:
        """Return "text" or "chat"."""
        return self.content.kind

    @property
    def template_format(self) -> str:
        """Return "mustache" or "jinja2"."""
        return self.content.template_format

    @classmethod
    def from_resolved(cls, body: Mapping[str, Any], *, label: str | None = None) -> Prompt:
        """Build a prompt from the resolve endpoint's JSON (`GET /v1/prompts/{name}`)."""
        content = PromptContent(
            kind=cast(Literal["text", "chat"], body["kind"]),
            template_format=cast(Literal["mustache", "jinja2"], body["template_format"]),
            template=body.get("template"),
            messages=messages_from_dicts(body.get("messages")),
            variables_schema=body.get("variables_schema"),
        )
        return cls(
            name=str(body["name"]),
            version=int(body["version"]),
            label=label,
            content_hash=str(body["content_hash"]),
            config=dict(body.get("config") or {}),
            content=content,
            variables=tuple(body.get("variables") or ()),
            raw=dict(body),
        )

    @classmethod
    def local(
        cls,
        name: str,
        source: str | Sequence[Mapping[str, Any]] | Mapping[str, Any],
        *,
        label: str | None = None,
        config: Mapping[str, Any] | None = None,
        template_format: Literal["mustache", "jinja2"] = "mustache",
    ) -> Prompt:
        """Build a fallback prompt (version 0) from a text template, messages or a version body.

        A version body is what `promptlane prompts push` reads: `template` or `messages`, plus
        optional `template_format`, `variables_schema` and `config`.
        """
        body: dict[str, Any]
        if isinstance(source, str):
            body = {"template": source}
        elif isinstance(source, Mapping):
            body = dict(source)
        else:
            body = {"messages": [dict(m) for m in source]}
        fmt = cast(Literal["mustache", "jinja2"], body.get("template_format", template_format))
        messages = body.get("messages")
        content = PromptContent(
            kind="chat" if messages is not None else "text",
            template_format=fmt,
            template=body.get("template"),
            messages=messages_from_dicts(messages),
            variables_schema=body.get("variables_schema"),
        )
        settings = dict(config if config is not None else body.get("config") or {})
        identity = version_content(
            kind=content.kind,
            template=content.template,
            messages=messages,
            template_format=fmt,
            variables_schema=body.get("variables_schema"),
            config=settings,
        )
        return cls(
            name=name,
            version=0,
            label=label,
            content_hash=content_hash(identity),
            config=settings,
            content=content,
            variables=tuple(content_variables(content)),
            is_fallback=True,
        )

    @property
    def messages(self) -> tuple[Message, ...]:
        """Return the chat message templates (empty for a text prompt)."""
        return self.content.messages

    @property
    def template(self) -> str | None:
        """Return the text template (None for a chat prompt)."""
        return self.content.template

    @property
    def metadata(self) -> dict[str, Any]:
        """Return the prompt's identity as span attributes / LangChain metadata."""
        meta: dict[str, Any] = {
            semconv.PROMPT_NAME: self.name,
            semconv.PROMPT_VERSION: self.version,
            semconv.PROMPT_CONTENT_HASH: self.content_hash,
        }
        if self.label is not None:
            meta[semconv.PROMPT_LABEL] = self.label
        return meta

    @property
    def ref(self) -> str:
        """Return the version's reference, `name@version` (OpenInference's template version)."""
        return f"{self.name}@{self.version}"

    def link(self) -> AbstractContextManager[None]:
        """Return a block linking the spans started inside it to this version.

        `with prompt.link():` is `with promptlane_client.linked(prompt):`; it needs
        OpenTelemetry and a `PromptlaneSpanProcessor` on the tracer provider.
        """
        from promptlane_client.otel import linked

        return linked(self)

    def render(self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Rendered:
        """Render into ready-to-send messages (and `.text` for text prompts).

        The result equals the server's render endpoint's; bad variables raise the same
        RenderError subclasses (MissingVariablesError, InvalidVariablesError), and output past
        the default render budget (1,000,000 characters) RenderBudgetError.
        """
        values = {**variables, **kwargs} if variables is not None else kwargs
        return render_prompt(self.content, values)

    def to_openai(
        self, variables: Mapping[str, Any] | None = None, /, **overrides: Any
    ) -> dict[str, Any]:
        """Return keyword arguments for openai's `chat.completions.create`.

        The config's model (its `openai/` prefix dropped) and invocation parameters come
        first, then the rendered messages, then `overrides` (an override of None removes the
        parameter). The config's `connection` (the server's) and `offline` knobs are not sent.
        """
        config = call_config(self.config)
        kwargs: dict[str, Any] = {}
        model = config.get("model")
        if model:
            kwargs["model"] = str(model).removeprefix("openai/")
        kwargs["messages"] = self.render(variables or {}).messages
        kwargs.update({k: v for k, v in sorted(config.items()) if k in PARAM_NAMES})
        for key, value in overrides.items():
            if value is None:
                kwargs.pop(key, None)
            else:
                kwargs[key] = value
        return kwargs

    def to_langchain(self) -> ChatPromptTemplate:
        """Return a langchain-core ChatPromptTemplate that renders through promptlane's renderer.

        Its output equals `render()` (strict variables, nothing HTML-escaped), and the prompt's
        name, version, label and content hash travel in the template's `metadata`.
        """
        from promptlane_client.langchain.prompt import chat_prompt_template

        return chat_prompt_template(self)


FallbackSource: TypeAlias = Prompt | str | Sequence[Mapping[str, Any]] | Mapping[str, Any]


def as_prompt(fallback: FallbackSource, *, name: str, label: str | None) -> Prompt:
    """Turn a caller's `fallback` (a Prompt, text, messages or a version body) into a Prompt."""
    if isinstance(fallback, Prompt):
        return fallback
    if isinstance(fallback, str | Mapping | Sequence):
        return Prompt.local(name, fallback, label=label)
    raise TypeError(
        "fallback must be a Prompt, a text template, a list of messages or a version body"
    )
