"""Errors raised by the Python client (it never raises the server's domain errors for HTTP).

PromptlaneError
├── APIError                 (the server answered 4xx/5xx; its RFC 9457 problem is kept)
├── ConnectionFailedError    (the server could not be reached)
├── PromptUnavailableError   (not cached, no fallback, and the server is down or failing)
└── SnapshotError            (a snapshot file that cannot be read)
"""

from __future__ import annotations

from typing import Any


class PromptlaneError(Exception):
    """Root of the client's errors."""


class APIError(PromptlaneError):
    """The server answered with an error (its RFC 9457 problem document is kept)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title") or f"HTTP {status}")
        self.detail = str(problem.get("detail") or "")
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the error as one line: status, title and detail."""
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        extra = [e for e in self.errors if e.get("detail") and str(e["detail"]) not in self.detail]
        if extra and len(extra) <= 5:
            text += (
                " ("
                + "; ".join(
                    f"{e.get('pointer') or e.get('parameter') or ''} {e['detail']}".strip()
                    for e in extra
                )
                + ")"
            )
        return text


class ConnectionFailedError(PromptlaneError):
    """The server could not be reached."""


class PromptUnavailableError(PromptlaneError):
    """A prompt is not cached, no fallback was given, and the server could not serve it."""


class SnapshotError(PromptlaneError):
    """A prompt snapshot file is missing or malformed."""
