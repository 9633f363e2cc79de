"""Decoding OTLP/HTTP trace requests: protobuf, OTLP/JSON, gzip, and every way they go wrong."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from tests.otlp_requests import genai, otlp_json, protobuf, request, span, to_otlp_json
from tracing import otlp
from tracing.errors import DecompressedTooLargeError, InvalidPayloadError, UnsupportedMediaTypeError

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"
PARENT = "eee19b7ec3c1b173"
MAX = 1_000_000


def decode(body: bytes, content_type: str, encoding: str | None = None) -> otlp.DecodedRequest:
    return otlp.decode_request(
        body, content_type=content_type, content_encoding=encoding, max_bytes=MAX
    )


def test_protobuf_request_decodes_to_plain_records() -> None:
    attributes: dict[str, Any] = {
        "s": "text",
        "i": 7,
        "f": 0.5,
        "b": True,
        "list": ["a", "b"],
        "map": {"k": 1},
        "raw": b"\x01\x02",
    }
    body = protobuf(
        span(
            attributes,
            trace_id=TRACE,
            span_id=SPAN,
            parent_span_id=PARENT,
            start_ns=10**18,
            duration_ms=2,
            status=2,
            status_message="boom",
        ),
        resource={"service.name": "app", "service.version": "1.2"},
    )
    decoded = decode(body, "application/x-protobuf")
    assert decoded.encoding == "protobuf"
    (record,) = decoded.spans
    assert (record.trace_id, record.span_id, record.parent_span_id) == (TRACE, SPAN, PARENT)
    assert record.attributes == {**attributes, "raw": "AQI="}
    assert (record.start_ns, record.end_ns) == (10**18, 10**18 + 2_000_000)
    assert (record.status_code, record.status_message) == (2, "boom")
    assert record.service_name == "app"
    assert record.resource["service.version"] == "1.2"
    assert record.scope == "tests"


def test_a_root_span_has_no_parent_and_a_resource_may_lack_a_service_name() -> None:
    (record,) = decode(protobuf(span(), resource={}), "application/x-protobuf").spans
    assert record.parent_span_id is None
    assert record.service_name is None


def test_spans_of_the_real_sdk_decode() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "sdk-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("chat") as inner:
        inner.set_attributes(genai())
        inner.set_status(Status(StatusCode.ERROR, "rate limited"))
    body = encode_spans(exporter.get_finished_spans()).SerializeToString()
    records = {r.name: r for r in decode(body, "application/x-protobuf").spans}
    assert records["chat"].parent_span_id == records["outer"].span_id
    assert records["chat"].attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert records["chat"].status_code == otlp.STATUS_CODE_ERROR
    assert records["outer"].service_name == "sdk-app"


def test_otlp_json_decodes_like_the_same_protobuf() -> None:
    spans = [
        span({"gen_ai.request.model": "m", "n": 2**40, "xs": [1.5, "a"]}, parent_span_id=PARENT),
        span({"other": True}),
    ]
    from_proto = decode(protobuf(*spans), "application/x-protobuf").spans
    decoded = decode(otlp_json(*spans), "application/json; charset=utf-8")
    assert decoded.encoding == "json"
    assert decoded.spans == from_proto


def test_the_spec_json_example_decodes() -> None:
    # As the OTLP spec writes it: hex ids (any case), integer enums, int64 as strings,
    # AnyValue wrappers, and fields this receiver does not know (which it must ignore).
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "js-app"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": TRACE.upper(),
                                "spanId": SPAN,
                                "parentSpanId": "",
                                "name": "chat",
                                "kind": 3,
                                "startTimeUnixNano": "1544712660000000000",
                                "endTimeUnixNano": "1544712661000000000",
                                "attributes": [
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "12"},
                                    },
                                    {"key": "ratio", "value": {"doubleValue": 0.5}},
                                    {
                                        "key": "list",
                                        "value": {"arrayValue": {"values": [{"boolValue": True}]}},
                                    },
                                ],
                                "status": {"code": 2},
                                "someFutureField": {"x": 1},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    (record,) = decode(json.dumps(body).encode(), "application/json").spans
    assert (record.trace_id, record.span_id, record.parent_span_id) == (TRACE, SPAN, None)
    assert record.attributes == {
        "gen_ai.usage.input_tokens": 12,
        "ratio": 0.5,
        "list": [True],
    }
    assert record.start_ns == 1544712660000000000
    assert record.kind == 3
    assert record.status_code == 2
    assert record.service_name == "js-app"


def test_empty_requests_are_fine() -> None:
    assert decode(b"", "application/x-protobuf").spans == []
    assert decode(b"{}", "application/json").spans == []


def test_gzip_bodies_are_inflated_even_in_several_members() -> None:
    body = protobuf(span(trace_id=TRACE, span_id=SPAN))
    half = len(body) // 2
    two_members = gzip.compress(body[:half]) + gzip.compress(body[half:])
    for encoded in (gzip.compress(body), two_members):
        (record,) = decode(encoded, "application/x-protobuf", "gzip").spans
        assert record.span_id == SPAN


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "reason"),
    [
        (b"\x0a\x05\x01", "application/x-protobuf", None, "not an OTLP protobuf request"),
        (b"\x0a\x02\x12\x00\xff", "application/x-protobuf", None, "not an OTLP protobuf request"),
        (b"{not json", "application/json", None, "not JSON"),
        (b"\xff\xfe", "application/json", None, "not JSON"),
        (b"[" * 100_000, "application/json", None, "not JSON"),
        (b"[1, 2]", "application/json", None, "must be a JSON object"),
        (b'{"resourceSpans": 3}', "application/json", None, "not an OTLP/JSON request"),
        (b"plain bytes", "application/x-protobuf", "gzip", "not valid gzip"),
        (gzip.compress(b"abc")[:-4], "application/json", "gzip", "truncated"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(
    body: bytes, content_type: str, encoding: str | None, reason: str
) -> None:
    with pytest.raises(InvalidPayloadError, match=reason):
        decode(body, content_type, encoding)


def test_deeply_nested_values_are_refused() -> None:
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(60):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    document = to_otlp_json(request([span({"a": 1})]))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
        {"key": "deep", "value": value}
    ]
    with pytest.raises(InvalidPayloadError, match="too deep") as caught:
        decode(json.dumps(document).encode(), "application/json")
    assert len(caught.value.detail) < 400


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("traceId", "abcd", r"spans\[0\]\.traceId: 2 bytes where 16 are expected"),
        ("spanId", "0102030405060708090a", r"spans\[0\]\.spanId: 10 bytes where 8"),
        ("parentSpanId", "01", r"spans\[0\]\.parentSpanId: 1 bytes where 8"),
        ("traceId", "zz" * 16, r"spans\[0\]\.traceId: 'zz.*' is not hex"),
    ],
)
def test_bad_ids_are_refused_with_where_they_are(field: str, value: str, reason: str) -> None:
    document = to_otlp_json(request([span()]))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0][field] = value
    with pytest.raises(InvalidPayloadError, match=reason):
        decode(json.dumps(document).encode(), "application/json")


def test_bad_ids_in_protobuf_are_refused() -> None:
    message = request([span(), span()])
    message.resource_spans[0].scope_spans[0].spans[1].span_id = b"\x01\x02"
    with pytest.raises(InvalidPayloadError, match=r"spans\[1\]\.spanId: 2 bytes"):
        decode(message.SerializeToString(), "application/x-protobuf")


def test_a_gzip_bomb_is_stopped_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * (50 * MAX))
    assert len(bomb) < MAX // 10
    with pytest.raises(DecompressedTooLargeError, match=f"more than {MAX} bytes"):
        decode(bomb, "application/x-protobuf", "gzip")
    at_limit = gzip.compress(b"\0" * MAX)
    assert otlp.inflate(at_limit, "gzip", max_bytes=MAX) == b"\0" * MAX


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/grpc", "json"])
def test_other_content_types_are_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="application/x-protobuf"):
        otlp.encoding_of(content_type)


@pytest.mark.parametrize("encoding", ["br", "deflate", "zstd"])
def test_other_content_encodings_are_unsupported(encoding: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="gzip"):
        decode(protobuf(span()), "application/x-protobuf", encoding)


def test_identity_encoding_is_the_body_itself() -> None:
    body = protobuf(span())
    assert len(decode(body, "application/protobuf", "identity").spans) == 1


def test_responses_are_encoded_like_the_request() -> None:
    response = ExportTraceServiceResponse.FromString(otlp.encode_response("protobuf"))
    assert not response.HasField("partial_success")
    assert json.loads(otlp.encode_response("json")) == {}
    partial = ExportTraceServiceResponse()
    partial.partial_success.rejected_spans = 2
    assert json.loads(otlp.encode_response("json", partial)) == {
        "partialSuccess": {"rejectedSpans": "2"}
    }
    assert otlp.encode_response("protobuf", partial) == partial.SerializeToString()
    assert otlp.RESPONSE_MEDIA_TYPES == {
        "protobuf": "application/x-protobuf",
        "json": "application/json",
    }
