"""OTLP/HTTP trace ingest: applications export spans here; GenAI spans become generations."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.server.deps import AppServices, Writer
from api.server.ingest import max_export_bytes, receive
from tracing import ingest, otlp

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
    """Receive OTLP/HTTP spans (protobuf or JSON, gzip allowed); GenAI spans become generations."""
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
