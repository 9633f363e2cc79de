"""Errors raised by the client package: its own, and the renderer's (which the server raises too).

PromptlaneError
├── APIError                 (the server answered 4xx/5xx; its RFC 9457 problem is kept)
├── ConnectionFailedError    (the server could not be reached)
├── PromptUnavailableError   (not cached, no fallback, and the server is down or failing)
├── SnapshotError            (a snapshot file that cannot be read)
└── TemplateError            (the renderer's: a template or its variables cannot be rendered)
    ├── InvalidTemplateError (syntax errors, forbidden constructs, a bad variables schema)
    └── RenderError
        ├── MissingVariablesError
        ├── InvalidVariablesError
        ├── PatternTimeoutError  (a user's regular expression backtracked past its time limit)
        └── RenderBudgetError    (output too long, or rendering took too long)

The server raises the renderer's errors too (TemplateError is one of its domain roots: 422,
or the gateway's OpenAI-shaped 400), so a prompt fails to render alike everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class FieldProblem:
    """One field-level problem: where (a JSON pointer) and what."""

    pointer: str
    detail: str


class PromptlaneError(Exception):
    """Root of the client package's errors."""


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


class TemplateError(PromptlaneError):
    """Root of the renderer's errors: a template or its variables cannot be rendered."""

    title = "Template error"

    def __init__(self, detail: str, *, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class InvalidTemplateError(TemplateError):
    """The template does not parse, or uses a construct that is not allowed."""

    title = "Invalid template"


class RenderError(TemplateError):
    """The template could not be rendered with the given variables."""

    title = "Render failed"


class MissingVariablesError(RenderError):
    """Variables the template needs were not given."""

    title = "Missing variables"

    def __init__(self, missing: Sequence[str]) -> None:
        names = ", ".join(missing)
        super().__init__(
            f"missing variables: {names}",
            errors=[FieldProblem(f"#/variables/{n}", "required variable missing") for n in missing],
        )
        self.missing = tuple(missing)


class PatternTimeoutError(RenderError):
    """A user's regular expression ran out of time on its text (catastrophic backtracking)."""

    title = "Pattern took too long"


class InvalidVariablesError(RenderError):
    """The variables do not match the version's JSON Schema."""

    title = "Invalid variables"


class RenderBudgetError(RenderError):
    """Rendering went over its budget: output characters (`max_chars`) or time (`max_seconds`)."""

    title = "Render budget exceeded"

    def __init__(self, detail: str, *, limit: Literal["max_chars", "max_seconds"]) -> None:
        super().__init__(detail)
        self.limit = limit
