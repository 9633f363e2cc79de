"""Production calls into datasets: recorded generations become items of a new dataset version.

`add_from_generations` selects at most `MAX_CURATED` generations (by id, or one prompt's calls
narrowed by version, label, outcome, time range, a score below a value, a safety flag),
recovers each call's input variables from the messages it recorded (`prompts.recover`: kept
only when rendering the version again reproduces them exactly), takes its answer as `expected`
and its ids as provenance, and publishes the current items plus the new ones as the next
version, in the request's transaction. Only calls that kept their content can be added: it is
stored when the deployment records content (PROMPTLANE_TRACING_RECORD_CONTENT); online
evaluation keeps a sampled call's content until it is scored, and after it only with
PROMPTLANE_ONLINE_EVAL_KEEP_CONTENT. A call already in the
dataset (the same generation, or the same input and expected) is skipped, so curating the same
calls twice adds nothing; every call selected but not added is listed with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from evals.datasets.files import DatasetLimits
from evals.datasets.repository import DatasetRepository, ItemRow
from evals.datasets.service import publish_dataset_version
from evals.errors import InvalidDatasetError
from evals.models import Dataset
from evals.schemas import (
    MAX_CURATED,
    CurationCreate,
    CurationResult,
    CurationSkip,
    DatasetItemIn,
    DatasetVersionCreate,
)
from promptlane_client.hashing import canonical_json
from promptlane_client.render import PromptContent
from prompts.archive import check_active
from prompts.recover import recover
from prompts.repository import PromptRepository
from prompts.schemas import name_problem
from prompts.service import content_of
from tracing.analytics import time_range
from tracing.models import Generation

CANDIDATE: Final = "candidate"  # metadata.expected_status: the answer awaits a reviewer
NO_CONTENT: Final = (
    "no recorded content (the deployment records it with PROMPTLANE_TRACING_RECORD_CONTENT, "
    "or keeps scored calls' with PROMPTLANE_ONLINE_EVAL_KEEP_CONTENT)"
)
_COLUMNS: Final = (
    col(Generation.id),
    col(Generation.trace_id),
    col(Generation.span_id),
    col(Generation.prompt_name),
    col(Generation.prompt_version),
    col(Generation.prompt_label),
    col(Generation.started_at),
    col(Generation.input_messages),
    col(Generation.output_text),
)
_NEWEST_FIRST: Final = (col(Generation.started_at).desc(), col(Generation.id).desc())
Key = tuple[str, int]  # (prompt name, version)


def _clauses(selection: CurationCreate) -> list[sa.ColumnElement[bool]]:
    """Return the WHERE clauses of the filters SQL can apply (a gateway twin is never a call)."""
    g = Generation
    clauses = [col(g.is_duplicate) == sa.false()]
    if selection.ids is not None:
        clauses.append(col(g.id).in_(selection.ids))
    given = (
        (g.prompt_name, selection.prompt),
        (g.prompt_version, selection.version),
        (g.prompt_label, selection.label),
        (g.is_error, selection.errors),
    )
    clauses += [col(column) == value for column, value in given if value is not None]
    # Calls named by id are found at any age; a prompt's in a bounded window (as listed).
    if selection.ids is None or selection.start is not None or selection.end is not None:
        begin, stop = time_range(selection.start, selection.end)
        clauses += [col(g.started_at) >= begin, col(g.started_at) < stop]
    return clauses


def score_of(scores: Mapping[str, Any] | None, name: str) -> float | None:
    """Return score `name` of a call: an online evaluation's `{value}` or a recorded number."""
    entry = (scores or {}).get(name)
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _wanted(selection: CurationCreate, scores: Any, flags: Any) -> bool:
    """Apply the filters SQL does not: a score below a value, a safety flag."""
    if selection.score is not None:
        value = score_of(scores, selection.score.name)
        if value is None or not value < selection.score.below:
            return False
    return selection.safety_flag is None or selection.safety_flag in (flags or ())


async def _selected(session: AsyncSession, selection: CurationCreate) -> list[sa.Row[Any]]:
    """Return the selected calls, oldest first (the order their items are appended in)."""
    clauses = _clauses(selection)
    limit = len(selection.ids) if selection.ids is not None else selection.limit
    if selection.score is not None or selection.safety_flag is not None:
        light = sa.select(col(Generation.id), col(Generation.scores), col(Generation.safety_flags))
        found = await session.execute(
            light.where(*clauses).order_by(*_NEWEST_FIRST).limit(MAX_CURATED)
        )
        ids = [i for i, scores, flags in found.tuples() if _wanted(selection, scores, flags)]
        if not ids:
            return []
        clauses = [col(Generation.id).in_(ids[:limit])]
    stmt = sa.select(*_COLUMNS).where(*clauses).order_by(*_NEWEST_FIRST).limit(limit)
    return list(reversed((await session.execute(stmt)).all()))


async def _current_items(repo: DatasetRepository, dataset: Dataset | None) -> list[ItemRow]:
    if dataset is None or dataset.id is None or dataset.current_version is None:
        return []
    version = await repo.version(dataset.id, dataset.current_version)
    return [] if version is None or version.id is None else await repo.item_contents(version.id)


