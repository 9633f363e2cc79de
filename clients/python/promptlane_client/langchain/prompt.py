"""`Prompt.to_langchain()`: a ChatPromptTemplate that renders through promptlane's renderer.

langchain-core's own mustache HTML-escapes values and blanks missing variables, and its
jinja2 is not our sandbox; so the template holds one message template that calls
`promptlane_client.render.render_prompt` for the whole prompt. Imported only when
`to_langchain()` is called, so the client needs langchain-core only for it (the `langchain`
extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.prompts import BaseChatPromptTemplate, ChatPromptTemplate
from pydantic import ConfigDict

from promptlane_client.render import PromptContent, render_prompt, required_variables

if TYPE_CHECKING:
    from promptlane_client.prompt import Prompt

_MESSAGE_CLASSES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}


def to_message(message: dict[str, str]) -> BaseMessage:
    """Return the LangChain message for one rendered OpenAI-shaped message."""
    role, content = message["role"], message["content"]
    extra: dict[str, Any] = {"name": message["name"]} if "name" in message else {}
    cls = _MESSAGE_CLASSES.get(role)
    if cls is None:  # developer, tool: kept by role, as ChatOpenAI sends them
        return ChatMessage(role=role, content=content, **extra)
    return cls(content=content, **extra)


class PromptlaneMessagesTemplate(BaseChatPromptTemplate):
    """All of a promptlane prompt's messages, rendered at once by promptlane's renderer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    content: PromptContent

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Say no: the class is not in LangChain's serializable namespaces."""
        return False

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Render the prompt strictly (missing variables raise MissingVariablesError)."""
        variables = self._merge_partial_and_user_variables(**kwargs)
        return [to_message(m) for m in render_prompt(self.content, variables).messages]

    def pretty_repr(self, html: bool = False) -> str:
        """Return the message templates, one `role: template` block each."""
        content = self.content
        if content.kind == "text":
            return f"user: {content.template}"
        return "\n\n".join(f"{m.role}: {m.content}" for m in content.messages)


class PromptlaneChatPromptTemplate(ChatPromptTemplate):
    """A ChatPromptTemplate whose rendering equals promptlane's, errors included."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Say no: the class is not in LangChain's serializable namespaces."""
        return False

    def _validate_input(self, inner_input: Any) -> dict[str, Any]:
        # LangChain would raise its own KeyError for a missing variable before rendering;
        # leave that check to promptlane's renderer so the error is the server's.
        if isinstance(inner_input, dict):
            return inner_input
        validated: dict[str, Any] = super()._validate_input(inner_input)
        return validated


def chat_prompt_template(prompt: Prompt) -> PromptlaneChatPromptTemplate:
    """Return the LangChain template of a prompt, its identity in `metadata`."""
    required = required_variables(prompt.content)
    optional = [name for name in prompt.variables if name not in required]
    inner = PromptlaneMessagesTemplate(
        content=prompt.content, input_variables=required, optional_variables=optional
    )
    return PromptlaneChatPromptTemplate(
        messages=[inner],
        input_variables=required,
        optional_variables=optional,
        metadata=prompt.metadata,
    )
