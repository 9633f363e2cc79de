"""GenAI client spans and metrics for one model call (OTel GenAI semantic conventions)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from tracing import semconv
from tracing.telemetry import PromptRef, Telemetry, mark_error


class CompletionLike(Protocol):
    """What a finished model call reports (evals' `Completion` fits)."""

    @property
    def text(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def finish_reason(self) -> str | None: ...
    @property
    def raw(self) -> dict[str, Any] | None: ...


def request_attributes(
    *, provider: str, model: str, config: Mapping[str, Any]
) -> dict[str, AttributeValue]:
    """Return a chat span's request attributes from an LLM config."""
    out: dict[str, AttributeValue] = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OPERATION_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: provider,
        semconv.GEN_AI_REQUEST_MODEL: model,
    }
    for param, attribute in semconv.REQUEST_PARAMS.items():
        value = config.get(param)
        if isinstance(value, str) and param == "stop":
            value = [value]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        is_strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if is_number or is_strings:
            out[attribute] = value
    return out


def _input_messages(messages: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(
        [
            {"role": m.get("role"), "parts": [{"type": "text", "content": m.get("content")}]}
            for m in messages
        ]
    )


@dataclass
class ChatCall:
    """An open model-call span; `finish` or `fail` it exactly once."""

    telemetry: Telemetry
    span: Span
    model: str
    prompt: PromptRef | None
    started: float = field(default_factory=time.monotonic)

    def _labels(self) -> tuple[str, str, str, str]:
        metrics, p = self.telemetry.metrics, self.prompt
        if p is None:
            return metrics.prompt_labels(self.model, None, None, None)
        return metrics.prompt_labels(self.model, p.name, p.version, p.label)

    def finish(self, completion: CompletionLike) -> None:
        """Record the answer: response model, usage, finish reasons, cost (and content)."""
        span = self.span
        raw = completion.raw or {}
        span.set_attribute(semconv.GEN_AI_RESPONSE_MODEL, str(raw.get("model") or self.model))
        if raw.get("id"):
            span.set_attribute(semconv.GEN_AI_RESPONSE_ID, str(raw["id"]))
        span.set_attribute(semconv.GEN_AI_USAGE_INPUT_TOKENS, completion.input_tokens)
        span.set_attribute(semconv.GEN_AI_USAGE_OUTPUT_TOKENS, completion.output_tokens)
        if completion.finish_reason:
            span.set_attribute(semconv.GEN_AI_RESPONSE_FINISH_REASONS, [completion.finish_reason])
        if completion.cost_usd is not None:
            span.set_attribute(semconv.COST_USD, completion.cost_usd)
        if self.telemetry.record_content:
            output = {
                "role": "assistant",
                "parts": [{"type": "text", "content": completion.text}],
                "finish_reason": completion.finish_reason,
            }
            span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, json.dumps([output]))
        self.telemetry.metrics.record_call(
            self._labels(),
            duration_s=time.monotonic() - self.started,
            input_tokens=completion.input_tokens,
            output_tokens=completion.output_tokens,
            cost_usd=completion.cost_usd,
            error_type=None,
        )

    def fail(self, error_type: str, description: str) -> None:
        """Record a call that ended without an answer."""
        mark_error(self.span, error_type, description)
        self.telemetry.metrics.record_call(
            self._labels(),
            duration_s=time.monotonic() - self.started,
            input_tokens=None,
            output_tokens=None,
            cost_usd=None,
            error_type=error_type,
        )


@contextmanager
def chat_call(
    telemetry: Telemetry,
    *,
    provider: str,
    model: str,
    config: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    prompt: PromptRef | None = None,
) -> Iterator[ChatCall]:
    """Open a `chat {model}` client span around one model call (retries included)."""
    attributes = request_attributes(provider=provider, model=model, config=config)
    if prompt is not None:
        attributes.update(prompt.attributes())
    if telemetry.record_content:
        attributes[semconv.GEN_AI_INPUT_MESSAGES] = _input_messages(messages)
    # Errors are recorded by `fail` with the caller's error type, not by the SDK.
    with telemetry.tracer.start_as_current_span(
        semconv.chat_span_name(model),
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield ChatCall(telemetry, span, model, prompt)


def start_chat_call(
    telemetry: Telemetry,
    *,
    provider: str,
    model: str,
    config: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    prompt: PromptRef | None = None,
) -> ChatCall:
    """Start a `chat {model}` span that is not made current; the caller ends `call.span`.

    For a call that outlives the scope that opened it (a stream forwarded chunk by chunk):
    a current span would be detached in another context than the one it was attached in.
    """
    attributes = request_attributes(provider=provider, model=model, config=config)
    if prompt is not None:
        attributes.update(prompt.attributes())
    if telemetry.record_content:
        attributes[semconv.GEN_AI_INPUT_MESSAGES] = _input_messages(messages)
    span = telemetry.tracer.start_span(
        semconv.chat_span_name(model),
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    return ChatCall(telemetry, span, model, prompt)
