"""Prompt registry routes. Names may contain '/', so suffix routes are declared first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.server.cache import ResolveKey, etag_matches
from api.server.deps import AppServices, AppSettings, Reader, ReadSession, Writer, WriteSession
from api.server.errors import InvalidRequestError
from api.server.openapi import GATE_REFUSED
from api.server.params import INT_MAX, LABEL_PATTERN, NAME_PATTERN
from api.server.routes.archiving import add_archive_routes
from evals.monitors import incidents
from prompts import labels, publishing, service
from prompts.schemas import (
    LabelEventRead,
    LabelMove,
    LabelRead,
    Page,
    PromptCreate,
    PromptRead,
    PromptUpdate,
    PromptVersionRead,
    PublishPlan,
    RenderedPromptRead,
    RenderRequest,
    VersionCreate,
    VersionDiffRead,
)
from tracing import semconv

router = APIRouter(prefix="/v1/prompts", tags=["prompts"])
add_archive_routes(router, kind="prompt", use="resolution", setter=service.set_prompt_archived)

Name = Annotated[
    str,
    Path(
        description="Prompt name; '/' separates folders",
        max_length=200,
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
]
Label = Annotated[
    str,
    Path(
        description="Label name, e.g. production",
        max_length=64,
        json_schema_extra={"pattern": LABEL_PATTERN},
    ),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=INT_MAX, description="Items to skip")]
Archived = Annotated[bool, Query(description="List archived ones instead")]
Reason = Annotated[str, Query(max_length=2_000, description="Why (kept in the audit trail)")]


@router.post("", status_code=201)
async def create_prompt(data: PromptCreate, session: WriteSession, actor: Writer) -> PromptRead:
    """Create an empty prompt with a description and tags."""
    return await service.create_prompt(session, data=data)


@router.get("")
async def list_prompts(
    session: ReadSession,
    actor: Reader,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in name or description")
    ] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[
        str | None, Query(max_length=64, description="Only prompts with this label")
    ] = None,
    archived: Archived = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PromptRead]:
    """List prompts in use (or archived ones) by name, filtered by text, tag and label."""
    return await service.list_prompts(
        session, query=q, tag=tag, label=label, archived=archived, limit=limit, offset=offset
    )


@router.post(
    "/{name:path}/versions",
    status_code=201,
    responses={200: {"description": "Identical content exists; that version is returned"}},
)
async def publish_version(
    name: Name,
    data: VersionCreate,
    response: Response,
    session: WriteSession,
    actor: Writer,
    settings: AppSettings,
) -> PromptVersionRead:
    """Publish a new immutable version (created on first publish); identical content is 200."""
    limits = service.PromptLimits(max_template_chars=settings.max_template_chars)
    version, created = await service.publish_version(
        session, name=name, data=data, author=actor.name, limits=limits
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/prompts/{name}/versions/{version.version}"
    return version


@router.post("/{name:path}/versions/plan")
async def plan_version(
    name: Name, data: VersionCreate, session: ReadSession, actor: Writer, settings: AppSettings
) -> PublishPlan:
    """Dry run of a publish: say whether it would create the prompt, a version, or nothing."""
    limits = service.PromptLimits(max_template_chars=settings.max_template_chars)
    return await publishing.plan_version(session, name=name, data=data, limits=limits)


@router.get("/{name:path}/versions")
async def list_versions(
    name: Name, session: ReadSession, actor: Reader, limit: Limit = 50, offset: Offset = 0
) -> Page[PromptVersionRead]:
    """List a prompt's versions, newest first."""
    return await service.list_versions(session, name=name, limit=limit, offset=offset)


@router.get("/{name:path}/versions/{version:int}")
async def get_version(
    name: Name,
    version: Annotated[int, Path(ge=1, le=INT_MAX)],
    session: ReadSession,
    actor: Reader,
) -> PromptVersionRead:
    """Return one version (of an archived prompt too: its history stays readable)."""
    return await service.resolve_prompt(session, name=name, version=version, archived=True)


