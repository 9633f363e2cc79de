"""Errors raised by the tracing domain.

TracingError
├── InvalidTimeRangeError     (start after end, or a window over the limit)
└── ScanLimitExceededError    (more generations in range than one query may scan)
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


class ScanLimitExceededError(TracingError):
    """More generations match than one analytics query scans; narrow the range or filter."""

    title = "Too many generations"
