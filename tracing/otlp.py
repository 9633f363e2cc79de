"""Decode OTLP/HTTP trace export requests (protobuf or JSON, optionally gzip) into span records.

OTLP/JSON is protobuf's JSON mapping with a few deviations (hex trace and span ids, integer
enums, lowerCamelCase keys): the ids are rewritten to base64, then protobuf's own JSON parser
does the rest, so both encodings are validated by the same schema and mapped by the same code.
https://opentelemetry.io/docs/specs/otlp/#otlphttp
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tracing.errors import DecompressedTooLargeError, InvalidPayloadError, UnsupportedMediaTypeError

Encoding = Literal["protobuf", "json"]

MEDIA_TYPES: Final[Mapping[str, Encoding]] = {
    "application/x-protobuf": "protobuf",
    "application/protobuf": "protobuf",
    "application/json": "json",
}
RESPONSE_MEDIA_TYPES: Final[Mapping[Encoding, str]] = {
    "protobuf": "application/x-protobuf",
    "json": "application/json",
}
STATUS_CODE_ERROR: Final = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
SERVICE_NAME: Final = "service.name"
_TRACE_ID_BYTES: Final = 16
_SPAN_ID_BYTES: Final = 8
_GZIP: Final = 16 + zlib.MAX_WBITS  # zlib window bits that accept only the gzip wrapper
_CHUNK: Final = 64 * 1024
_REASON_CHARS: Final = 300
_JSON_IDS: Final = ("traceId", "spanId", "parentSpanId")
_SCALARS: Final = frozenset({"string_value", "bool_value", "int_value", "double_value"})


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One span as plain values: hex ids, Unix nanoseconds, attributes as Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    resource: Mapping[str, Any]  # shared by the spans of one resource
    scope: str

    @property
    def service_name(self) -> str | None:
        """Return the resource's `service.name`, if it has one."""
        value = self.resource.get(SERVICE_NAME)
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class DecodedRequest:
    """The spans of one export request, and the encoding its response must use."""

    encoding: Encoding
    spans: list[SpanRecord]


def encoding_of(content_type: str | None) -> Encoding:
    """Return the payload encoding a Content-Type names, or raise UnsupportedMediaTypeError."""
    media = (content_type or "").partition(";")[0].strip().lower()
    found = MEDIA_TYPES.get(media)
    if found is None:
        raise UnsupportedMediaTypeError(
            f"send application/x-protobuf or application/json, not {media or 'nothing'}"
        )
    return found


def inflate(body: bytes, content_encoding: str | None, *, max_bytes: int) -> bytes:
    """Return the body with its Content-Encoding (gzip or none) removed, at most `max_bytes`."""
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise UnsupportedMediaTypeError(f"Content-Encoding {coding!r} is not supported: use gzip")
    out = bytearray()
    rest = body
    while rest:  # a gzip body may hold several members, one after the other
        inflater = zlib.decompressobj(_GZIP)
        try:
            # Inflate in bounded steps: a small bomb must not expand in memory before the check.
            chunk = inflater.decompress(rest, max_bytes - len(out) + 1)
            while chunk:
                out += chunk
                if len(out) > max_bytes:
                    raise DecompressedTooLargeError(
                        f"the gzip body inflates to more than {max_bytes} bytes"
                    )
                chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
        except zlib.error as exc:
            raise InvalidPayloadError(f"the body is not valid gzip: {exc}") from exc
        if not inflater.eof:
            raise InvalidPayloadError("the gzip body is truncated")
        rest = inflater.unused_data
    return bytes(out)


