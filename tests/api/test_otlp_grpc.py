"""The OTLP/gRPC receiver: TraceService/Export with POST /v1/traces' auth, limits and ingest."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub
from pydantic import ValidationError

from api.db import Database
from api.server.app import create_app
from api.server.otlp_grpc import SERVICE, OtlpGrpcServer, address, status_of
from api.server.services import Services
from api.settings import Settings
from prompts.policy import Role
from tests.api.test_traces_api import generations
from tests.conftest import KEYS, make_settings
from tests.e2e.server import free_port
from tests.otlp_requests import genai, request, span
from tests.tracing.test_metrics import sample
from tracing.errors import InvalidPayloadError, InvalidTimeRangeError

MAX_BODY_BYTES = 2048  # a message may inflate to 10 times that


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        otlp_grpc_enabled=True,
        otlp_grpc_port=free_port(),
        max_body_bytes=MAX_BODY_BYTES,
    )


@pytest.fixture
async def channel(settings: Settings, app: FastAPI) -> AsyncIterator[grpc.aio.Channel]:
    """Return a channel to the receiver the app's lifespan started."""
    async with grpc.aio.insecure_channel(address("127.0.0.1", settings.otlp_grpc_port)) as c:
        yield c


def metadata(role: Role | None) -> Sequence[tuple[str, str]]:
    return (("authorization", f"Bearer {KEYS[role]}"),) if role else ()


async def export(
    channel: grpc.aio.Channel,
    message: ExportTraceServiceRequest,
    role: Role | None = Role.WRITER,
    *,
    compression: grpc.Compression | None = None,
) -> ExportTraceServiceResponse:
    stub = TraceServiceStub(channel)  # type: ignore[no-untyped-call]
    response: ExportTraceServiceResponse = await stub.Export(
        message, metadata=metadata(role), compression=compression, timeout=30
    )
    return response


async def refused(
    channel: grpc.aio.Channel, payload: bytes, role: Role | None = Role.WRITER
) -> grpc.aio.AioRpcError:
    """Send raw message bytes that must be refused; return the error."""
    call = channel.unary_unary(f"/{SERVICE}/Export")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(payload, metadata=metadata(role), timeout=30)
    return caught.value


async def test_a_writer_exports_spans_that_become_generations(
    channel: grpc.aio.Channel, db: Database, app: FastAPI
) -> None:
    chat = span(genai(**{"promptlane.cost_usd": 0.01}), duration_ms=500)
    message = request([chat, span({"http.route": "/tickets"})], resource={"service.name": "bot"})
    response = await export(channel, message, compression=grpc.Compression.Gzip)
    assert not response.HasField("partial_success")
    assert await export(channel, message, Role.ADMIN) == ExportTraceServiceResponse()  # a retry
    (stored,) = await generations(db)
    assert (stored.source, stored.service_name, stored.prompt_name, stored.prompt_version) == (
        "ingest",
        "bot",
        "support/triage",
        2,
    )
    assert (stored.span_id, stored.duration_ms, stored.cost_usd) == (chat.span_id.hex(), 500, 0.01)
    text = app.state.services.metrics.exposition().decode()
    assert sample(text, "promptlane_ingested_spans_total", kind="genai") == 1
    assert sample(text, "promptlane_ingested_spans_total", kind="duplicate") == 1
    assert sample(text, "promptlane_ingested_spans_total", kind="other") == 2


