"""`POST /{name}/archive` and `/restore`, the same for prompts, datasets and suites."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import APIRouter, Path

from api.server.deps import Writer, WriteSession
from api.server.params import NAME_PATTERN
from prompts.schemas import ArchiveEventRead, ArchiveKind, ArchiveRequest

# A domain function: (session, *, name, archive, actor, reason) -> the audit event.
Setter = Callable[..., Awaitable[ArchiveEventRead]]
Name = Annotated[
    str,
    Path(
        description="Name; '/' separates folders",
        max_length=200,
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
]
_DOCS: Final = {
    "archive": "Archive a {kind}: out of lists and {use}, history and runs kept; audited.",
    "restore": "Restore an archived {kind} as it was; audited.",
}


def _endpoint(setter: Setter, *, archive: bool) -> Callable[..., Awaitable[ArchiveEventRead]]:
    async def endpoint(
        name: Name, session: WriteSession, actor: Writer, data: ArchiveRequest | None = None
    ) -> ArchiveEventRead:
        reason = data.reason if data else ""
        return await setter(session, name=name, archive=archive, actor=actor, reason=reason)

    return endpoint


def add_archive_routes(router: APIRouter, *, kind: ArchiveKind, use: str, setter: Setter) -> None:
    """Add the archive and restore routes of one collection (`use`: what it leaves)."""
    for action in ("archive", "restore"):
        router.add_api_route(
            f"/{{name:path}}/{action}",
            _endpoint(setter, archive=action == "archive"),
            methods=["POST"],
            name=f"{action}_{kind}",
            response_model=ArchiveEventRead,
            description=_DOCS[action].format(kind=kind, use=use),
        )
