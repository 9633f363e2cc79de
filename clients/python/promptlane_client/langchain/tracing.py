"""A LangChain callback handler that traces each model call as an OTel GenAI client span.

The span carries the model, tokens, finish reasons and the promptlane prompt (name, version,
label, content hash) that fed the call: a template from `Prompt.to_langchain()` runs with
that identity in its metadata, and the handler links it to the model calls of the same chain
(or reads it from the model run's own metadata). With the OTel SDK exporting to promptlane's
`POST /v1/traces`, every call becomes a generation of that prompt version, without the
gateway. Needs langchain-core and opentelemetry-api (the `langchain` extra; imported here,
not by `promptlane_client`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, LLMResult
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from promptlane_client import semconv

TRACER_NAME: Final = "promptlane.langchain"
OPERATION_TEXT: Final = "text_completion"
# LangChain's standard model metadata (`ls_*`) and invocation parameters → request attributes.
_REQUEST_PARAMS: Final = (
    ("ls_temperature", "temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("ls_max_tokens", "max_tokens", semconv.GEN_AI_REQUEST_MAX_TOKENS),
    ("ls_stop", "stop", semconv.GEN_AI_REQUEST_STOP_SEQUENCES),
    ("", "top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("", "seed", semconv.GEN_AI_REQUEST_SEED),
)
_MODEL_PARAMS: Final = ("model", "model_name", "model_id", "_type")


@dataclass
class _Run:
    """A chain run: its parent, and the promptlane prompt a template in it rendered."""

    parent: UUID | None
    prompt: dict[str, AttributeValue] | None = None


def prompt_attributes(metadata: Mapping[str, Any] | None) -> dict[str, AttributeValue] | None:
    """Return the promptlane.prompt.* entries of run metadata, or None if it has none."""
    if not metadata or semconv.PROMPT_NAME not in metadata:
        return None
    return {
        key: metadata[key]
        for key in semconv.PROMPT_ATTRIBUTES
        if isinstance(metadata.get(key), str | int)
    }


def request_attributes(
    operation: str,
    serialized: Mapping[str, Any] | None,
    metadata: Mapping[str, Any],
    params: Mapping[str, Any],
) -> dict[str, AttributeValue]:
    """Return a model call's request attributes from LangChain's metadata and parameters."""
    model = metadata.get("ls_model_name") or next(
        (params[k] for k in _MODEL_PARAMS if isinstance(params.get(k), str) and params[k]),
        (serialized or {}).get("name") or "unknown",
    )
    out: dict[str, AttributeValue] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_REQUEST_MODEL: str(model),
    }
    if metadata.get("ls_provider"):
        out[semconv.GEN_AI_PROVIDER_NAME] = str(metadata["ls_provider"])
    for meta_key, param, attribute in _REQUEST_PARAMS:
        value = metadata.get(meta_key) if meta_key else None
        value = params.get(param) if value is None else value
        if isinstance(value, str) and attribute == semconv.GEN_AI_REQUEST_STOP_SEQUENCES:
            value = [value]
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            out[attribute] = value
    return out


def _parts(messages: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(
        [
            {"role": m.get("role"), "parts": [{"type": "text", "content": m.get("content")}]}
            for m in messages
        ],
        default=str,
    )


def response_id_of(meta: Mapping[str, Any], llm_output: Mapping[str, Any]) -> str | None:
    """Return the provider's completion id: the message's, the result's, or the gateway's header.

    ChatOpenAI drops the id of a streamed answer; promptlane's gateway repeats it in a response
    header, which ChatOpenAI keeps in `response_metadata["headers"]` with
    `include_response_headers=True`. Without the id, a span of a gateway call is not known as
    the gateway generation's twin and the call is counted twice (tracing/dedupe.py).
    """
    for value in (meta.get("id"), llm_output.get("id")):
        if isinstance(value, str) and value:
            return value
    headers = meta.get("headers")
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if str(name).lower() == semconv.GATEWAY_RESPONSE_ID_HEADER and value:
                return str(value)
    return None


def response_attributes(response: LLMResult) -> dict[str, AttributeValue]:
    """Return usage, response model and finish reasons from a model's result."""
    out: dict[str, AttributeValue] = {}
    first = response.generations[0][0] if response.generations and response.generations[0] else None
    info = (first.generation_info or {}) if first is not None else {}
    llm_output = response.llm_output or {}
    usage: Mapping[str, Any] = {}
    meta: Mapping[str, Any] = {}
    if isinstance(first, ChatGeneration):
        usage = getattr(first.message, "usage_metadata", None) or {}  # set on AIMessage
        meta = first.message.response_metadata or {}
    legacy = llm_output.get("token_usage") or llm_output.get("usage") or {}
    tokens = (
        (usage.get("input_tokens"), usage.get("output_tokens"))
        if usage
        else (legacy.get("prompt_tokens"), legacy.get("completion_tokens"))
    )
    for attribute, value in zip(
        (semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.GEN_AI_USAGE_OUTPUT_TOKENS), tokens, strict=True
    ):
        if isinstance(value, int):
            out[attribute] = value
    model = meta.get("model_name") or meta.get("model") or llm_output.get("model_name")
    if model:
        out[semconv.GEN_AI_RESPONSE_MODEL] = str(model)
    response_id = response_id_of(meta, llm_output)
    if response_id:
        out[semconv.GEN_AI_RESPONSE_ID] = response_id
    reason = meta.get("finish_reason") or info.get("finish_reason")
    if reason:
        out[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [str(reason)]
    return out


def _output_messages(response: LLMResult) -> str:
    outputs = [
        {"role": "assistant", "content": g.text} for gens in response.generations[:1] for g in gens
    ]
    return _parts(outputs)


class PromptlaneCallbackHandler(BaseCallbackHandler):
    """Trace LangChain model calls as GenAI client spans linked to promptlane prompt versions.

    Pass it in `config={"callbacks": [handler]}` (or to the model). Spans go to
    `tracer_provider` (default: the global one) under the span that is current when the
    call starts. `record_content=True` also records input and output messages.
    """

    run_inline = True  # run in the caller's thread/task, so the current OTel span is the parent

    def __init__(
        self, tracer_provider: TracerProvider | None = None, *, record_content: bool = False
    ) -> None:
        super().__init__()
        self._tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)
        self._record_content = record_content
        self._runs: dict[UUID, _Run] = {}
        self._spans: dict[UUID, Span] = {}
        self._lock = threading.Lock()

    # --- chains: remember which prompt each chain rendered -----------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Track the run; a promptlane template marks its parent chain with its prompt."""
        prompt = prompt_attributes(metadata)
        with self._lock:
            self._runs[run_id] = _Run(parent_run_id)
            parent = self._runs.get(parent_run_id) if parent_run_id else None
            if prompt is not None and parent is not None:
                parent.prompt = prompt

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Forget the run."""
        with self._lock:
            self._runs.pop(run_id, None)

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Forget the run."""
        with self._lock:
            self._runs.pop(run_id, None)

    def _prompt_for(
        self, parent_run_id: UUID | None, metadata: Mapping[str, Any] | None
    ) -> dict[str, AttributeValue] | None:
        own = prompt_attributes(metadata)
        if own is not None:
            return own
        with self._lock:
            run = self._runs.get(parent_run_id) if parent_run_id else None
            while run is not None:
                if run.prompt is not None:
                    return run.prompt
                run = self._runs.get(run.parent) if run.parent else None
        return None

    # --- model calls: one span each -----------------------------------------------------

    def _start(
        self,
        operation: str,
        serialized: dict[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
        kwargs: Mapping[str, Any],
    ) -> Span:
        params = kwargs.get("invocation_params") or {}
        attributes = request_attributes(operation, serialized, metadata or {}, params)
        attributes.update(self._prompt_for(parent_run_id, metadata) or {})
        name = f"{operation} {attributes[semconv.GEN_AI_REQUEST_MODEL]!s}"
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        with self._lock:
            self._spans[run_id] = span
        return span

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open the call's span."""
        span = self._start(
            semconv.OPERATION_CHAT, serialized, run_id, parent_run_id, metadata, kwargs
        )
        if self._record_content and messages:
            sent = convert_to_openai_messages(messages[0])
            span.set_attribute(semconv.GEN_AI_INPUT_MESSAGES, _parts(sent))

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open the span of a (non-chat) LLM call."""
        span = self._start(OPERATION_TEXT, serialized, run_id, parent_run_id, metadata, kwargs)
        if self._record_content and prompts:
            span.set_attribute(
                semconv.GEN_AI_INPUT_MESSAGES, _parts([{"role": "user", "content": prompts[0]}])
            )

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Record usage, response model and finish reasons; end the span."""
        with self._lock:
            span = self._spans.pop(run_id, None)
        if span is None:
            return
        span.set_attributes(response_attributes(response))
        if self._record_content:
            span.set_attribute(semconv.GEN_AI_OUTPUT_MESSAGES, _output_messages(response))
        span.end()

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Mark the span failed (error.type = the exception's class); end it."""
        with self._lock:
            span = self._spans.pop(run_id, None)
        if span is None:
            return
        span.set_attribute(semconv.ERROR_TYPE, type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, str(error)[:500]))
        span.record_exception(error)
        span.end()
