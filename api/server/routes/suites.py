"""Suite routes: push a suite (YAML or JSON) and read its versions."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.server.deps import Reader, ReadSession, Writer, WriteSession
from api.server.openapi import inline_defs
from api.server.params import INT_MAX, NAME_PATTERN
from api.server.routes.archiving import add_archive_routes
from evals import suites as service
from evals.errors import InvalidSuiteError
from evals.schemas import SuiteRead, SuiteSpec, SuiteVersionRead
from prompts.schemas import Page

router = APIRouter(prefix="/v1/suites", tags=["suites"])
add_archive_routes(router, kind="suite", use="new runs", setter=service.set_suite_archived)

Name = Annotated[
    str,
    Path(
        description="Suite name; '/' separates folders",
        max_length=200,
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
]

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": inline_defs(SuiteSpec.model_json_schema())},
        },
    }
}


@router.post(
    "",
    status_code=201,
    openapi_extra=_BODY,
    responses={200: {"description": "Identical content exists; that version is returned"}},
)
async def push_suite(
    request: Request, response: Response, session: WriteSession, actor: Writer
) -> SuiteVersionRead:
    """Store a suite version from its YAML or JSON form; identical content is 200."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise InvalidSuiteError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidSuiteError("a suite must be a JSON object")
        spec = service.validate_suite(raw)
    else:
        spec = service.parse_suite(body)
    stored, created = await service.publish_suite(session, spec=spec, author=actor.name)
    if not created:
        response.status_code = 200
    return stored


@router.get("")
async def list_suites(
    session: ReadSession,
    actor: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    archived: Annotated[bool, Query(description="List archived ones instead")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Page[SuiteRead]:
    """List suites in use (or archived ones) with their newest version."""
    return await service.list_suites(
        session, query=q, archived=archived, limit=limit, offset=offset
    )


@router.get("/{name:path}/versions")
async def list_suite_versions(
    name: Name, session: ReadSession, actor: Reader
) -> list[SuiteVersionRead]:
    """List every version of a suite, newest first."""
    return await service.list_suite_versions(session, name=name)


@router.get("/{name:path}/versions/{version}")
async def get_suite_version(
    name: Name, version: Annotated[int, Path(ge=1, le=INT_MAX)], session: ReadSession, actor: Reader
) -> SuiteVersionRead:
    """Return one version of a suite."""
    return await service.read_suite_version(session, name=name, version=version)


@router.get("/{name:path}")
async def get_suite(name: Name, session: ReadSession, actor: Reader) -> SuiteVersionRead:
    """Return a suite's current version (archived: 404)."""
    return await service.read_suite_version(session, name=name)