def parse(payload: bytes, encoding: Encoding) -> ExportTraceServiceRequest:
    """Parse an ExportTraceServiceRequest from protobuf bytes or OTLP/JSON."""
    if encoding == "protobuf":
        try:
            return ExportTraceServiceRequest.FromString(payload)
        except DecodeError as exc:
            raise InvalidPayloadError(
                f"the body is not an OTLP protobuf request: {_reason(exc)}"
            ) from exc
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise InvalidPayloadError(f"the body is not JSON: {_reason(exc)}") from exc
    if not isinstance(document, dict):
        raise InvalidPayloadError("the body must be a JSON object with resourceSpans")
    _hex_ids_to_base64(document)
    try:
        return json_format.ParseDict(
            document, ExportTraceServiceRequest(), ignore_unknown_fields=True
        )
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidPayloadError(f"the body is not an OTLP/JSON request: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    """Return an exception's message, its end kept when long (nested parsers prefix paths)."""
    text = str(exc)
    return text if len(text) <= _REASON_CHARS else "…" + text[-_REASON_CHARS:]


def _items(container: Any, key: str) -> list[Any]:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def _json_spans(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for r, resource_spans in enumerate(_items(document, "resourceSpans")):
        for s, scope_spans in enumerate(_items(resource_spans, "scopeSpans")):
            for i, span in enumerate(_items(scope_spans, "spans")):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                yield where, span
                for j, link in enumerate(_items(span, "links")):
                    yield f"{where}.links[{j}]", link


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """Rewrite OTLP/JSON's hex ids in place to the base64 protobuf's JSON parser expects."""
    for where, item in _json_spans(document):
        if not isinstance(item, dict):
            continue  # the parser reports the wrong type
        for key in _JSON_IDS:
            value = item.get(key)
            if not isinstance(value, str) or not value:
                continue
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raise InvalidPayloadError(f"{where}.{key}: {value!r} is not hex") from None
            item[key] = base64.b64encode(raw).decode()


def any_value(value: AnyValue) -> Any:
    """Return an AnyValue as a plain value (bytes as base64, arrays as lists, maps as dicts)."""
    kind = value.WhichOneof("value")
    if kind in _SCALARS:
        return getattr(value, kind)
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def attributes_of(pairs: Any) -> dict[str, Any]:
    """Return repeated KeyValue pairs as a dict (a repeated key keeps its last value)."""
    out: dict[str, Any] = {}
    pair: KeyValue
    for pair in pairs:
        value = pair.value
        kind = value.WhichOneof("value")
        out[pair.key] = getattr(value, kind) if kind in _SCALARS else any_value(value)
    return out


def _bad_ids(span: Span, where: str) -> InvalidPayloadError:
    for name, raw, sizes in (
        ("traceId", span.trace_id, (_TRACE_ID_BYTES,)),
        ("spanId", span.span_id, (_SPAN_ID_BYTES,)),
        ("parentSpanId", span.parent_span_id, (0, _SPAN_ID_BYTES)),
    ):
        if len(raw) not in sizes:
            return InvalidPayloadError(
                f"{where}.{name}: {len(raw)} bytes where {sizes[-1]} are expected"
            )
    raise AssertionError("the span's ids are valid")  # pragma: no cover


def _record(span: Span, resource: Mapping[str, Any], scope: str, where: str) -> SpanRecord:
    trace_id, span_id, parent_id = span.trace_id, span.span_id, span.parent_span_id
    if (
        len(trace_id) != _TRACE_ID_BYTES
        or len(span_id) != _SPAN_ID_BYTES
        or (parent_id and len(parent_id) != _SPAN_ID_BYTES)
    ):
        raise _bad_ids(span, where)
    status = span.status
    return SpanRecord(
        trace_id=trace_id.hex(),
        span_id=span_id.hex(),
        parent_span_id=parent_id.hex() if parent_id else None,
        name=span.name,
        kind=span.kind,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        attributes=attributes_of(span.attributes),
        status_code=status.code,
        status_message=status.message,
        resource=resource,
        scope=scope,
    )


def spans_of(request: ExportTraceServiceRequest) -> list[SpanRecord]:
    """Return every span of the request as a record; a bad trace or span id is refused."""
    out: list[SpanRecord] = []
    for r, resource_spans in enumerate(request.resource_spans):
        resource = attributes_of(resource_spans.resource.attributes)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            scope = scope_spans.scope.name
            where = f"resourceSpans[{r}].scopeSpans[{s}].spans"
            out.extend(
                _record(span, resource, scope, f"{where}[{i}]")
                for i, span in enumerate(scope_spans.spans)
            )
    return out


def decode_request(
    body: bytes, *, content_type: str | None, content_encoding: str | None, max_bytes: int
) -> DecodedRequest:
    """Decode an OTLP/HTTP traces request body; `max_bytes` caps its decompressed size."""
    encoding = encoding_of(content_type)
    payload = inflate(body, content_encoding, max_bytes=max_bytes)
    return DecodedRequest(encoding, spans_of(parse(payload, encoding)))


def encode_response(
    encoding: Encoding, response: ExportTraceServiceResponse | None = None
) -> bytes:
    """Return an ExportTraceServiceResponse (by default full success) in the request's encoding."""
    if response is None:
        response = ExportTraceServiceResponse()
    if encoding == "protobuf":
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()
