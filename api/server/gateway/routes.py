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

from api.server.deps import AppServices, Reader
from api.server.gateway.errors import error_response
from evals.gateway.schemas import ChatCompletionRequest


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
