"""Errors raised by the prompt domain.

PromptsError
├── PromptNotFoundError
├── VersionNotFoundError
├── LabelNotFoundError
├── PromptExistsError
├── InvalidPromptError          (bad name, label, schema, limits)
│   └── InvalidTemplateError    (syntax errors, forbidden constructs)
├── RenderError
│   ├── MissingVariablesError
│   ├── InvalidVariablesError
│   ├── PatternTimeoutError     (a user's regular expression backtracked past its time limit)
│   └── RenderBudgetError       (output too long, or rendering took too long)
└── LabelMoveDeniedError
└── LabelProtectedError     (the actor's role may not move this label)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FieldProblem:
    """One field-level problem: where (a JSON pointer) and what."""

    pointer: str
    detail: str


class PromptsError(Exception):
    """Root of the prompt domain's errors."""

    title = "Prompt domain error"

    def __init__(self, detail: str, *, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class PromptNotFoundError(PromptsError):
    """No prompt has this name."""

    title = "Prompt not found"


class VersionNotFoundError(PromptsError):
    """The prompt has no such version."""

    title = "Prompt version not found"


class LabelNotFoundError(PromptsError):
    """The prompt has no version under this label."""

    title = "Label not set"


class PromptExistsError(PromptsError):
    """A prompt with this name already exists."""

    title = "Prompt already exists"


class InvalidPromptError(PromptsError):
    """The prompt, version or label given is not acceptable."""

    title = "Invalid prompt"


class InvalidTemplateError(InvalidPromptError):
    """The template does not parse, or uses a construct that is not allowed."""

    title = "Invalid template"


class RenderError(PromptsError):
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


class LabelMoveDeniedError(PromptsError):
    """The promotion policy does not allow this label move."""

    title = "Label move refused"


class LabelProtectedError(LabelMoveDeniedError):
    """The label is protected and the actor's role may not move it."""

    title = "Label is protected"