def _source_id(metadata: Mapping[str, Any] | None) -> int | None:
    source = (metadata or {}).get("source")
    found = source.get("generation_id") if isinstance(source, Mapping) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _pair(input_: Any, expected: Any) -> str:
    return canonical_json([input_, expected])


def _provenance(row: sa.Row[Any]) -> dict[str, Any]:
    source = {
        "generation_id": row.id,
        "trace_id": row.trace_id,
        "span_id": row.span_id,
        "prompt": row.prompt_name,
        "version": row.prompt_version,
        "called_at": row.started_at.isoformat(),
    }
    if row.prompt_label is not None:
        source["label"] = row.prompt_label
    return {"source": source, "expected_status": CANDIDATE}


def _item(row: sa.Row[Any], contents: Mapping[Key, PromptContent]) -> DatasetItemIn | str:
    """Return the item a call becomes, or why it cannot become one."""
    if row.input_messages is None:
        return NO_CONTENT
    if row.prompt_name is None or row.prompt_version is None:
        return "not a call of a prompt version"
    content = contents.get((row.prompt_name, row.prompt_version))
    if content is None:
        return f"prompt {row.prompt_name!r} has no version {row.prompt_version}"
    recovered = recover(content, row.input_messages)
    if recovered.variables is None:
        return f"variables not recovered: {recovered.reason}"
    raw = {"input": recovered.variables, "expected": row.output_text}
    try:
        return DatasetItemIn.model_validate({**raw, "metadata": _provenance(row)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(part) for part in first["loc"])
        return f"not a valid item: {where}: {first['msg']}"


def _build(
    rows: Sequence[sa.Row[Any]], contents: Mapping[Key, PromptContent], current: list[ItemRow]
) -> tuple[list[tuple[int, DatasetItemIn]], list[CurationSkip]]:
    """Turn calls into new items, skipping those that cannot be items or are in the dataset."""
    seen_ids = {found for row in current if (found := _source_id(row[4])) is not None}
    seen_pairs = {_pair(row[1], row[2]) for row in current}
    added: list[tuple[int, DatasetItemIn]] = []
    skipped: list[CurationSkip] = []
    for row in rows:
        if row.id in seen_ids:
            skipped.append(CurationSkip(generation_id=row.id, reason="already in the dataset"))
            continue
        item = _item(row, contents)
        if isinstance(item, DatasetItemIn) and _pair(item.input, item.expected) in seen_pairs:
            item = "an item with the same input and expected is in the dataset"
        if isinstance(item, str):
            skipped.append(CurationSkip(generation_id=row.id, reason=item))
            continue
        seen_pairs.add(_pair(item.input, item.expected))
        added.append((row.id, item))
    return added, skipped


def _missing(selection: CurationCreate, rows: Sequence[sa.Row[Any]]) -> list[CurationSkip]:
    """Return the ids asked for that the selection did not find."""
    found = {row.id for row in rows}
    reason = "no such call, or it does not match the other filters"
    return [
        CurationSkip(generation_id=i, reason=reason)
        for i in dict.fromkeys(selection.ids or ())
        if i not in found
    ]


def _stored(current: list[ItemRow]) -> list[DatasetItemIn]:
    # Stored items are kept exactly as they are (validated when they were published).
    return [
        DatasetItemIn.model_construct(input=i, expected=e, contexts=c, metadata=m)
        for _, i, e, c, m in current
    ]


async def add_from_generations(
    session: AsyncSession,
    *,
    name: str,
    selection: CurationCreate,
    author: str,
    limits: DatasetLimits = DatasetLimits(),
) -> CurationResult:
    """Add the selected recorded calls as items: a new version of `name` (created if absent)."""
    problem = name_problem(name)
    if problem:
        raise InvalidDatasetError(problem.replace("prompt name", "dataset name"))
    repo = DatasetRepository(session)
    # Locked: a publish in between would be lost from the version built on these items.
    dataset = await repo.get(name, for_update=not selection.dry_run)
    if dataset is not None:
        check_active("dataset", dataset, doing="adding calls to it")
    current = await _current_items(repo, dataset)
    rows = await _selected(session, selection)
    wanted = {(r.prompt_name, r.prompt_version) for r in rows if r.prompt_version is not None}
    versions = await PromptRepository(session).versions_by_number(wanted)
    contents = {key: content_of(version) for key, version in versions.items()}
    # Off the event loop: each recovery is bounded, but a thousand of them add up.
    added, skipped = await asyncio.to_thread(_build, rows, contents, current)
    result = CurationResult(
        name=name,
        version=dataset.current_version if dataset is not None else None,
        created=False,
        dry_run=selection.dry_run,
        selected=len(rows),
        added=len(added),
        generation_ids=[generation_id for generation_id, _ in added],
        skipped=_missing(selection, rows) + skipped,
    )
    if not added or selection.dry_run:
        return result
    data = DatasetVersionCreate(
        items=[*_stored(current), *(item for _, item in added)],
        description=selection.description,
        message=selection.message or f"{len(added)} item(s) from recorded calls",
    )
    version, created = await publish_dataset_version(
        session, name=name, data=data, author=author, limits=limits
    )
    return result.model_copy(update={"version": version.version, "created": created})
