"""Request and response models of the prompt domain (never tables)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, field_validator, model_validator

from promptlane_client.render.patterns import schema_pattern_problem
from prompts.config import LLMConfig as LLMConfig
from prompts.config import check_json_schema
from tracing.validation import Flag, PositiveInt, StrictModel

NAME_MAX: Final = 200
_SEGMENT = r"[a-z0-9][a-z0-9._-]*"
NAME_RE: Final = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*")
LABEL_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Path segments that routes put after a prompt name; a name may not contain them, so
# `/v1/prompts/{name}/versions` can never be mistaken for a prompt called `.../versions`.
RESERVED_SEGMENTS: Final = frozenset({"versions", "labels", "render", "diff"})
LATEST: Final = "latest"
TAG_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_NUMBER_RE: Final = re.compile(r"[1-9][0-9]{0,8}")

T = TypeVar("T")


def name_problem(name: str) -> str | None:
    """Say what is wrong with a prompt name, or None if it is valid."""
    if len(name) > NAME_MAX:
        return f"prompt name longer than {NAME_MAX} characters"
    if not NAME_RE.fullmatch(name):
        return (
            f"invalid prompt name {name!r}: lowercase letters, digits, '.', '_' and '-', "
            "with '/' between folder segments"
        )
    reserved = RESERVED_SEGMENTS.intersection(name.split("/"))
    if reserved:
        return f"invalid prompt name {name!r}: {sorted(reserved)[0]!r} is a reserved segment"
    return None


def parse_prompt_ref(ref: str) -> tuple[str, str | None, int | None]:
    """Split `name@label` or `name:version` (bare `name` means `name@production`)."""
    if ":" in ref:
        name, _, number = ref.rpartition(":")
        if _NUMBER_RE.fullmatch(number):
            return name, None, int(number)
    name, _, label = ref.partition("@")
    return name, label or None, None


def label_problem(label: str) -> str | None:
    """Say what is wrong with a label name, or None if it is valid."""
    if not LABEL_RE.fullmatch(label):
        return f"invalid label {label!r}: up to 64 lowercase letters, digits, '.', '_' or '-'"
    return None


class _Strict(StrictModel):
    """A request model of the prompt domain (unknown fields, control characters refused)."""


class ChatMessage(_Strict):
    """A chat message template."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str
    name: str | None = Field(default=None, max_length=64)


class PromptCreate(_Strict):
    """Create a prompt without content (optional: publishing creates it too)."""

    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=32)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str]) -> list[str]:
        return _valid_tags(value)


class PromptUpdate(_Strict):
    """Change a prompt's description or tags."""

    description: str | None = Field(default=None, max_length=10_000)
    tags: list[str] | None = Field(default=None, max_length=32)

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _valid_tags(value)


def _valid_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not TAG_RE.fullmatch(tag):
            raise ValueError(f"invalid tag {tag!r}")
    return sorted(set(tags))


