"""OTLP/HTTP trace ingest: applications export spans here; GenAI spans become generations."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.server.deps import AppServices, Writer
from tracing import ingest, otlp

router = APIRouter(tags=["traces"])

# A gzip body may inflate to this many times the body size limit (OTLP compresses ~5-10x).
MAX_INFLATION: Final = 10

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
            "description": "An ExportTraceServiceResponse, encoded like the request",
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
        max_bytes=services.settings.max_body_bytes * MAX_INFLATION,
    )
    # Sampled rows keep the content their scorers read; the others only if content is recorded.
    await services.content.prepare(list(batch.rows.values()))
    # The route owns the transaction: online evaluation must only see committed generations.
    async with services.db.transaction() as session:
        result = await ingest.store_batch(session, batch)
    ingest.observe(services.metrics, result)
    if services.online_evaluator is not None:
        await services.online_evaluator.submit(result.generations)
    return Response(otlp.encode_response(encoding), media_type=otlp.RESPONSE_MEDIA_TYPES[encoding])
