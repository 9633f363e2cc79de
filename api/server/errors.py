"""API errors, the table mapping every domain error to an HTTP status, and problem JSON.

    ApiError
    ├── InvalidRequestError      422  parameters that contradict each other
    └── PayloadTooLargeError     413

Identity's errors (api/identity/errors.py) map to 401, 403, 404 and 409; the renderer's
(promptlane_client.errors.TemplateError and below: a bad template, bad variables, a render
over budget) to 422.

Every 4xx/5xx body is RFC 9457 problem JSON (`application/problem+json`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.identity.errors import (
    ApiKeyExistsError,
    ApiKeyNotFoundError,
    AuthenticationError,
    IdentityError,
    LastAdminKeyError,
    PermissionDeniedError,
)
from evals.errors import (
    ConnectionConflictError,
    ConnectionExistsError,
    ConnectionNotFoundError,
    DatasetArchivedError,
    DatasetNotFoundError,
    DeliveryNotFoundError,
    EvalsError,
    ForceNotAllowedError,
    ForceReasonMissingError,
    GateFailedError,
    GatewayModelNotFoundError,
    IncidentNotFoundError,
    IncidentStateError,
    InvalidConnectionError,
    InvalidDatasetError,
    InvalidGatewayRequestError,
    InvalidMonitorError,
    InvalidOnlineEvaluationError,
    InvalidPolicyError,
    InvalidSuiteError,
    InvalidWebhookEndpointError,
    LeaseLostError,
    ModelCallError,
    ModelConfigurationError,
    ModelTimeoutError,
    MonitorExistsError,
    MonitorNotFoundError,
    OnlineEvaluationNotFoundError,
    PolicyNotFoundError,
    RunNotFoundError,
    RunStateError,
    RunStoppedError,
    ScorerError,
    SuiteArchivedError,
    SuiteNotFoundError,
    WebhookEndpointExistsError,
    WebhookEndpointNotFoundError,
)
from promptlane_client.errors import (
    FieldProblem,
    InvalidTemplateError,
    RenderError,
    TemplateError,
)
from prompts.errors import (
    ArchiveStateError,
    InvalidPromptError,
    LabelMoveDeniedError,
    LabelNotFoundError,
    LabelProtectedError,
    PromptArchivedError,
    PromptExistsError,
    PromptNotFoundError,
    PromptsError,
    VersionNotFoundError,
)
from tracing.errors import (
    DecompressedTooLargeError,
    GenerationNotFoundError,
    InvalidPayloadError,
    InvalidTimeRangeError,
    TraceNotFoundError,
    TracingError,
    UnsupportedMediaTypeError,
)

log = logging.getLogger("promptlane.api")

PROBLEM_JSON: Final = "application/problem+json"


class ApiError(Exception):
    """Root of the API layer's own errors."""

    title = "API error"

    def __init__(self, detail: str, *, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class InvalidRequestError(ApiError):
    """The request's parameters contradict each other."""

    title = "Invalid request"


class PayloadTooLargeError(ApiError):
    """The request body is over the size limit."""

    title = "Payload too large"


STATUS_BY_ERROR: Final[Mapping[type[Exception], int]] = {
    PromptNotFoundError: 404,
    PromptArchivedError: 404,
    ArchiveStateError: 409,
    VersionNotFoundError: 404,
    LabelNotFoundError: 404,
    PromptExistsError: 409,
    InvalidPromptError: 422,
    InvalidTemplateError: 422,
    RenderError: 422,
    LabelProtectedError: 403,
    LabelMoveDeniedError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    InvalidRequestError: 422,
    PayloadTooLargeError: 413,
    ApiKeyNotFoundError: 404,
    ApiKeyExistsError: 409,
    LastAdminKeyError: 409,
    DatasetNotFoundError: 404,
    DatasetArchivedError: 404,
    SuiteNotFoundError: 404,
    SuiteArchivedError: 404,
    RunNotFoundError: 404,
    PolicyNotFoundError: 404,
    OnlineEvaluationNotFoundError: 404,
    ConnectionNotFoundError: 404,
    GatewayModelNotFoundError: 404,
    ConnectionExistsError: 409,
    ConnectionConflictError: 409,
    InvalidConnectionError: 422,
    WebhookEndpointNotFoundError: 404,
    WebhookEndpointExistsError: 409,
    InvalidWebhookEndpointError: 422,
    MonitorNotFoundError: 404,
    MonitorExistsError: 409,
    InvalidMonitorError: 422,
    IncidentNotFoundError: 404,
    IncidentStateError: 409,
    DeliveryNotFoundError: 404,
    InvalidDatasetError: 422,
    InvalidSuiteError: 422,
    InvalidPolicyError: 422,
    InvalidOnlineEvaluationError: 422,
    InvalidGatewayRequestError: 400,
    RunStateError: 409,
    RunStoppedError: 422,
    LeaseLostError: 409,
    ModelCallError: 502,
    ModelTimeoutError: 504,
    ModelConfigurationError: 422,
    ScorerError: 422,
    GateFailedError: 409,
    ForceNotAllowedError: 403,
    ForceReasonMissingError: 422,
    InvalidTimeRangeError: 422,
    TraceNotFoundError: 404,
    GenerationNotFoundError: 404,
    InvalidPayloadError: 400,
    DecompressedTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
}

DOMAIN_ERROR_ROOTS: Final[tuple[type[Exception], ...]] = (
    PromptsError,
    TemplateError,  # the renderer's, in the client package: server and client share it
    EvalsError,
    TracingError,
    ApiError,
    IdentityError,
)


def status_for(error: type[Exception]) -> int | None:
    """Return the HTTP status for a domain error class, looked up along its MRO."""
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return None


def problem_type(error: type[Exception]) -> str:
    """Return the stable problem type URI of a domain error class."""
    words = re.sub(r"(?<!^)(?=[A-Z])", "-", error.__name__.removesuffix("Error")).lower()
    return f"urn:promptlane:problem:{words}"


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    errors: Iterable[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """Render an RFC 9457 problem document (`extensions` are extra top-level members)."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    listed = list(errors)
    if listed:
        body["errors"] = listed
    body.update(extensions or {})
    return Response(
        json.dumps(body, ensure_ascii=False, default=str).encode(),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _domain_error(request: Request, exc: Exception) -> Response:
    status = status_for(type(exc)) or 500
    if status == 500:
        log.error("unmapped domain error %s", type(exc).__name__, exc_info=exc)
    problems: Sequence[FieldProblem] = getattr(exc, "errors", ())
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(
        status,
        title=getattr(exc, "title", None),
        detail=getattr(exc, "detail", str(exc)),
        type_=problem_type(type(exc)),
        errors=[{"pointer": p.pointer, "detail": p.detail} for p in problems],
        headers=headers,
        extensions=getattr(exc, "extensions", None),
    )


def _validation_problem(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [str(part) for part in error.get("loc", ())]
    out: dict[str, Any] = {"detail": error.get("msg", "invalid"), "type": error.get("type")}
    if loc and loc[0] == "body":
        out["pointer"] = "#/" + "/".join(loc[1:])
    elif loc:
        out["in"], out["parameter"] = loc[0], ".".join(loc[1:])
    return out


def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_validation_problem(e) for e in exc.errors()]
    first = problems[0] if problems else {}
    where = first.get("pointer") or first.get("parameter") or "request"
    return problem_response(
        422,
        title="Invalid request",
        detail=f"{where}: {first.get('detail', 'invalid')}" if problems else None,
        type_="urn:promptlane:problem:validation",
        errors=problems,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = None
    return problem_response(exc.status_code, detail=detail, headers=exc.headers)


def _integrity_error(request: Request, exc: Exception) -> Response:
    log.info("integrity error: %s", exc)
    return problem_response(
        409,
        title="Conflict",
        detail="the change conflicts with existing data; retry",
        type_="urn:promptlane:problem:conflict",
    )


def _operational_error(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", exc)
    return problem_response(
        503,
        detail="the database is busy or unavailable; retry",
        type_="urn:promptlane:problem:database-unavailable",
        headers={"Retry-After": "1"},
    )


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, detail="internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as problem JSON."""
    for root in DOMAIN_ERROR_ROOTS:
        app.add_exception_handler(root, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _unexpected)
