"""The OpenAPI document: problem+json responses on every operation, and body helpers.

FastAPI documents a JSON `HTTPValidationError` for 422 and nothing for the other errors;
promptlane answers every 4xx/5xx with RFC 9457 problem JSON (api/server/errors.py), so `document`
rewrites the generated document to say so: each operation declares the problem statuses it can
answer with, under `application/problem+json`, referencing one `Problem` schema. The gateway
route keeps the OpenAI error shape it declares itself. An operation that needs an API key
lists the role it needs in its security requirement (api/server/deps.py); `document` says so in
its description too, which Swagger UI and ReDoc show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from evals.promotion.reports import GateReport

PROBLEM_JSON: Final = "application/problem+json"
# What any authenticated operation may answer besides its own successes.
PROBLEM_STATUSES: Final = {
    "400": "The body could not be parsed",
    "401": "No valid API key",
    "403": "The key's role does not allow this",
    "404": "Not found",
    "409": "Conflicts with the current state (a refused promotion carries its gate report)",
    "413": "The body is over the size limit",
    "422": "Invalid request: `errors` point at each bad field",
    "503": "The database is busy or unavailable; retry",
}
# Routes that answer in another error shape (the OpenAI-compatible gateway).
_OWN_ERROR_SHAPE: Final = frozenset({"/v1/chat/completions", "/v1/models", "/v1/models/{model}"})


class ProblemField(BaseModel):
    """One field-level problem."""

    model_config = ConfigDict(extra="allow")

    detail: str
    pointer: str | None = Field(default=None, description="JSON pointer into the body")


class Problem(BaseModel):
    """An RFC 9457 problem document; extra members (such as `gate`) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A stable URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemField] | None = None


class GateRefusal(Problem):
    """A label move the promotion gate refused (409): the problem and the gate's report."""

    gate: GateReport = Field(description="Which pinned suites passed on this content, and why not")


# What a route answers besides the generic problems, for `responses=` in its decorator.
GATE_REFUSED: Final[dict[int | str, dict[str, Any]]] = {
    409: {"model": GateRefusal, "description": "The promotion gate refused the move: see `gate`"}
}
_REF: Final = "#/components/schemas/{}"
_SCHEME: Final = "apiKey"  # the bearer scheme's name (api/server/deps.py)
_OWN_PROBLEMS: Final = [{"$ref": _REF.format(model.__name__)} for model in (GateRefusal,)]


def inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON schema with its `$defs` inlined (they are not OpenAPI components)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined


def _problem_components(components: dict[str, Any]) -> None:
    schemas = components.setdefault("schemas", {})
    for model in (ProblemField, Problem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _problem_responses(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in PROBLEM_STATUSES.items():
        existing = responses.get(status, {})
        # A route may declare a richer problem for a status (`responses=GATE_REFUSED`):
        # FastAPI files it under application/json; it is problem JSON all the same.
        declared = existing.get("content", {}).get("application/json", {}).get("schema")
        schema = declared if declared in _OWN_PROBLEMS else {"$ref": _REF.format("Problem")}
        responses[status] = {
            "description": existing.get("description") or description,
            "content": {PROBLEM_JSON: {"schema": schema}},
        }


def _drop_generated_422(operation: dict[str, Any]) -> None:
    # These routes answer a body that does not validate with an OpenAI-shaped 400, so FastAPI's
    # generated 422 does not apply (and its schema, removed above, would be a dangling $ref).
    responses = operation.get("responses", {})
    content = responses.get("422", {}).get("content", {})
    if content.get("application/json", {}).get("schema") == {
        "$ref": _REF.format("HTTPValidationError")
    }:
        del responses["422"]


def _say_role(operation: dict[str, Any]) -> None:
    roles = [
        role
        for requirement in operation.get("security", [])
        for role in requirement.get(_SCHEME, [])
    ]
    if not roles:
        return
    needs = f"Needs a **{roles[0]}** key" + ("." if roles[0] == "admin" else " or higher.")
    described = operation.get("description")
    operation["description"] = f"{described}\n\n{needs}" if described else needs


def document(app: FastAPI) -> dict[str, Any]:
    """Return the app's OpenAPI document with its problem responses declared."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    _problem_components(spec.setdefault("components", {}))
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            _say_role(operation)
            if path in _OWN_ERROR_SHAPE:
                _drop_generated_422(operation)
            else:
                _problem_responses(operation)
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    """Serve `document` as the app's OpenAPI document."""
    generate: Callable[[], dict[str, Any]] = lambda: document(app)  # noqa: E731
    app.openapi = generate  # type: ignore[method-assign]
