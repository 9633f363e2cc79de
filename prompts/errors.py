"""Errors raised by the prompt domain.

PromptsError
├── PromptNotFoundError
├── VersionNotFoundError
├── LabelNotFoundError
├── PromptExistsError
├── InvalidPromptError          (bad name, label, schema, limits)
└── LabelMoveDeniedError
    └── LabelProtectedError     (the actor's role may not move this label)

The renderer's errors (a template that does not parse, missing or invalid variables, a render
over budget) are the client package's: promptlane_client.errors.TemplateError and below.
"""

from __future__ import annotations

from collections.abc import Sequence

from promptlane_client.errors import FieldProblem


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


class LabelMoveDeniedError(PromptsError):
    """The promotion policy does not allow this label move."""

    title = "Label move refused"


class LabelProtectedError(LabelMoveDeniedError):
    """The label is protected and the actor's role may not move it."""

    title = "Label is protected"
