"""The OpenAI-compatible gateway route; its errors use OpenAI's shape, not problem JSON.

Errors are converted by the route class (an app-wide handler would change every route), with
api/server/gateway/errors.py. Requests whose key was verified recently are answered before
routing by the gateway fast path (api/server/fastpath.py); this route serves the rest (first use
of a key, a body that does not validate) and is the one in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from api.server.deps import AppServices, AppSettings, Reader, ReadSession
from api.server.gateway import models
from api.server.gateway.errors import error_response
from evals.errors import GatewayModelNotFoundError
from evals.gateway.schemas import ChatCompletionRequest

PROBLEM_REF = "#/components/schemas/Problem"


class OpenAIErrorRoute(APIRoute):
    """A route whose errors (auth and body validation included) are OpenAI-shaped."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler so any exception becomes an OpenAI error response."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)

        return handle


router = APIRouter(tags=["gateway"], route_class=OpenAIErrorRoute)


@router.post(
    "/v1/chat/completions",
    response_class=Response,
    responses={
        200: {
            "description": "An OpenAI chat.completion, or chat.completion.chunk SSE events",
            "content": {"application/json": {}, "text/event-stream": {}},
        },
        400: {"description": "Bad body, model reference or variables (OpenAI error shape)"},
        401: {"description": "No valid API key"},
        404: {"description": "Unknown prompt, version or label"},
        413: {"description": "The body is over the size limit (problem JSON)"},
        429: {"description": "The provider rate-limited the call"},
        502: {"description": "The provider failed"},
        504: {"description": "The provider timed out"},
    },
)
async def create_chat_completion(
    data: ChatCompletionRequest, request: Request, services: AppServices, actor: Reader
) -> Response:
    """Call a prompt by reference (`promptlane/<name>@<label>`) or a plain model, OpenAI-style."""
    return await services.gateway.chat(data, request.headers)


@router.get(
    "/v1/models",
    responses={401: {"description": "No valid API key (OpenAI error shape)"}},
)
async def list_models(
    session: ReadSession, actor: Reader, settings: AppSettings
) -> models.ModelList:
    """List what the gateway answers: prompt references, offline and connection models."""
    return await models.list_models(session, offline_models=settings.gateway_offline_models)


@router.get(
    "/v1/models/{model:path}",
    responses={
        401: {"description": "No valid API key (OpenAI error shape)"},
        404: {"description": "Not a model this gateway answers (OpenAI error shape)"},
        422: {
            "description": "A control character in the path (problem JSON, before routing)",
            "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}},
        },
    },
)
async def get_model(
    model: str, session: ReadSession, actor: Reader, settings: AppSettings
) -> models.ModelEntry:
    """Return one model of `GET /v1/models` (OpenAI's `models.retrieve`)."""
    listed = await models.list_models(session, offline_models=settings.gateway_offline_models)
    found = next((entry for entry in listed.data if entry.id == model), None)
    if found is None:
        raise GatewayModelNotFoundError(f"model {model!r} is not available through this gateway")
    return found
