"""Links that follow the trace, whatever order its spans arrive in.

Exporters send a trace in several batches, children usually first (a span is exported when
it ends, and a parent ends after its children). So for each batch:

- `resolve_links`: every span of the batch gets its *effective* link: its own, else its
  nearest linked ancestor's, looked up in the batch and then, level by level, in the `spans`
  table (ancestors that arrived in earlier batches). A generation of the batch without a link
  of its own takes its span's effective link before it is inserted.
- `inherited`: the stored descendants of the batch's linked spans, followed level by level
  down the `spans` table and stopped at any span carrying a link of its own, are the
  generations whose nearest linked ancestor just arrived (or just got connected to them);
- `relink` gives those stored generations their new link: the only place a stored
  generation's link changes along the trace (the other: a gateway row without a link takes
  its twin's, `tracing.dedupe.link_gateway_calls`).

Two batches of one trace stored by concurrent transactions do not see each other; a link
missed that way is not repaired later (docs/tracing.md says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing.models import Generation, Span
from tracing.rollups import write as rollups
from tracing.traces.linkage import MAX_DEPTH, Key, Link, Node, nearest

SPANS: Final = cast(sa.Table, Span.__table__)  # type: ignore[attr-defined]
GENERATIONS: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
CHUNK: Final = 500  # (trace id, span id) pairs per IN list: 1,000 parameters
_LINK_COLUMNS: Final = [
    SPANS.c.prompt_name,
    SPANS.c.prompt_version,
    SPANS.c.prompt_label,
    SPANS.c.content_hash,
    SPANS.c.run_id,
]


def _chunks(keys: Iterable[Key]) -> Iterable[list[Key]]:
    ordered = sorted(keys)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


async def _span_nodes(
    session: AsyncSession, keys: Iterable[Key], *, by_parent: bool = False
) -> dict[Key, tuple[Node, bool]]:
    """Return stored spans (node, is generation) by key, or the children of `keys`."""
    pair = sa.tuple_(SPANS.c.trace_id, SPANS.c.parent_span_id if by_parent else SPANS.c.span_id)
    columns = [SPANS.c.trace_id, SPANS.c.span_id, SPANS.c.parent_span_id, SPANS.c.is_generation]
    out: dict[Key, tuple[Node, bool]] = {}
    for chunk in _chunks(keys):
        result = await session.execute(sa.select(*columns, *_LINK_COLUMNS).where(pair.in_(chunk)))
        for row in result.mappings():
            node = Node(row["parent_span_id"], Link.of_columns(row))
            out[(row["trace_id"], row["span_id"])] = (node, row["is_generation"])
    return out


async def resolve_links(session: AsyncSession, nodes: Mapping[Key, Node]) -> dict[Key, Link | None]:
    """Return each batch span's effective link: its own, else its nearest linked ancestor's."""
    known: dict[Key, Node] = dict(nodes)
    asked: set[Key] = set()
    for _ in range(MAX_DEPTH):
        missing = {parent for key in nodes if (parent := nearest(key, known)[1]) is not None}
        missing -= asked
        if not missing:
            break
        asked |= missing
        known.update(
            (key, node) for key, (node, _) in (await _span_nodes(session, missing)).items()
        )
    return {key: nearest(key, known)[0] for key in nodes}


def fill_links(
    generation_rows: Mapping[Key, dict[str, Any]],
    nodes: Mapping[Key, Node],
    links: Mapping[Key, Link | None],
) -> None:
    """Give each generation row whose span carries no link its span's effective link."""
    for key, row in generation_rows.items():
        node, link = nodes.get(key), links.get(key)
        if node is not None and node.link is None and link is not None:
            row.update(link.columns())


async def inherited(
    session: AsyncSession,
    nodes: Mapping[Key, Node],
    links: Mapping[Key, Link | None],
    *,
    skip: Iterable[Key] = (),
) -> dict[Key, Link]:
    """Return the stored generations below linked `nodes`, with the link each takes now.

    Descent stops at a span that carries its own link (it and what is below it keep theirs)
    and at the `skip` spans (the batch's: their generations were linked before insert).
    """
    frontier = {key: link for key in nodes if (link := links.get(key)) is not None}
    out: dict[Key, Link] = {}
    seen: set[Key] = {*nodes, *skip}
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        children = await _span_nodes(session, frontier, by_parent=True)
        below: dict[Key, Link] = {}
        for key, (node, is_generation) in children.items():
            if key in seen or node.link is not None or node.parent_span_id is None:
                continue
            seen.add(key)
            below[key] = frontier[(key[0], node.parent_span_id)]
            if is_generation:
                out[key] = below[key]
        frontier = below
    return out


@dataclass(frozen=True, slots=True)
class Relinked:
    """A stored generation whose prompt link changed: its row before, and after."""

    before: dict[str, Any]
    after: dict[str, Any]


async def relink(session: AsyncSession, updates: Mapping[Key, Link]) -> list[Relinked]:
    """Give stored generations (by trace and span id) a new prompt link; return the changes.

    With `tracing.dedupe.link_gateway_calls`, one of the two functions that change the link
    of a stored generation, so whatever is kept per link (rollups: subtract `before`, add
    `after`) is maintained in them. A generation
    whose link is already the new one is left alone and not returned.
    """
    changed: list[Relinked] = []
    ids_by_link: dict[Link, list[int]] = {}
    for chunk in _chunks(updates):
        pair = sa.tuple_(GENERATIONS.c.trace_id, GENERATIONS.c.span_id)
        rows = await session.execute(sa.select(GENERATIONS).where(pair.in_(chunk)))
        for row in rows.mappings():
            link = updates[(row["trace_id"], row["span_id"])]
            if Link.of_columns(row) == link:
                continue
            before = dict(row)
            changed.append(Relinked(before, {**before, **link.columns()}))
            ids_by_link.setdefault(link, []).append(row["id"])
    for link, ids in ids_by_link.items():
        for part in _id_chunks(ids):
            await session.execute(
                sa.update(GENERATIONS).where(GENERATIONS.c.id.in_(part)).values(**link.columns())
            )
    # Analytics count each call under its link: move the relinked ones to their new group.
    await rollups.apply_changes(session, [(c.before, c.after) for c in changed])
    return changed


def _id_chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]