@pytest.mark.parametrize(
    ("role", "key", "code", "says"),
    [
        (None, None, grpc.StatusCode.UNAUTHENTICATED, "missing API key"),
        (None, "Bearer pl_" + "x" * 30, grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked"),
        (None, "Basic abc", grpc.StatusCode.UNAUTHENTICATED, "malformed API key"),
        (Role.READER, None, grpc.StatusCode.PERMISSION_DENIED, "needs the writer role"),
    ],
)
async def test_exports_need_a_writer_key(
    channel: grpc.aio.Channel,
    db: Database,
    role: Role | None,
    key: str | None,
    code: grpc.StatusCode,
    says: str,
) -> None:
    stub = TraceServiceStub(channel)  # type: ignore[no-untyped-call]
    sent = (("authorization", key),) if key else metadata(role)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Export(request([span(genai())]), metadata=sent, timeout=30)
    assert caught.value.code() == code
    assert says in str(caught.value.details())
    assert await generations(db) == []


async def test_a_malformed_message_is_an_invalid_argument(
    channel: grpc.aio.Channel, db: Database
) -> None:
    error = await refused(channel, b"\xff\xff\xff")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not an OTLP protobuf request" in str(error.details())
    bad_id = request([span(genai()), span(genai(), span_id="00ff")])
    error = await refused(channel, bad_id.SerializeToString())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "resourceSpans[0].scopeSpans[0].spans[1].spanId: 2 bytes" in str(error.details())
    assert await generations(db) == []  # nothing of a refused request is stored


async def test_the_key_is_checked_before_the_message(channel: grpc.aio.Channel) -> None:
    error = await refused(channel, b"\xff\xff\xff", role=None)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip])
async def test_a_message_over_the_size_limit_is_resource_exhausted(
    channel: grpc.aio.Channel, db: Database, compression: grpc.Compression | None
) -> None:
    message = request([span(genai(**{"app.note": "n" * (MAX_BODY_BYTES * 10)}))])
    assert len(gzip.compress(message.SerializeToString())) < MAX_BODY_BYTES  # a small bomb
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await export(channel, message, compression=compression)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await generations(db) == []
    fits = request([span(genai(**{"app.note": "n" * (MAX_BODY_BYTES * 9)}))])
    assert not (await export(channel, fits, compression=compression)).HasField("partial_success")


def test_failures_answer_the_code_the_http_status_pairs_with() -> None:
    assert status_of(InvalidPayloadError("bad")) == (grpc.StatusCode.INVALID_ARGUMENT, "bad")
    assert status_of(InvalidTimeRangeError("r"))[0] == grpc.StatusCode.INVALID_ARGUMENT
    busy = sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
    assert status_of(busy)[0] == grpc.StatusCode.UNAVAILABLE  # the exporter retries
    race = sa.exc.IntegrityError("INSERT", {}, Exception("duplicate"))
    assert status_of(race)[0] == grpc.StatusCode.ABORTED  # retried too
    internal = status_of(KeyError("bug"))
    assert internal == (grpc.StatusCode.INTERNAL, "internal error; see the server log")


def test_ipv6_hosts_are_bracketed() -> None:
    assert address("::", 4317) == "[::]:4317"
    assert address("0.0.0.0", 4317) == "0.0.0.0:4317"  # noqa: S104 (an address, no bind)


async def test_a_port_in_use_stops_the_start(
    settings: Settings, db: Database, app: FastAPI
) -> None:
    second = create_app(settings, database=db)
    with pytest.raises(
        RuntimeError, match=r"cannot listen on 127\.0\.0\.1:\d+ \(is the port in use"
    ):
        async with second.router.lifespan_context(second):
            pass


async def test_worker_processes_share_the_port_when_told(app: FastAPI) -> None:
    services: Services = app.state.services
    port = free_port()
    shared = services.settings.model_copy(
        update={"otlp_grpc_port": port, "otlp_grpc_reuse_port": True}
    )
    first, second = (OtlpGrpcServer(_with(services, shared)) for _ in range(2))
    await first.start()
    try:
        await second.start()
        await second.stop()
    finally:
        await first.stop()


def _with(services: Services, settings: Settings) -> Services:
    return dataclasses.replace(services, settings=settings)


def test_the_grpc_port_cannot_be_the_http_port(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is the HTTP port"):
        make_settings(database_url, tmp_path, otlp_grpc_enabled=True, otlp_grpc_port=8000)
    assert make_settings(database_url, tmp_path, otlp_grpc_port=8000).port == 8000  # off: fine
