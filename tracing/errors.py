"""Errors raised by the tracing domain.

TracingError
├── InvalidTimeRangeError     (start after end, or a window over the limit)
├── InvalidPayloadError       (an OTLP request that cannot be decoded: protobuf, JSON, gzip, ids)
├── DecompressedTooLargeError (an OTLP request that decompresses past the size limit)
├── UnsupportedMediaTypeError (a Content-Type or Content-Encoding the OTLP receiver does not take)
├── TraceNotFoundError        (no span and no generation of that trace id is stored)
└── GenerationNotFoundError   (no generation has that id)
"""

from __future__ import annotations


class TracingError(Exception):
    """Root of the tracing domain's errors."""

    title = "Tracing error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidTimeRangeError(TracingError):
    """The requested time range is empty, reversed or longer than allowed."""

    title = "Invalid time range"


class InvalidPayloadError(TracingError):
    """An OTLP export request could not be decoded; nothing of it was stored."""

    title = "Invalid OTLP payload"


class DecompressedTooLargeError(TracingError):
    """An OTLP export request decompresses to more than the server accepts."""

    title = "Payload too large"


class UnsupportedMediaTypeError(TracingError):
    """The request's Content-Type or Content-Encoding is not one OTLP/HTTP defines."""

    title = "Unsupported media type"


class TraceNotFoundError(TracingError):
    """No span and no generation of the trace is stored (or its spans were purged)."""

    title = "Trace not found"


class GenerationNotFoundError(TracingError):
    """No generation has the id asked for."""

    title = "Generation not found"
