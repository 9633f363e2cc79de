"""Business rules of the prompt registry: publish, resolve, render, diffs (labels: labels.py)."""

from __future__ import annotations

from typing import Final, Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from promptlane_client.params import public_config
from promptlane_client.render import (
    DEFAULT_BUDGET,
    PromptContent,
    RenderBudget,
    messages_from_dicts,
)
from prompts import diff as diffs
from prompts import events
from prompts.archive import archived_detail, check_active, set_archived
from prompts.base import utc_now
from prompts.errors import (
    InvalidPromptError,
    LabelNotFoundError,
    PromptArchivedError,
    PromptExistsError,
    PromptNotFoundError,
    VersionNotFoundError,
)
from prompts.models import Prompt, PromptVersion
from prompts.policy import Actor
from prompts.publishing import PromptLimits as PromptLimits
from prompts.publishing import check_version
from prompts.render_pool import render_prompt_async
from prompts.repository import PromptRepository
from prompts.schemas import (
    LATEST,
    ArchiveEventRead,
    Page,
    PromptCreate,
    PromptRead,
    PromptUpdate,
    PromptVersionRead,
    RenderedPromptRead,
    RenderRequest,
    VersionCreate,
    VersionDiffRead,
    label_problem,
)

DEFAULT_LABEL: Final = "production"
_CHANGED_KEY: Final = "promptlane.prompts_changed"


def changed_prompts(session: AsyncSession) -> set[str]:
    """Return the names of prompts this session changed (for cache invalidation on commit)."""
    return cast(set[str], session.info.get(_CHANGED_KEY, set()))


def mark_changed(session: AsyncSession, name: str) -> None:
    """Record that this session changed prompt `name` (its cached resolutions go on commit)."""
    session.info.setdefault(_CHANGED_KEY, set()).add(name)


def content_of(version: PromptVersion) -> PromptContent:
    """Return the renderable content of a stored version."""
    return PromptContent(
        kind=cast(Literal["text", "chat"], version.kind),
        template_format=cast(Literal["mustache", "jinja2"], version.template_format),
        template=version.template,
        messages=messages_from_dicts(version.messages),
        variables_schema=version.variables_schema,
    )


def _version_read(name: str, version: PromptVersion, labels: list[str]) -> PromptVersionRead:
    return PromptVersionRead(
        name=name,
        version=version.version,
        kind=cast(Literal["text", "chat"], version.kind),
        template=version.template,
        messages=version.messages,
        template_format=version.template_format,
        variables=version.variables,
        variables_schema=version.variables_schema,
        config=public_config(version.config),
        labels=labels,
        message=version.message,
        author=version.author,
        content_hash=version.content_hash,
        created_at=version.created_at,
    )


async def _prompt(repo: PromptRepository, name: str, *, for_update: bool = False) -> Prompt:
    prompt = await repo.get(name, for_update=for_update)
    if prompt is None:
        raise PromptNotFoundError(f"no prompt named {name!r}")
    return prompt


def _served(prompt: Prompt) -> Prompt:
    if prompt.archived_at is not None:
        raise PromptArchivedError(archived_detail("prompt", prompt.name))
    return prompt


async def prompt_row(session: AsyncSession, *, name: str, for_update: bool = False) -> Prompt:
    """Return the prompt named `name` (archived or not); raise if there is none."""
    return await _prompt(PromptRepository(session), name, for_update=for_update)


async def _prompt_reads(repo: PromptRepository, prompts: list[Prompt]) -> list[PromptRead]:
    ids = [p.id for p in prompts if p.id is not None]
    tags, labels, latest = (
        await repo.tags(ids),
        await repo.labels(ids),
        await repo.latest_numbers(ids),
    )
    return [
        PromptRead(
            name=p.name,
            description=p.description,
            tags=tags[p.id],
            labels=labels[p.id],
            latest_version=latest.get(p.id),
            created_at=p.created_at,
            updated_at=p.updated_at,
            archived_at=p.archived_at,
        )
        for p in prompts
        if p.id is not None
    ]