class VersionCreate(_Strict):
    """The content of a new version; `kind` defaults from whether messages are given."""

    kind: Literal["text", "chat"] | None = Field(
        default=None, description="text (one template) or chat (messages); default: inferred"
    )
    template: str | None = Field(
        default=None, description="A text prompt's template (rendered as one user message)"
    )
    messages: list[ChatMessage] | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="A chat prompt's messages: role, content (a template) and optional name",
    )
    template_format: Literal["mustache", "jinja2"] = Field(
        default="mustache", description="How templates are written: mustache or jinja2"
    )
    variables_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema the variables are checked against at render time; a "
        "property left out of `required` is optional and its `default` fills it",
    )
    config: LLMConfig = Field(
        default_factory=LLMConfig,
        description="Model settings: model, connection, OpenAI parameters, offline knobs",
    )
    message: str = Field(default="", max_length=2_000, description="Commit message")
    description: str | None = Field(
        default=None, max_length=10_000, description="Sets the prompt's description"
    )
    tags: list[str] | None = Field(
        default=None, max_length=32, description="Sets the prompt's tags"
    )

    @model_validator(mode="after")
    def _check_kind(self) -> VersionCreate:
        if self.kind is None:
            self.kind = "chat" if self.messages is not None else "text"
        if self.kind == "text" and (self.template is None or self.messages is not None):
            raise ValueError("a text version needs 'template' and no 'messages'")
        if self.kind == "chat" and (self.messages is None or self.template is not None):
            raise ValueError("a chat version needs 'messages' and no 'template'")
        return self

    @field_validator("variables_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        problem = schema_pattern_problem(value)
        if problem is not None:
            raise ValueError(f"variables_schema: {problem}")
        return check_json_schema(value, "variables_schema")

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _valid_tags(value)


class LabelMove(_Strict):
    """Point a label at a version."""

    version: PositiveInt
    reason: str = Field(default="", max_length=2_000)
    force: Flag = Field(
        default=False, description="Override a failed promotion gate (needs a reason)"
    )


class ArchiveRequest(_Strict):
    """Archive or restore something; the reason is kept in the audit trail."""

    reason: str = Field(default="", max_length=2_000)


class RenderRequest(_Strict):
    """Which version to render (a label or a number) and with what variables."""

    user_data: ClassVar[frozenset[str]] = frozenset({"variables"})

    label: str | None = Field(default=None, max_length=64)
    version: PositiveInt | None = None
    variables: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_selector(self) -> RenderRequest:
        if self.label is not None and self.version is not None:
            raise ValueError("give 'label' or 'version', not both")
        return self


# --- responses -----------------------------------------------------------------------------


class PublishPlan(BaseModel):
    """What publishing a version would do (a dry run): nothing is written."""

    name: str
    action: Literal["create_prompt", "create_version", "unchanged"] = Field(
        description="create_prompt: the prompt is new; unchanged: identical content exists"
    )
    version: int = Field(description="the version it would get, or the identical one's")
    content_hash: str


class PromptRead(BaseModel):
    """A prompt with its labels and latest version number."""

    name: str
    description: str
    tags: list[str]
    labels: dict[str, int]
    latest_version: int | None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = Field(default=None, description="Set while archived")


class PromptVersionRead(BaseModel):
    """One version as applications and tools see it."""

    name: str
    version: int
    kind: Literal["text", "chat"]
    template: str | None
    messages: list[dict[str, Any]] | None
    template_format: str
    variables: list[str]
    variables_schema: dict[str, Any] | None
    config: dict[str, Any]
    labels: list[str]
    message: str
    author: str
    content_hash: str
    created_at: datetime


class RenderedPromptRead(BaseModel):
    """A rendered version: messages ready to send, and the config to send them with."""

    name: str
    version: int
    content_hash: str
    kind: Literal["text", "chat"]
    text: str | None
    messages: list[dict[str, str]]
    config: dict[str, Any]


class LabelRead(BaseModel):
    """Where a label points."""

    name: str
    version: int
    updated_by: str
    updated_at: datetime
    incident_id: int | None = Field(
        default=None, description="The label's open incident (a monitor fired on it), if any"
    )


class LabelEventRead(BaseModel):
    """One entry of a label's audit trail."""

    id: int
    label: str
    from_version: int | None
    to_version: int | None = Field(description="None: the event unset the label")
    actor: str
    reason: str
    is_forced: bool
    evidence: list[dict[str, Any]]
    created_at: datetime
    actor_role: str | None = Field(default=None, description="None: recorded before roles were")
    seq: int | None = Field(default=None, description="Position in the audit chain")
    hash: str | None = Field(default=None, description="This link's hash in the audit chain")


ArchiveKind = Literal["prompt", "dataset", "suite"]


class ArchiveEventRead(BaseModel):
    """One archive or restore of a prompt, dataset or suite, as the audit chain holds it."""

    id: int
    kind: ArchiveKind
    name: str
    action: Literal["archive", "restore"]
    actor: str
    actor_role: str
    reason: str
    created_at: datetime
    seq: int = Field(description="Position in the audit chain")
    hash: str = Field(description="This link's hash in the audit chain")


class FieldChange(BaseModel):
    """A field that differs between two versions."""

    path: str
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class VersionDiffRead(BaseModel):
    """The difference between two versions of one prompt."""

    name: str
    from_version: int
    to_version: int
    template_diff: str
    changes: list[FieldChange]
    variables_added: list[str]
    variables_removed: list[str]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int
