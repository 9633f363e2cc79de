"""The OpenAI-compatible gateway: a prompt reference becomes a rendered, configured model call.

`prepare_call` renders the referenced version with the request's variables (the one renderer,
within the server's render budget), appends the request's own messages after the rendered ones,
and lays the request's model parameters over the version's config (the request wins).
`complete_chat` makes the call through `ModelClient` and returns OpenAI's response body;
`open_chat_stream` opens a streamed call whose chunks are forwarded as they arrive
(evals/gateway/stream.py). Each call, answered or failed, becomes one generation row
(`generation_row`, source "gateway", built as a run's calls are: `evals.runs.generations`),
written in the background in batches (evals/gateway/writer.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from evals.errors import InvalidGatewayRequestError, ModelCallError
from evals.gateway.schemas import ChatCompletionRequest
from evals.llm.client import Completion, ModelClient
from evals.runs.generations import Call, generation
from promptlane_client.params import call_config
from promptlane_client.render import (
    DEFAULT_BUDGET,
    PromptContent,
    RenderBudget,
    messages_from_dicts,
)
from prompts.base import utc_now
from prompts.render_pool import render_prompt_async
from prompts.schemas import PromptVersionRead
from tracing import ingest, inserts
from tracing.dedupe import gateway_response_id
from tracing.inserts import Dropped
from tracing.models import Generation
from tracing.telemetry import PromptRef

SOURCE: Final = "gateway"
_ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """A model call ready to make: messages, merged config, the prompt it belongs to."""

    model: str
    messages: list[dict[str, Any]]
    config: dict[str, Any]
    prompt: PromptRef | None
    started_at: datetime
    parent: tuple[str, str] | None = None  # (trace id, span id) current when the call began
    # The `id` the caller gets back: the gateway's own, so an ingested client span that
    # records it (gen_ai.response.id) is recognised as this call's twin (tracing/dedupe.py).
    response_id: str = field(default_factory=gateway_response_id)


def _content(version: PromptVersionRead) -> PromptContent:
    return PromptContent(
        kind=version.kind,
        template_format=cast(Literal["mustache", "jinja2"], version.template_format),
        template=version.template,
        messages=messages_from_dicts(version.messages),
        variables_schema=version.variables_schema,
    )


def _check_messages(messages: Sequence[Mapping[str, Any]]) -> None:
    for i, message in enumerate(messages):
        if message.get("role") not in _ROLES:
            raise InvalidGatewayRequestError(
                f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}",
                param=f"messages[{i}].role",
            )


def merge_config(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Lay the request's parameters over a version's config (as calls read it); the request wins."""
    return {**call_config(base), **overrides}


async def prepare_call(
    request: ChatCompletionRequest,
    *,
    version: PromptVersionRead | None,
    label: str | None = None,
    parent: tuple[str, str] | None = None,
    connection: str | None = None,
    budget: RenderBudget = DEFAULT_BUDGET,
) -> PreparedCall:
    """Render the version (if any) within `budget`; append the request's messages; merge.

    A plain model (no version) goes through `connection`, the one an admin offers it through.
    """
    _check_messages(request.messages)
    started_at = utc_now()
    if version is None:
        if not request.messages:
            raise InvalidGatewayRequestError("messages must not be empty", param="messages")
        base = {"model": request.model, "connection": connection}
        config = merge_config(base, request.overrides())
        messages = list(request.messages)
        return PreparedCall(request.model, messages, config, None, started_at, parent)
    rendered = await render_prompt_async(_content(version), request.prompt_variables(), budget)
    config = merge_config(version.config, request.overrides())
    model = config.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidGatewayRequestError(
            f"prompt {version.name!r} version {version.version} has no model in its config",
            param="model",
        )
    prompt = PromptRef(version.name, version.version, label, version.content_hash)
    messages = [*rendered.messages, *request.messages]
    return PreparedCall(model, messages, config, prompt, started_at, parent)


async def complete_chat(
    client: ModelClient, call: PreparedCall
) -> tuple[dict[str, Any], Completion]:
    """Make the call; return OpenAI's chat completion body and the completion."""
    completion = await client.complete(
        messages=call.messages, config=call.config, prompt=call.prompt
    )
    return completion_body(completion, call.response_id), completion


def completion_body(completion: Completion, response_id: str) -> dict[str, Any]:
    """Return a completion in OpenAI's `chat.completion` shape, with the gateway's id."""
    raw = completion.raw or {}
    message: dict[str, Any] = {"role": "assistant", "content": completion.text}
    if raw.get("tool_calls"):
        message["content"] = None
        message["tool_calls"] = raw["tool_calls"]
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(raw.get("model") or completion.model),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": completion.finish_reason or "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": completion.input_tokens,
            "completion_tokens": completion.output_tokens,
            "total_tokens": completion.input_tokens + completion.output_tokens,
        },
    }


def generation_row(
    call: PreparedCall,
    outcome: Completion | ModelCallError,
    *,
    duration_ms: float,
    record_content: bool,
) -> dict[str, Any]:
    """Return the generation row of a gateway call that answered or failed."""
    made = Call(call.prompt, call.model, call.messages, call.started_at, call.parent)
    row = generation(
        SOURCE,
        made,
        outcome,
        duration_ms=duration_ms,
        record_content=record_content,
        attributes={},
    )
    answered = isinstance(outcome, Completion)
    return row._replace(response_id=call.response_id if answered else None).as_insert()


async def record_generations(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> tuple[list[Generation], list[Dropped]]:
    """Insert gateway generation rows (one INSERT); return those stored, and those dropped."""
    inserted = await inserts.insert_rows(session, rows)
    return ingest.loaded(inserted.stored), inserted.dropped
