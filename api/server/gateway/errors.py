"""OpenAI's error shape for the gateway: `{"error": {message, type, param, code}}`.

Used by the gateway route and its fast path (api/server/fastpath.py), so the official `openai` SDK
raises its usual exceptions: 400 BadRequestError, 401 AuthenticationError, 403
PermissionDeniedError, 404 NotFoundError, 429 RateLimitError, 502/504 APIStatusError
(InternalServerError).
"""

from __future__ import annotations

import json
import logging
from typing import Final

from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.server.errors import DOMAIN_ERROR_ROOTS, status_for
from evals.errors import (
    GatewayModelNotFoundError,
    InvalidGatewayRequestError,
    ModelCallError,
    ModelConfigurationError,
    ModelTimeoutError,
)
from evals.llm.failures import provider_status
from promptlane_client.errors import RenderBudgetError, RenderError

log = logging.getLogger("promptlane.gateway")

_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
_CODES: Final = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def openai_error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> Response:
    """Render `{"error": {message, type, param, code}}` with `status`."""
    body = {
        "error": {
            "message": message,
            "type": _TYPES.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            ),
            "param": param,
            "code": code or _CODES.get(status),
        }
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _model_call_status(exc: ModelCallError) -> int:
    if isinstance(exc, ModelTimeoutError):
        return 504
    if isinstance(exc, ModelConfigurationError):
        return 400  # the model cannot be called as configured; retrying cannot help
    status = provider_status(exc)
    if status == 429:
        return 429
    if status in (400, 404, 413, 422):
        return 400  # the provider refused the request itself (bad parameter, unknown model)
    return 502


def _validation(exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = ".".join(loc) or None
    message = str(first.get("msg", "invalid request body"))
    return openai_error(400, f"{param}: {message}" if param else message, param=param)


def error_response(exc: Exception) -> Response:
    """Return the OpenAI-shaped error response for an exception raised by the route."""
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, ModelCallError):
        status = _model_call_status(exc)
        code = "timeout" if status == 504 else None
        if isinstance(exc, ModelConfigurationError):
            code = "model_not_configured"
        return openai_error(status, exc.detail, code=code)
    if isinstance(exc, DOMAIN_ERROR_ROOTS):
        status = status_for(type(exc)) or 500
        if status == 422:
            status = 400
        param = exc.param if isinstance(exc, InvalidGatewayRequestError) else None
        if isinstance(exc, GatewayModelNotFoundError):
            param = "model"
        code = None
        if isinstance(exc, RenderBudgetError):  # the prompt's template, not the variables
            code = f"render_budget_{exc.limit}"
        elif isinstance(exc, RenderError):
            param, code = "promptlane.variables", "invalid_variables"
        return openai_error(status, str(getattr(exc, "detail", exc)), param=param, code=code)
    if isinstance(exc, StarletteHTTPException):
        return openai_error(exc.status_code, str(exc.detail))
    log.exception("unhandled error in the gateway", exc_info=exc)
    return openai_error(500, "internal error; see the server log")
