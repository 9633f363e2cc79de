"""The LangChain callback handler: one GenAI client span per model call, linked to its prompt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_openai import ChatOpenAI
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import SecretStr

from promptlane_client import Prompt
from promptlane_client import semconv as client_semconv
from promptlane_client.langchain.tracing import PromptlaneCallbackHandler, response_attributes
from tests.client.fakes import version_body
from tests.evals.fake_openai import FakeOpenAI, Step
from tracing import otlp, semconv
from tracing.dedupe import mark_gateway_twins
from tracing.rows import generation_row

VARIABLES = {"who": "<Ada & co>"}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


@pytest.fixture
def handler(provider: TracerProvider) -> PromptlaneCallbackHandler:
    return PromptlaneCallbackHandler(provider)


@pytest.fixture
def prompt() -> Prompt:
    return Prompt.from_resolved(
        version_body("support/greet", 4, labels=("production",)), label="production"
    )


def answer(text: str = "hello", **metadata: Any) -> AIMessage:
    return AIMessage(
        content=text,
        usage_metadata={"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
        response_metadata={"model_name": "fake-model-2", "finish_reason": "stop", **metadata},
    )


def model(*replies: AIMessage) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies or [answer()]))


def chat_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]


def test_the_server_names_attributes_with_the_clients_names() -> None:
    names = [n for n in dir(client_semconv) if n.isupper() and n != "PROMPT_ATTRIBUTES"]
    assert len(names) >= 20
    for name in names:
        assert getattr(client_semconv, name) is getattr(semconv, name), name


def test_a_chain_call_is_a_genai_span_of_its_prompt_version(
    prompt: Prompt,
    handler: PromptlaneCallbackHandler,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    chain = prompt.to_langchain() | model()
    with provider.get_tracer("app").start_as_current_span("POST /greet") as request:
        assert chain.invoke(VARIABLES, config={"callbacks": [handler]}).content == "hello"
    (span,) = chat_spans(exporter)
    assert span.name == "chat generic-fake-chat-model"
    assert span.parent is not None
    assert span.parent.span_id == request.get_span_context().span_id
    assert dict(span.attributes or {}) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "genericfakechatmodel",
        semconv.GEN_AI_REQUEST_MODEL: "generic-fake-chat-model",
        semconv.GEN_AI_RESPONSE_MODEL: "fake-model-2",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 12,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 3,
        semconv.PROMPT_NAME: "support/greet",
        semconv.PROMPT_VERSION: 4,
        semconv.PROMPT_LABEL: "production",
        semconv.PROMPT_CONTENT_HASH: prompt.content_hash,
    }
    assert handler._runs == {}
    assert handler._spans == {}


async def test_async_chains_are_traced_the_same(
    prompt: Prompt, handler: PromptlaneCallbackHandler, exporter: InMemorySpanExporter
) -> None:
    chain = prompt.to_langchain() | model()
    await chain.ainvoke(VARIABLES, config={"callbacks": [handler]})
    (span,) = chat_spans(exporter)
    assert (span.attributes or {})[semconv.PROMPT_VERSION] == 4


def test_the_prompt_is_found_from_a_nested_model_call(
    prompt: Prompt, handler: PromptlaneCallbackHandler, exporter: InMemorySpanExporter
) -> None:
    chain = (
        prompt.to_langchain()
        | RunnableParallel(reply=model())
        | RunnableLambda(lambda out: out["reply"])
    )
    chain.invoke(VARIABLES, config={"callbacks": [handler]})
    (span,) = chat_spans(exporter)
    assert (span.attributes or {})[semconv.PROMPT_NAME] == "support/greet"


def test_a_model_called_on_its_own_takes_the_prompt_from_its_metadata(
    prompt: Prompt, handler: PromptlaneCallbackHandler, exporter: InMemorySpanExporter
) -> None:
    messages = prompt.to_langchain().invoke(VARIABLES)
    model().invoke(messages, config={"callbacks": [handler], "metadata": prompt.metadata})
    model().invoke("no prompt here", config={"callbacks": [handler]})
    linked, plain = chat_spans(exporter)
    assert (linked.attributes or {})[semconv.PROMPT_VERSION] == 4
    assert semconv.PROMPT_NAME not in (plain.attributes or {})
    assert (plain.attributes or {})[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12


def test_a_failed_call_is_an_error_span(
    prompt: Prompt, handler: PromptlaneCallbackHandler, exporter: InMemorySpanExporter
) -> None:
    chain = prompt.to_langchain() | GenericFakeChatModel(messages=iter([]))
    with pytest.raises(StopIteration):
        chain.invoke(VARIABLES, config={"callbacks": [handler]})
    (span,) = chat_spans(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "StopIteration"
    assert (span.attributes or {})[semconv.PROMPT_NAME] == "support/greet"
    assert handler._runs == {}
    assert handler._spans == {}


def test_content_is_recorded_only_when_asked(
    prompt: Prompt, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    chain = prompt.to_langchain() | model()
    chain.invoke(VARIABLES, config={"callbacks": [PromptlaneCallbackHandler(provider)]})
    handler = PromptlaneCallbackHandler(provider, record_content=True)
    chain = prompt.to_langchain() | model()
    chain.invoke(VARIABLES, config={"callbacks": [handler]})
    quiet, loud = chat_spans(exporter)
    assert semconv.GEN_AI_INPUT_MESSAGES not in (quiet.attributes or {})
    attributes = loud.attributes or {}
    sent = json.loads(str(attributes[semconv.GEN_AI_INPUT_MESSAGES]))
    rendered = prompt.render(VARIABLES).messages
    assert sent == [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in rendered
    ]
    received = json.loads(str(attributes[semconv.GEN_AI_OUTPUT_MESSAGES]))
    assert received == [{"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}]


def test_the_span_becomes_a_generation_of_the_prompt_version(
    prompt: Prompt, handler: PromptlaneCallbackHandler, exporter: InMemorySpanExporter
) -> None:
    (prompt.to_langchain() | model()).invoke(VARIABLES, config={"callbacks": [handler]})
    body = encode_spans(chat_spans(exporter)).SerializeToString()
    decoded = otlp.decode_request(
        body, content_type="application/x-protobuf", content_encoding=None, max_bytes=len(body)
    )
    (record,) = decoded.spans
    row = generation_row(record, created_at=datetime.now(UTC))
    assert row is not None
    assert (row["prompt_name"], row["prompt_version"], row["prompt_label"]) == (
        "support/greet",
        4,
        "production",
    )
    assert row["content_hash"] == prompt.content_hash
    assert (row["operation"], row["request_model"], row["response_model"]) == (
        "chat",
        "generic-fake-chat-model",
        "fake-model-2",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (12, 3)
    assert row["finish_reasons"] == ["stop"]
    assert row["is_error"] is False


GATEWAY_ID = "chatcmpl-promptlane-" + "a" * 32


def result(meta: dict[str, Any], llm_output: dict[str, Any] | None = None) -> LLMResult:
    message = AIMessage(content="hi", response_metadata=meta)
    return LLMResult(generations=[[ChatGeneration(message=message)]], llm_output=llm_output)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            result({"id": "chatcmpl-1", "headers": {"promptlane-response-id": GATEWAY_ID}}),
            "chatcmpl-1",
        ),
        (result({}, {"id": "chatcmpl-2"}), "chatcmpl-2"),
        # ChatOpenAI's streamed answer: no id, the gateway's header (include_response_headers)
        (
            result(
                {
                    "headers": {
                        "content-type": "text/event-stream",
                        "promptlane-response-id": GATEWAY_ID,
                    }
                }
            ),
            GATEWAY_ID,
        ),
        (result({"headers": {"Promptlane-Response-Id": GATEWAY_ID}}), GATEWAY_ID),
        (result({"id": "", "headers": {"x-request-id": "req_1"}}), None),
        (result({"headers": "not a mapping"}), None),
    ],
)
def test_the_response_id_comes_from_the_answer_or_the_gateways_header(
    response: LLMResult, expected: str | None
) -> None:
    assert response_attributes(response).get(semconv.GEN_AI_RESPONSE_ID) == expected


@pytest.fixture
def openai_stub() -> Iterator[FakeOpenAI]:
    stub = FakeOpenAI().start()
    yield stub
    stub.stop()


def test_a_streamed_chat_openai_call_through_the_gateway_is_its_twin(
    prompt: Prompt,
    handler: PromptlaneCallbackHandler,
    exporter: InMemorySpanExporter,
    openai_stub: FakeOpenAI,
) -> None:
    # The stub answers like the gateway: the id in a header (ChatOpenAI drops a stream's id).
    openai_stub.script(Step(text="hi there", headers={"Promptlane-Response-Id": GATEWAY_ID}))
    llm = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=openai_stub.base_url,
        api_key=SecretStr("sk-test"),
        max_retries=0,
        stream_usage=True,
        include_response_headers=True,
    )
    chain = prompt.to_langchain() | llm
    streamed = chain.stream(VARIABLES, config={"callbacks": [handler]})
    assert "".join(str(chunk.content) for chunk in streamed) == "hi there"
    body = encode_spans(chat_spans(exporter)).SerializeToString()
    decoded = otlp.decode_request(
        body, content_type="application/x-protobuf", content_encoding=None, max_bytes=len(body)
    )
    (row,) = [generation_row(r, created_at=datetime.now(UTC)) for r in decoded.spans]
    assert row is not None
    assert mark_gateway_twins([row]) == 1
    assert (row["response_id"], row["is_duplicate"]) == (GATEWAY_ID, True)
    assert (row["prompt_name"], row["prompt_version"]) == ("support/greet", 4)
    assert (row["input_tokens"], row["output_tokens"]) == (7, 3)
