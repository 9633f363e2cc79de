"""Dataset routes. Names may contain '/', so suffix routes are declared first."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from api.server.deps import Reader, ReadSession, Writer, WriteSession
from api.server.openapi import inline_defs
from api.server.params import INT_MAX, NAME_PATTERN
from api.server.routes.archiving import add_archive_routes
from evals.datasets import curation, service
from evals.schemas import (
    CurationCreate,
    CurationResult,
    DatasetDiffRead,
    DatasetItemIn,
    DatasetRead,
    DatasetVersionCreate,
    DatasetVersionRead,
)
from prompts.schemas import Page

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
add_archive_routes(
    router, kind="dataset", use="new suites and runs", setter=service.set_dataset_archived
)

Name = Annotated[
    str,
    Path(
        description="Dataset name; '/' separates folders",
        max_length=200,
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="Items to skip")]
ItemLimit = Annotated[
    int | None, Query(ge=1, le=1_000_000, description="Items to return (default: all of them)")
]

MEDIA_TYPES: Final[dict[str, service.Format]] = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/csv": "csv",
}


_ITEM = inline_defs(DatasetItemIn.model_json_schema())
_ROWS = {"type": "string", "description": "One item per row; `?message=` sets the message"}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        inline_defs(DatasetVersionCreate.model_json_schema()),
                        {"type": "array", "items": _ITEM, "minItems": 1},
                    ]
                }
            },
            "application/x-ndjson": {"schema": _ROWS},
            "text/csv": {"schema": _ROWS},
        },
    }
}


def _format(request: Request, given: service.Format | None) -> service.Format:
    if given is not None:
        return given
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    found = MEDIA_TYPES.get(media)
    if found is None:
        raise HTTPException(
            415,
            f"send application/json, application/x-ndjson or text/csv, not {media or 'nothing'}"
            " (or name the format with ?format=)",
        )
    return found


@router.post(
    "/{name:path}/versions/from-generations",
    status_code=201,
    responses={200: {"description": "Nothing was added (or a dry run); no version was made"}},
)
async def add_from_generations(
    name: Name, body: CurationCreate, response: Response, session: WriteSession, actor: Writer
) -> CurationResult:
    """Add recorded calls as items: a new version of the current items plus theirs."""
    result = await curation.add_from_generations(
        session, name=name, selection=body, author=actor.name
    )
    response.status_code = 201 if result.created else 200
    if result.created:
        response.headers["Location"] = f"/v1/datasets/{name}/versions/{result.version}"
    return result


@router.post(
    "/{name:path}/versions",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        200: {"description": "Identical items exist; that version is returned"},
        415: {"description": "The body is not JSON, JSONL or CSV"},
    },
)
async def publish_dataset_version(
    name: Name,
    request: Request,
    response: Response,
    session: WriteSession,
    actor: Writer,
    message: Annotated[str, Query(max_length=2_000, description="Commit message")] = "",
    description: Annotated[
        str | None, Query(max_length=2_000, description="Replaces the dataset's description")
    ] = None,
    fmt: Annotated[
        service.Format | None, Query(alias="format", description="Overrides the Content-Type")
    ] = None,
) -> DatasetVersionRead:
    """Publish an immutable version from JSON, JSONL or CSV items; identical items are 200."""
    fmt = _format(request, fmt)
    version, created = await service.publish_dataset_file(
        session,
        name=name,
        data=await request.body(),
        fmt=fmt,
        author=actor.name,
        message=message,
        description=description,
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/datasets/{name}/versions/{version.version}"
    return version


@router.get("")
async def list_datasets(
    session: ReadSession,
    actor: Reader,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in name or description")
    ] = None,
    archived: Annotated[bool, Query(description="List archived ones instead")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DatasetRead]:
    """List datasets in use (or archived ones) by name with their latest version."""
    return await service.list_datasets(
        session, query=q, archived=archived, limit=limit, offset=offset
    )


@router.get("/{name:path}/versions")
async def list_dataset_versions(
    name: Name, session: ReadSession, actor: Reader, limit: Limit = 50, offset: Offset = 0
) -> Page[DatasetVersionRead]:
    """List a dataset's versions, newest first, without their items."""
    return await service.list_dataset_versions(session, name=name, limit=limit, offset=offset)


@router.get("/{name:path}/versions/{version:int}")
async def get_dataset_version(
    name: Name,
    version: Annotated[int, Path(ge=1, le=INT_MAX)],
    session: ReadSession,
    actor: Reader,
    items: Annotated[bool, Query(description="Include the items")] = True,
    limit: ItemLimit = None,
    offset: Offset = 0,
) -> DatasetVersionRead:
    """Return one version with its items (all of them, or a page with `limit` and `offset`)."""
    return await service.get_dataset_version(
        session, name=name, version=version, with_items=items, item_limit=limit, item_offset=offset
    )


@router.get("/{name:path}/diff")
async def diff_dataset_versions(
    name: Name,
    session: ReadSession,
    actor: Reader,
    from_: Annotated[int, Query(alias="from", ge=1, le=INT_MAX)],
    to: Annotated[int, Query(ge=1, le=INT_MAX)],
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="Items listed per kind of change")
    ] = 100,
) -> DatasetDiffRead:
    """Compare two versions item by item (matched by metadata.id, else by position)."""
    return await service.diff_dataset_versions(
        session, name=name, from_version=from_, to_version=to, limit=limit
    )


@router.get("/{name:path}")
async def get_dataset(
    name: Name,
    session: ReadSession,
    actor: Reader,
    items: Annotated[bool, Query(description="Include the items")] = False,
    limit: ItemLimit = None,
    offset: Offset = 0,
) -> DatasetVersionRead:
    """Return a dataset's current version, with its items if asked (archived: 404)."""
    return await service.get_dataset_version(
        session, name=name, with_items=items, item_limit=limit, item_offset=offset
    )
