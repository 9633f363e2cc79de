"""Link every model call inside a block of code to a prompt version, whatever traces it.

    provider.add_span_processor(PromptlaneSpanProcessor())   # once, at setup
    with promptlane_client.linked(prompt):                   # or `with prompt.link():`
        openai.chat.completions.create(**prompt.to_openai(variables))

`linked` puts the prompt's identity (`promptlane.prompt.name|version|label|content_hash`) in
the OpenTelemetry context as baggage; `PromptlaneSpanProcessor` stamps those attributes on
every span started inside the block that carries none of its own, so the span of any
instrumentation (OpenLLMetry, OpenInference, the GenAI instrumentations, a hand-made span)
is linked, and promptlane links the model calls below a stamped span too. Baggage also
travels to other services when the W3C baggage propagator is configured (the OTel default).
Needs opentelemetry-api and -sdk (the `otel` extra); `promptlane_client` does not import this
module until `linked` or `PromptlaneSpanProcessor` is used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

try:
    from opentelemetry import baggage, context
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
except ImportError as exc:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "promptlane_client.linked and PromptlaneSpanProcessor need OpenTelemetry: "
        "pip install 'promptlane-client[otel]' (opentelemetry-api and opentelemetry-sdk)"
    ) from exc

from promptlane_client import semconv

if TYPE_CHECKING:
    from promptlane_client.prompt import Prompt

__all__ = ["PromptlaneSpanProcessor", "linked"]


def _identity(prompt: Prompt | Mapping[str, Any]) -> dict[str, str]:
    metadata = prompt if isinstance(prompt, Mapping) else prompt.metadata
    return {
        key: str(metadata[key])
        for key in semconv.PROMPT_ATTRIBUTES
        if metadata.get(key) is not None
    }


@contextmanager
def linked(prompt: Prompt | Mapping[str, Any]) -> Iterator[None]:
    """Link the spans started inside the block to `prompt` (a Prompt or its `metadata`).

    A block inside another links to its own prompt; on exit the outer one applies again.
    """
    identity = _identity(prompt)
    if semconv.PROMPT_NAME not in identity:
        raise ValueError("linked() needs a prompt with a name (promptlane.prompt.name)")
    ctx = context.get_current()
    for key in semconv.PROMPT_ATTRIBUTES:  # nothing of an outer prompt may leak in
        ctx = baggage.remove_baggage(key, ctx)
    for key, value in identity.items():
        ctx = baggage.set_baggage(key, value, ctx)
    token = context.attach(ctx)
    try:
        yield
    finally:
        context.detach(token)


class PromptlaneSpanProcessor(SpanProcessor):
    """Stamp `promptlane.prompt.*` from a `linked()` block on each span started inside it.

    A span that already carries `promptlane.prompt.name` keeps its own link.
    """

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        """Copy the block's prompt identity from the baggage onto the starting span."""
        entries = baggage.get_all(parent_context)
        if semconv.PROMPT_NAME not in entries:
            return
        if span.attributes and semconv.PROMPT_NAME in span.attributes:
            return
        span.set_attributes(
            {key: str(entries[key]) for key in semconv.PROMPT_ATTRIBUTES if key in entries}
        )

    def on_end(self, span: ReadableSpan) -> None:
        """Do nothing: the attributes were set at the start."""

    def shutdown(self) -> None:
        """Do nothing: the processor holds no resources."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Return True: nothing is buffered."""
        return True
