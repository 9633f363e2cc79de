"""Traces: OTLP/HTTP ingest (every span stored, GenAI spans as generations), list and tree."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.server.deps import AppServices, Reader, ReadSession, Writer
from api.server.ingest import max_export_bytes, receive
from api.server.params import INT_MAX
from tracing import ingest, otlp
from tracing.traces import queries
from tracing.traces.schemas import TracePage, TraceRead

router = APIRouter(tags=["traces"])

_PAYLOAD = {"schema": {"type": "string", "format": "binary"}}
_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "An OTLP ExportTraceServiceRequest; `Content-Encoding: gzip` allowed",
        "content": {"application/x-protobuf": _PAYLOAD, "application/json": {"schema": {}}},
    }
}


@router.post(
    "/v1/traces",
    response_class=Response,
    openapi_extra=_BODY,
    responses={
        200: {
            "description": "An ExportTraceServiceResponse, encoded like the request "
            "(partial_success counts the spans the database refused)",
            "content": {"application/x-protobuf": _PAYLOAD, "application/json": {}},
        },
        400: {"description": "The payload, its gzip or a span id is malformed; nothing stored"},
        413: {"description": "The body, or what it inflates to, is over the size limit"},
        415: {"description": "Not application/x-protobuf or application/json, or not gzip"},
    },
)
async def export_traces(request: Request, services: AppServices, actor: Writer) -> Response:
    """Receive OTLP/HTTP spans (protobuf or JSON, gzip allowed); model calls become generations."""
    otlp.encoding_of(request.headers.get("content-type"))  # 415 before reading the body
    encoding, batch = await asyncio.to_thread(
        ingest.decode_batch,
        await request.body(),
        content_type=request.headers.get("content-type"),
        content_encoding=request.headers.get("content-encoding"),
        max_bytes=max_export_bytes(services.settings),
    )
    result = await receive(services, batch)
    return Response(
        otlp.encode_response(encoding, ingest.export_response(result)),
        media_type=otlp.RESPONSE_MEDIA_TYPES[encoding],
    )


@router.get("/v1/traces")
async def list_traces(
    session: ReadSession,
    actor: Reader,
    service: Annotated[str | None, Query(max_length=200, description="A span's service")] = None,
    prompt: Annotated[str | None, Query(max_length=200, description="A call's prompt")] = None,
    errors: Annotated[
        bool | None, Query(description="Only traces with (true) or without errors")
    ] = None,
    start: Annotated[datetime | None, Query(description="ISO 8601; default end - 7 days")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601; default now")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> TracePage:
    """List ingested traces with a span in the range, newest first, with size, errors and cost."""
    return await queries.list_traces(
        session,
        start=start,
        end=end,
        service=service,
        prompt=prompt,
        errors=errors,
        limit=limit,
        offset=offset,
    )


@router.get("/v1/traces/{trace_id}")
async def read_trace(
    trace_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$", description="32 hex digits")],
    session: ReadSession,
    actor: Reader,
) -> TraceRead:
    """Return one trace as a tree of spans with its generations in place (no message content)."""
    return await queries.read_trace(session, trace_id)