async def create_prompt(session: AsyncSession, *, data: PromptCreate) -> PromptRead:
    """Create an empty prompt; refuse if the name is taken."""
    repo = PromptRepository(session)
    now = utc_now()
    values = {"description": data.description, "created_at": now, "updated_at": now}
    if not await repo.insert_if_absent(data.name, values):
        taken = await repo.get(data.name)
        archived = " (archived: restore it to use it)" if taken and taken.archived_at else ""
        raise PromptExistsError(f"a prompt named {data.name!r} already exists{archived}")
    prompt = await _prompt(repo, data.name)
    assert prompt.id is not None
    await repo.set_tags(prompt.id, data.tags)
    await session.flush()
    mark_changed(session, data.name)
    return (await _prompt_reads(repo, [prompt]))[0]


async def update_prompt(session: AsyncSession, *, name: str, data: PromptUpdate) -> PromptRead:
    """Change a prompt's description and/or tags."""
    repo = PromptRepository(session)
    prompt = await _prompt(repo, name, for_update=True)
    assert prompt.id is not None
    check_active("prompt", prompt, doing="changing it")
    if data.description is not None:
        prompt.description = data.description
    if data.tags is not None:
        await repo.set_tags(prompt.id, data.tags)
    prompt.updated_at = utc_now()
    await session.flush()
    mark_changed(session, name)
    return (await _prompt_reads(repo, [prompt]))[0]


async def get_prompt(session: AsyncSession, *, name: str) -> PromptRead:
    """Return one prompt with its labels."""
    repo = PromptRepository(session)
    return (await _prompt_reads(repo, [await _prompt(repo, name)]))[0]


