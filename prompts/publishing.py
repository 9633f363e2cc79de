"""What publishing a version would do: its checked content and hash, and a dry run's plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from promptlane_client.errors import FieldProblem
from promptlane_client.hashing import content_hash, version_content
from promptlane_client.render import PromptContent, content_variables, messages_from_dicts
from prompts.archive import check_active
from prompts.errors import InvalidPromptError
from prompts.repository import PromptRepository
from prompts.schemas import PublishPlan, VersionCreate, name_problem


@dataclass(frozen=True)
class PromptLimits:
    """Size limits on stored content."""

    max_template_chars: int = 100_000


@dataclass(frozen=True)
class CheckedVersion:
    """A version body checked for publishing: its variables, stored fields and content hash."""

    variables: list[str]
    stored: dict[str, Any]
    digest: str


def _check_content(data: VersionCreate, limits: PromptLimits) -> PromptContent:
    content = PromptContent(
        kind=data.kind or "text",
        template_format=data.template_format,
        template=data.template,
        messages=messages_from_dicts(
            [m.model_dump(exclude_none=True) for m in data.messages or []]
        ),
        variables_schema=data.variables_schema,
    )
    too_long = [
        FieldProblem(
            f"#/messages/{i}/content" if content.kind == "chat" else "#/template",
            f"longer than {limits.max_template_chars} characters",
        )
        for i, text in enumerate(content.templates())
        if len(text) > limits.max_template_chars
    ]
    if too_long:
        raise InvalidPromptError("template too long", errors=too_long)
    return content


def check_version(name: str, data: VersionCreate, limits: PromptLimits) -> CheckedVersion:
    """Check a name and a version body as publishing does; raise InvalidPromptError if bad."""
    problem = name_problem(name)
    if problem:
        raise InvalidPromptError(problem)
    content = _check_content(data, limits)
    stored = version_content(
        kind=content.kind,
        template=content.template,
        messages=[m.as_dict() for m in content.messages] if content.kind == "chat" else None,
        template_format=content.template_format,
        variables_schema=dict(content.variables_schema) if content.variables_schema else None,
        config=data.config.as_params(),
    )
    return CheckedVersion(content_variables(content), stored, content_hash(stored))


async def plan_version(
    session: AsyncSession, *, name: str, data: VersionCreate, limits: PromptLimits
) -> PublishPlan:
    """Say what publishing `data` to `name` would do, writing nothing."""
    digest = check_version(name, data, limits).digest
    repo = PromptRepository(session)
    prompt = await repo.get(name)
    if prompt is None or prompt.id is None:
        return PublishPlan(name=name, action="create_prompt", version=1, content_hash=digest)
    check_active("prompt", prompt, doing="publishing to it")
    existing = await repo.version_by_hash(prompt.id, digest)
    if existing is not None:
        return PublishPlan(
            name=name, action="unchanged", version=existing.version, content_hash=digest
        )
    version = await repo.max_version(prompt.id) + 1
    return PublishPlan(name=name, action="create_version", version=version, content_hash=digest)
