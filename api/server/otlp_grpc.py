"""OTLP/gRPC trace receiver: `TraceService/Export` beside the HTTP server, ingesting like it.

Opt-in (`PROMPTLANE_OTLP_GRPC_ENABLED`, port `PROMPTLANE_OTLP_GRPC_PORT`, 4317 by default):
the app's lifespan starts it on the app's event loop and stops it before the database closes.
An export is authenticated like POST /v1/traces (a writer key in the `authorization` metadata),
limited like it (a message may hold what an HTTP body may inflate to), and stored through the
same path (api/server/ingest.py). Failures answer the gRPC code the OTLP specification pairs
with the HTTP status the route would send, so exporters retry exactly what they retry there.
https://opentelemetry.io/docs/specs/otlp/#otlpgrpc
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Final

import grpc
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from api.server.errors import status_for
from api.server.ingest import max_export_bytes, receive
from api.server.services import Services
from prompts.policy import Role
from tracing import ingest

log = logging.getLogger("promptlane")

SERVICE: Final = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
STOP_GRACE_SECONDS: Final = 5.0  # in-flight exports finish; an exporter retries the rest
_INTERNAL: Final = "internal error; see the server log"
# The HTTP status POST /v1/traces answers -> the gRPC code (none of them is retried).
_CODES: Final[Mapping[int, grpc.StatusCode]] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
}

Context = grpc.aio.ServicerContext[bytes, ExportTraceServiceResponse]


def status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """Return the gRPC code and message an export failing with `exc` answers."""
    if isinstance(exc, sa.exc.OperationalError):  # HTTP 503: retryable
        log.warning("database unavailable: %s", exc)
        return grpc.StatusCode.UNAVAILABLE, "the database is busy or unavailable; retry"
    if isinstance(exc, sa.exc.IntegrityError):  # HTTP 409: a race, retryable
        return grpc.StatusCode.ABORTED, "the export conflicts with existing data; retry"
    code = _CODES.get(status_for(type(exc)) or 500)
    if code is None:
        log.error("unhandled error on OTLP/gRPC export", exc_info=exc)
        return grpc.StatusCode.INTERNAL, _INTERNAL
    return code, str(getattr(exc, "detail", exc))


def authorization(context: Context) -> str | None:
    """Return the `authorization` metadata of a call (its first value), if sent."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            return value
    return None


class TraceReceiver:
    """The TraceService/Export handler: raw message bytes in, ExportTraceServiceResponse out.

    It takes the message undecoded (no request deserializer) so that a malformed one is
    refused with INVALID_ARGUMENT and the reason, as POST /v1/traces answers 400; gRPC's own
    deserializer would answer UNKNOWN. Decoding runs in a thread, off the event loop.
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    async def export(self, message: bytes, context: Context) -> ExportTraceServiceResponse:
        """Authenticate, decode and store one export request."""
        try:
            await self._services.auth.authorize(authorization(context), Role.WRITER)
            batch = await asyncio.to_thread(ingest.decode_message, message)
            result = await receive(self._services, batch)
        except Exception as exc:
            await context.abort(*status_of(exc))  # raises: gRPC answers the status
        return ingest.export_response(result)

    def handler(self) -> grpc.GenericRpcHandler:
        """Return the TraceService handler to register on a gRPC server."""
        export: grpc.RpcMethodHandler[bytes, ExportTraceServiceResponse]
        export = grpc.unary_unary_rpc_method_handler(
            self.export, response_serializer=ExportTraceServiceResponse.SerializeToString
        )
        return grpc.method_handlers_generic_handler(SERVICE, {"Export": export})


def address(host: str, port: int) -> str:
    """Return a gRPC bind address (IPv6 literals in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class OtlpGrpcServer:
    """The gRPC server of the receiver: started and stopped by the app's lifespan."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.address = address(settings.host, settings.otlp_grpc_port)
        self._receiver = TraceReceiver(services)
        self._options = (
            # The HTTP route's limit on what a body inflates to: gRPC checks it on the
            # compressed message and while inflating, and answers RESOURCE_EXHAUSTED.
            ("grpc.max_receive_message_length", max_export_bytes(settings)),
            # Off unless several processes share the port (`serve --workers N`): a port in use
            # must stop the start, not be shared silently with whoever holds it.
            ("grpc.so_reuseport", int(settings.otlp_grpc_reuse_port)),
        )
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        """Bind the port and start serving; raise RuntimeError when the port cannot be bound."""
        server = grpc.aio.server(options=self._options)
        server.add_generic_rpc_handlers((self._receiver.handler(),))
        try:
            server.add_insecure_port(self.address)
        except RuntimeError as exc:
            raise RuntimeError(
                f"the OTLP/gRPC receiver cannot listen on {self.address} (is the port in use?): "
                "set PROMPTLANE_OTLP_GRPC_PORT or PROMPTLANE_OTLP_GRPC_ENABLED=false"
            ) from exc
        await server.start()
        self._server = server
        log.info("OTLP/gRPC receiver listening on %s", self.address)

    async def stop(self) -> None:
        """Stop accepting exports; let those in flight finish for a few seconds."""
        if self._server is not None:
            await self._server.stop(STOP_GRACE_SECONDS)
            self._server = None
