"""Streamed gateway calls: the provider's chunks forwarded as OpenAI SSE events as they arrive.

The stream is opened (and retried) before the response starts, so a provider that refuses
the call still yields a proper HTTP error. Once chunks flow, a failure becomes an OpenAI
`error` event and the stream ends without `[DONE]`. Usage is always requested from the
provider (tokens and cost are recorded either way) and forwarded only when the client asked
for it with `stream_options.include_usage`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from evals.errors import ModelCallError
from evals.gateway.calls import PreparedCall
from evals.llm import http as openai_http
from evals.llm.client import (
    Completion,
    ModelClient,
    call_error,
    ensure_litellm,
    error_type,
    provider_of,
)
from evals.llm.failures import redact_error
from evals.llm.params import secret_of
from tracing.genai import ChatCall, start_chat_call
from tracing.telemetry import Telemetry, span_ids

DONE: Final = b"data: [DONE]\n\n"


def sse(payload: Mapping[str, Any]) -> bytes:
    """Return one server-sent event carrying `payload` as JSON."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _cost(model: str, usage: Mapping[str, Any]) -> float | None:
    """Price the call from litellm's price map (looked up once per model, not per call)."""
    return openai_http.cost(
        model,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        loader=ensure_litellm,
    )


def _is_usage_only(data: Mapping[str, Any]) -> bool:
    choices = data.get("choices") or []
    return all(not c.get("delta") and not c.get("finish_reason") for c in choices)


@dataclass
class ChatStream:
    """An opened streamed call: iterate `events()`, then read `outcome`."""

    call: PreparedCall
    chunks: AsyncIterator[Any]
    chat: ChatCall
    timeout: float
    attempts: int
    started: float = field(default_factory=time.monotonic)
    secret: str | None = field(default=None, repr=False)  # redacted from error text
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    outcome: Completion | ModelCallError | None = None

    @property
    def duration_ms(self) -> float:
        """Return the time since the call started, in milliseconds."""
        return (time.monotonic() - self.started) * 1000.0

    async def events(self, *, include_usage: bool) -> AsyncGenerator[bytes]:
        """Yield the call's SSE events, then `[DONE]` (or an error event); end the span."""
        ended = False  # the provider's stream ended (the client may still go away later)
        try:
            while True:
                try:
                    async with asyncio.timeout(self.timeout):
                        chunk = await anext(self.chunks)
                except StopAsyncIteration:
                    break
                data = self._take(chunk)
                if "usage" in data and not include_usage:
                    if _is_usage_only(data):
                        continue
                    del data["usage"]
                elif "usage" in data and _is_usage_only(data):
                    data["choices"] = []
                yield sse(data)
            ended = True
        except Exception as exc:
            error = redact_error(call_error(self.call.model, exc), self.secret)
            self._fail(error)
            yield sse({"error": {"message": error.detail, "type": "server_error"}})
            return
        finally:
            if not ended and self.outcome is None:  # the client went away mid-stream
                self._fail(ModelCallError(f"{self.call.model}: the client closed the stream"))
        self._finish()
        yield DONE

    def _take(self, chunk: Any) -> dict[str, Any]:
        # The provider's own JSON on the direct path (forwarded as sent), else litellm's chunk.
        data: dict[str, Any] = (
            chunk if isinstance(chunk, dict) else chunk.model_dump(exclude_none=True)
        )
        self.ids.setdefault("id", data.get("id"))  # the provider's, for the chat span
        self.ids.setdefault("model", data.get("model"))
        data["id"] = self.call.response_id  # the caller sees the gateway's id (tracing/dedupe.py)
        for choice in data.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                self.parts.append(content)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if data.get("usage"):
            self.usage = data["usage"]
        return data

    def _finish(self) -> None:
        usage, model = self.usage, self.call.model
        trace_id, span_id = span_ids(self.chat.span)
        completion = Completion(
            text="".join(self.parts),
            model=model,
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            cost_usd=_cost(model, usage) if usage else None,
            latency_ms=self.duration_ms,
            finish_reason=self.finish_reason,
            attempts=self.attempts,
            raw={"id": self.ids.get("id"), "model": model},
            trace_id=trace_id,
            span_id=span_id,
        )
        self.chat.finish(completion)
        self.chat.span.end()
        self.outcome = completion

    def _fail(self, error: ModelCallError) -> None:
        error.trace_id, error.span_id = span_ids(self.chat.span)
        self.chat.fail(error_type(error), error.detail)
        self.chat.span.end()
        self.outcome = error


async def open_chat_stream(
    client: ModelClient,
    call: PreparedCall,
    *,
    telemetry: Telemetry,
) -> ChatStream:
    """Open a streamed call inside its `chat` span; raise ModelCallError if it cannot open."""
    chat = start_chat_call(
        telemetry,
        provider=provider_of(call.model),
        model=call.model,
        config=call.config,
        messages=call.messages,
        prompt=call.prompt,
    )
    started = time.monotonic()
    try:
        chunks, attempts, way = await client.open_stream(messages=call.messages, config=call.config)
    except ModelCallError as exc:
        exc.trace_id, exc.span_id = span_ids(chat.span)
        chat.fail(error_type(exc), exc.detail)
        chat.span.end()
        raise
    except BaseException:
        chat.span.end()
        raise
    return ChatStream(
        call, aiter(chunks), chat, client.timeout, attempts, started=started, secret=secret_of(way)
    )
