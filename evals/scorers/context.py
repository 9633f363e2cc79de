"""What model-backed scorers need from the runner: a model client, resolved judge prompts."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from evals.connections.resolver import ConnectionSource
from promptlane_client.render import (
    DEFAULT_BUDGET,
    PromptContent,
    RenderBudget,
    messages_from_dicts,
)


class JudgeCompletion(Protocol):
    """The parts of a model answer a judge reads."""

    @property
    def text(self) -> str:
        """Return the answer's text."""
        ...

    @property
    def cost_usd(self) -> float | None:
        """Return what the call cost, when known."""
        ...

    @property
    def model(self) -> str:
        """Return the model that answered."""
        ...


class JudgeModel(Protocol):
    """A model client (evals.llm.client.ModelClient in production, a fake in tests)."""

    async def complete(
        self,
        *,
        messages: list[dict[str, Any]],
        config: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the client enforces it per call
    ) -> JudgeCompletion:
        """Call the config's model on `messages`."""
        ...


class StoredVersion(Protocol):
    """The columns of a stored prompt version a judge needs (prompts.models.PromptVersion)."""

    version: int
    kind: str
    template: str | None
    messages: list[dict[str, Any]] | None
    template_format: str
    variables_schema: dict[str, Any] | None
    config: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class JudgePrompt:
    """A judge's rubric: one managed prompt version, resolved before the run starts."""

    name: str
    version: int
    content_hash: str
    kind: Literal["text", "chat"]
    template: str | None = None
    messages: tuple[Mapping[str, Any], ...] = ()
    template_format: Literal["mustache", "jinja2"] = "mustache"
    variables_schema: Mapping[str, Any] | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_version(cls, name: str, version: StoredVersion) -> JudgePrompt:
        """Build a judge prompt from a stored prompt version."""
        return cls(
            name=name,
            version=version.version,
            content_hash=version.content_hash,
            kind=cast(Literal["text", "chat"], version.kind),
            template=version.template,
            messages=tuple(version.messages or ()),
            template_format=cast(Literal["mustache", "jinja2"], version.template_format),
            variables_schema=version.variables_schema,
            config=dict(version.config),
        )

    def content(self) -> PromptContent:
        """Return the renderable content, for the one renderer in promptlane_client.render."""
        return PromptContent(
            kind=self.kind,
            template_format=self.template_format,
            template=self.template,
            messages=messages_from_dicts(self.messages),
            variables_schema=self.variables_schema,
        )


@dataclass(frozen=True)
class RagasSettings:
    """Defaults for the ragas scorers' model and connection (scorer params override)."""

    model: str | None = None
    connection: str | None = None
    embedding_model: str | None = None


@dataclass(frozen=True)
class ScorerContext:
    """What non-deterministic scorers need; deterministic ones need nothing from it."""

    model: JudgeModel | None = None
    # Keyed by the reference string as written in the suite ("judges/helpfulness@production").
    judges: Mapping[str, JudgePrompt] = field(default_factory=dict)
    # Model for judges whose prompt config names none and whose params give no override.
    judge_model: str | None = None
    ragas: RagasSettings = field(default_factory=RagasSettings)
    # Where ragas scorers find their connection (judges go through the model client's).
    connections: ConnectionSource | None = None
    # What rendering a judge prompt may produce and take (the server's render budget).
    render_budget: RenderBudget = DEFAULT_BUDGET


@dataclass(frozen=True)
class JudgeCall:
    """One call a judge made while scoring: which judge, what it sent, when, what came back."""

    scorer: str
    judge: JudgePrompt
    model: str
    messages: list[dict[str, Any]]
    started_at: datetime
    duration_ms: float
    answer: Any  # the model client's completion, or the ModelCallError it raised


# Set by whoever records judge calls (the runner, around scoring one item); judges append.
JUDGE_CALLS: ContextVar[list[JudgeCall] | None] = ContextVar("promptlane_judge_calls", default=None)