@router.post("/{name:path}/render")
async def render_prompt(
    name: Name, data: RenderRequest, services: AppServices, session: ReadSession, actor: Reader
) -> RenderedPromptRead:
    """Render a version (by label, default production, or number) into ready-to-send messages."""
    with services.telemetry.span(semconv.SPAN_PROMPT_RENDER, {semconv.PROMPT_NAME: name}) as span:
        rendered = await service.render_version(
            session, name=name, request=data, budget=services.render_budget
        )
        span.set_attribute(semconv.PROMPT_VERSION, rendered.version)
        span.set_attribute(semconv.PROMPT_CONTENT_HASH, rendered.content_hash)
        if data.label:
            span.set_attribute(semconv.PROMPT_LABEL, data.label)
    return rendered


@router.get("/{name:path}/diff")
async def diff_versions(
    name: Name,
    session: ReadSession,
    actor: Reader,
    from_: Annotated[int, Query(alias="from", ge=1, le=INT_MAX)],
    to: Annotated[int, Query(ge=1, le=INT_MAX)],
) -> VersionDiffRead:
    """Compare two versions: template as a unified diff, config field by field."""
    return await service.diff_versions(session, name=name, from_version=from_, to_version=to)


@router.get("/{name:path}/labels")
async def list_labels(name: Name, session: ReadSession, actor: Reader) -> list[LabelRead]:
    """List a prompt's labels, the versions they point at, and their open incidents."""
    return await incidents.labels_with_incidents(session, name=name)


@router.get("/{name:path}/labels/{label}/history")
async def label_history(
    name: Name,
    label: Label,
    session: ReadSession,
    actor: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LabelEventRead]:
    """Return a label's audit trail, newest first."""
    return await labels.label_history(session, name=name, label=label, limit=limit, offset=offset)


@router.get("/{name:path}/labels/{label}")
async def get_label(name: Name, label: Label, session: ReadSession, actor: Reader) -> LabelRead:
    """Return where one label points."""
    return await labels.get_label(session, name=name, label=label)


@router.put("/{name:path}/labels/{label}", responses=GATE_REFUSED)
async def move_label(
    name: Name,
    label: Label,
    data: LabelMove,
    services: AppServices,
    session: WriteSession,
    actor: Writer,
) -> LabelEventRead:
    """Point a label at a version (a rollback is a move back); the move is audited."""
    return await labels.move_label(
        session, name=name, label=label, move=data, actor=actor, policy=services.label_policy
    )


@router.delete("/{name:path}/labels/{label}")
async def unset_label(
    name: Name,
    label: Label,
    services: AppServices,
    session: WriteSession,
    actor: Writer,
    reason: Reason = "",
) -> LabelEventRead:
    """Unset a label (protected or gated labels: admins only); the unset is audited."""
    return await labels.unset_label(
        session, name=name, label=label, actor=actor, reason=reason, policy=services.label_policy
    )


@router.patch("/{name:path}")
async def update_prompt(
    name: Name, data: PromptUpdate, session: WriteSession, actor: Writer
) -> PromptRead:
    """Change a prompt's description or tags."""
    return await service.update_prompt(session, name=name, data=data)


@router.get(
    "/{name:path}",
    response_model=PromptVersionRead,
    responses={304: {"description": "The If-None-Match ETag still matches"}},
)
async def resolve_prompt(
    request: Request,
    services: AppServices,
    name: Name,
    actor: Reader,
    label: Annotated[str | None, Query(max_length=64, description="Default: production")] = None,
    version: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> Any:
    """Resolve a version (label, default production, or number); archived: 404; ETag aware."""
    if label is not None and version is not None:
        raise InvalidRequestError("give 'label' or 'version', not both")
    entry = await services.resolver.fetch(ResolveKey.of(name, label=label, version=version))
    headers = {"ETag": entry.etag, "Cache-Control": services.resolver.cache_control}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)
