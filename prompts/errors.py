"""Errors raised by the prompt domain.

PromptsError
├── PromptNotFoundError
│   └── PromptArchivedError     (resolving or rendering an archived prompt: restore it first)
├── VersionNotFoundError
├── LabelNotFoundError
├── PromptExistsError
├── InvalidPromptError          (bad name, label, schema, limits)
├── ArchiveStateError           (archiving what is archived, restoring what is not, or
│                                changing or running an archived prompt, dataset or suite)
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


class PromptArchivedError(PromptNotFoundError):
    """The prompt is archived: it is not served until it is restored."""

    title = "Prompt archived"


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


class ArchiveStateError(PromptsError):
    """The object is archived (or not) and this needs the other state."""

    title = "Archive state conflict"


class LabelMoveDeniedError(PromptsError):
    """The promotion policy does not allow this label move."""

    title = "Label move refused"


class LabelProtectedError(LabelMoveDeniedError):
    """The label is protected and the actor's role may not move it."""

    title = "Label is protected"
