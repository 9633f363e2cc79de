"""The gateway's server side: resolution through the prompt resolver, responses, generation rows.

No response waits for its generation: rows go to a `GenerationWriter`, which inserts them in
batches in the background and hands them to online evaluation; `stop` (the app's shutdown)
writes what is still queued.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Final

from fastapi.responses import Response, StreamingResponse

from api.bootstrap import litellm_ready
from api.db import Database
from api.server.cache import PromptResolver, ResolveKey
from evals.connections.resolver import NO_CONNECTIONS, ConnectionSource
from evals.errors import GatewayModelNotFoundError, ModelCallError
from evals.gateway import calls as gateway
from evals.gateway.schemas import ChatCompletionRequest, parse_model
from evals.gateway.stream import ChatStream, open_chat_stream
from evals.gateway.writer import FLUSH_INTERVAL, GenerationWriter
from evals.llm.client import Completion, ModelClient
from evals.online.evaluator import OnlineEvaluator
from evals.online.sampling import ContentGate
from promptlane_client.params import OFFLINE_PREFIX
from promptlane_client.render import DEFAULT_BUDGET, RenderBudget
from tracing.models import Generation
from tracing.semconv import GATEWAY_COST_HEADER, GATEWAY_RESPONSE_ID_HEADER
from tracing.telemetry import Telemetry, caller_context, current_ids

_STREAM_HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Gateway:
    """Serves `POST /v1/chat/completions` for one app (its cache, model client, evaluator)."""

    def __init__(
        self,
        *,
        db: Database,
        resolver: PromptResolver,
        model: ModelClient,
        telemetry: Telemetry,
        evaluator: OnlineEvaluator | None = None,
        flush_interval: float = FLUSH_INTERVAL,
        connections: ConnectionSource = NO_CONNECTIONS,
        offline_models: bool = True,
        render_budget: RenderBudget = DEFAULT_BUDGET,
        content: ContentGate | None = None,
    ) -> None:
        """Serve calls with these services; `content` decides whose messages are stored.

        By default those the evaluator samples (until scored), or all when telemetry records
        content.
        """
        self.db = db
        self.render_budget = render_budget
        self.resolver = resolver
        self.model = model
        self.telemetry = telemetry
        self.connections = connections
        self.offline_models = offline_models
        self.evaluator = evaluator
        self.content = content or ContentGate(
            evaluator.configs if evaluator else None, record_content=telemetry.record_content
        )
        self.writer = GenerationWriter(
            db.transaction,
            on_stored=self._submit,
            prepare=self.content.prepare,
            flush_interval=flush_interval,
            metrics=telemetry.metrics,
        )

    async def chat(
        self, request: ChatCompletionRequest, trace_headers: Mapping[str, str] | None = None
    ) -> Response:
        """Answer a chat completion request (streamed or not) and record the call.

        A caller's `traceparent` (in `trace_headers`) makes the call part of the caller's
        trace, whether or not this server exports spans.
        """
        if not trace_headers:
            return await self._chat(request)
        with caller_context(trace_headers):
            return await self._chat(request)

    async def _chat(self, request: ChatCompletionRequest) -> Response:
        ref = parse_model(request.model)
        version = label = connection = None
        if ref is not None:
            key = ResolveKey.of(ref.name, label=ref.label, version=ref.version)
            version = await self.resolver.version(key)  # shared with GET /v1/prompts/{name}
            label = key.label
        else:
            connection = await self.plain_model_connection(request.model)
        call = await gateway.prepare_call(
            request,
            version=version,
            label=label,
            parent=current_ids(),
            connection=connection,
            budget=self.render_budget,
        )
        await litellm_ready()
        started = time.monotonic()
        try:
            if request.stream:
                stream = await open_chat_stream(self.model, call, telemetry=self.telemetry)
                return StreamingResponse(
                    self._forward(stream, include_usage=request.include_usage),
                    media_type="text/event-stream",
                    headers={**_STREAM_HEADERS, GATEWAY_RESPONSE_ID_HEADER: call.response_id},
                )
            body, completion = await gateway.complete_chat(self.model, call)
        except ModelCallError as exc:
            self.record(call, exc, duration_ms=(time.monotonic() - started) * 1000.0)
            raise
        self.record(call, completion, duration_ms=(time.monotonic() - started) * 1000.0)
        headers = {GATEWAY_RESPONSE_ID_HEADER: call.response_id}  # as in the body
        if completion.cost_usd is not None:  # OpenAI's body has no place for it
            headers[GATEWAY_COST_HEADER] = repr(completion.cost_usd)
        return Response(json.dumps(body).encode(), media_type="application/json", headers=headers)

    async def plain_model_connection(self, model: str) -> str | None:
        """Return the connection a plain model is offered through (None: an offline model).

        Which plain models readers may call is an admin's decision: a connection's
        `gateway_models`, or the offline models unless PROMPTLANE_GATEWAY_OFFLINE_MODELS is off.
        """
        if self.offline_models and model.startswith(OFFLINE_PREFIX):
            return None
        found = await self.connections.for_gateway_model(model)
        if found is None:
            raise GatewayModelNotFoundError(
                f"model {model!r} is not available through this gateway: call a prompt "
                "(promptlane/<name>@<label>), or an admin offers the model through a "
                "connection's gateway models (`promptlane connections update <name> "
                "--gateway-model <model>`)"
            )
        return found.name

    async def _forward(self, stream: ChatStream, *, include_usage: bool) -> AsyncIterator[bytes]:
        events = stream.events(include_usage=include_usage)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()  # settles `outcome` when the client went away mid-stream
            if stream.outcome is not None:
                self.record(stream.call, stream.outcome, duration_ms=stream.duration_ms)

    def record(
        self,
        call: gateway.PreparedCall,
        outcome: Completion | ModelCallError,
        *,
        duration_ms: float,
    ) -> None:
        """Queue the call's generation (written in the background, then evaluated online).

        The row holds the messages and answer until the writer's `ContentGate` decides:
        kept when online evaluation samples the call (until it is scored) or content is
        recorded, else dropped before the INSERT.
        """
        row = gateway.generation_row(call, outcome, duration_ms=duration_ms, record_content=True)
        self.writer.add(row)

    async def _submit(self, stored: list[Generation]) -> None:
        if self.evaluator is not None:
            await self.evaluator.submit(stored)

    async def join(self) -> None:
        """Wait until every generation queued so far is written and handed on."""
        await self.writer.join()

    async def stop(self) -> None:
        """Write the queued generations, stop the writer, close the model client's pool."""
        await self.writer.stop()
        await self.model.aclose()
