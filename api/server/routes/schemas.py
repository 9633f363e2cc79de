"""The JSON Schemas of prompt, dataset and suite files (no authentication: editors fetch them)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.server.file_schemas import render

router = APIRouter(prefix="/v1/schemas", tags=["schemas"])

SchemaName = Literal["prompt-file", "dataset-file", "suite-file"]


@router.get(
    "/{name}.json",
    response_class=Response,
    responses={200: {"content": {"application/schema+json": {}}}},
)
async def get_file_schema(
    name: Annotated[SchemaName, Path(description="Which file's schema")],
) -> Response:
    """Return the JSON Schema of a prompt, dataset or suite file, for editors and CI checks."""
    return Response(render(name), media_type="application/schema+json")