async def list_prompts(
    session: AsyncSession,
    *,
    query: str | None = None,
    tag: str | None = None,
    label: str | None = None,
    archived: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[PromptRead]:
    """Return one page of prompts in use (or archived ones), by name, filtered."""
    repo = PromptRepository(session)
    prompts, total = await repo.search(
        query=query, tag=tag, label=label, archived=archived, limit=limit, offset=offset
    )
    return Page(items=await _prompt_reads(repo, prompts), total=total, limit=limit, offset=offset)


async def publish_version(
    session: AsyncSession,
    *,
    name: str,
    data: VersionCreate,
    author: str,
    limits: PromptLimits = PromptLimits(),
) -> tuple[PromptVersionRead, bool]:
    """Store a new immutable version; return it and True, or the identical one and False."""
    checked = check_version(name, data, limits)
    variables, stored, digest = checked.variables, checked.stored, checked.digest

    repo = PromptRepository(session)
    now = utc_now()
    await repo.insert_if_absent(
        name, {"description": data.description or "", "created_at": now, "updated_at": now}
    )
    # The row lock serialises concurrent publishes to one prompt on PostgreSQL; SQLite write
    # transactions are serialised by BEGIN IMMEDIATE (api.db).
    prompt = await _prompt(repo, name, for_update=True)
    assert prompt.id is not None
    check_active("prompt", prompt, doing="publishing to it")
    await _apply_metadata(repo, prompt, data)
    mark_changed(session, name)

    existing = await repo.version_by_hash(prompt.id, digest)
    if existing is not None:
        await session.flush()
        assert existing.id is not None
        labels = (await repo.labels_by_version([existing.id]))[existing.id]
        return _version_read(name, existing, labels), False

    version = PromptVersion(
        prompt_id=prompt.id,
        version=await repo.max_version(prompt.id) + 1,
        variables=variables,
        message=data.message,
        author=author,
        content_hash=digest,
        created_at=now,
        **stored,
    )
    session.add(version)
    prompt.updated_at = now
    await session.flush()
    published = {"prompt": name, "version": version.version, "content_hash": digest}
    await events.emit(session, events.PROMPT_VERSION_PUBLISHED, published, actor=author)
    return _version_read(name, version, []), True


async def _apply_metadata(repo: PromptRepository, prompt: Prompt, data: VersionCreate) -> None:
    assert prompt.id is not None
    if data.description is not None and data.description != prompt.description:
        prompt.description = data.description
    if data.tags is not None:
        await repo.set_tags(prompt.id, data.tags)


async def list_versions(
    session: AsyncSession, *, name: str, limit: int = 50, offset: int = 0
) -> Page[PromptVersionRead]:
    """Return one page of a prompt's versions, newest first."""
    repo = PromptRepository(session)
    prompt = await _prompt(repo, name)
    assert prompt.id is not None
    versions, total = await repo.versions(prompt.id, limit=limit, offset=offset)
    labels = await repo.labels_by_version([v.id for v in versions if v.id is not None])
    items = [_version_read(name, v, labels[v.id]) for v in versions if v.id is not None]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def _select_version(
    repo: PromptRepository, prompt: Prompt, *, label: str | None, version: int | None
) -> PromptVersion:
    assert prompt.id is not None
    if version is not None:
        found = await repo.version(prompt.id, version)
        if found is None:
            raise VersionNotFoundError(f"prompt {prompt.name!r} has no version {version}")
        return found
    label = label or DEFAULT_LABEL
    problem = label_problem(label)
    if problem:
        raise InvalidPromptError(problem)
    if label == LATEST:
        latest = await repo.latest_version(prompt.id)
        if latest is None:
            raise VersionNotFoundError(f"prompt {prompt.name!r} has no versions yet")
        return latest
    row = await repo.label(prompt.id, label)
    if row is None:
        raise LabelNotFoundError(f"prompt {prompt.name!r} has no version labelled {label!r}")
    return await repo.version_by_id(row.version_id)


async def find_version(
    session: AsyncSession,
    *,
    name: str,
    label: str | None = None,
    version: int | None = None,
    for_update: bool = False,
) -> tuple[Prompt, PromptVersion]:
    """Return a prompt and the version a label (default `production`) or number selects."""
    repo = PromptRepository(session)
    prompt = await _prompt(repo, name, for_update=for_update)
    return prompt, await _select_version(repo, prompt, label=label, version=version)


async def labelled_version(
    session: AsyncSession, *, prompt: Prompt, label: str
) -> PromptVersion | None:
    """Return the version `label` points at now, or None when the label is not set."""
    repo = PromptRepository(session)
    assert prompt.id is not None
    row = await repo.label(prompt.id, label)
    return await repo.version_by_id(row.version_id) if row else None


async def resolve_prompt(
    session: AsyncSession,
    *,
    name: str,
    label: str | None = None,
    version: int | None = None,
    archived: bool = False,
) -> PromptVersionRead:
    """Return the version a label (default `production`) or number selects, with its labels.

    An archived prompt is not resolved unless `archived` (its history stays readable).
    """
    repo = PromptRepository(session)
    prompt = await _prompt(repo, name)
    if not archived:
        _served(prompt)
    found = await _select_version(repo, prompt, label=label, version=version)
    assert found.id is not None
    return _version_read(name, found, (await repo.labels_by_version([found.id]))[found.id])


async def render_version(
    session: AsyncSession,
    *,
    name: str,
    request: RenderRequest,
    budget: RenderBudget = DEFAULT_BUDGET,
) -> RenderedPromptRead:
    """Render the selected version with the request's variables, within `budget`."""
    repo = PromptRepository(session)
    prompt = _served(await _prompt(repo, name))
    found = await _select_version(repo, prompt, label=request.label, version=request.version)
    rendered = await render_prompt_async(content_of(found), request.variables, budget)
    return RenderedPromptRead(
        name=name,
        version=found.version,
        content_hash=found.content_hash,
        kind=cast(Literal["text", "chat"], found.kind),
        text=rendered.text,
        messages=rendered.messages,
        config=public_config(found.config),
    )


async def diff_versions(
    session: AsyncSession, *, name: str, from_version: int, to_version: int
) -> VersionDiffRead:
    """Compare two versions of a prompt."""
    repo = PromptRepository(session)
    prompt = await _prompt(repo, name)
    a = await _select_version(repo, prompt, label=None, version=from_version)
    b = await _select_version(repo, prompt, label=None, version=to_version)
    return VersionDiffRead(
        name=name,
        from_version=a.version,
        to_version=b.version,
        template_diff=diffs.template_diff(a, b),
        changes=diffs.version_changes(a, b),
        variables_added=[v for v in b.variables if v not in a.variables],
        variables_removed=[v for v in a.variables if v not in b.variables],
    )


async def set_prompt_archived(
    session: AsyncSession, *, name: str, archive: bool, actor: Actor, reason: str = ""
) -> ArchiveEventRead:
    """Archive (or restore) a prompt, audited; cached resolutions of it go on commit."""
    prompt = await _prompt(PromptRepository(session), name, for_update=True)
    event = await set_archived(
        session, prompt, kind="prompt", archive=archive, actor=actor, reason=reason
    )
    mark_changed(session, name)
    return event
