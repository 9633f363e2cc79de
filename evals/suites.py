"""Suites as code: parse a suite's YAML or JSON, validate it, store its versions by hash.

A suite version pins the dataset version and judge prompt versions it resolves to when it is
pushed (they are part of its hash), so what it measures can never change under it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.datasets.repository import DatasetRepository
from evals.errors import InvalidSuiteError, SuiteArchivedError, SuiteNotFoundError
from evals.models import DatasetVersion, Suite, SuiteVersion
from evals.schemas import SuiteRead, SuiteSpec, SuiteVersionRead
from evals.scorers.registry import judge_refs, state_scanned_sides, validate_scorer_specs
from promptlane_client.errors import FieldProblem
from promptlane_client.hashing import sha256_hex
from prompts import service as prompts
from prompts.archive import archived_detail, check_active, set_archived
from prompts.base import metadata, upsert_insert, utc_now
from prompts.errors import PromptsError
from prompts.policy import Actor
from prompts.schemas import ArchiveEventRead, Page, parse_prompt_ref

MAX_SUITE_BYTES = 256_000
# YAML aliases share nodes, so a few hundred bytes can expand to billions of values that
# validation (a json_schema check) and hashing would walk; a real suite has hundreds.
MAX_SUITE_VALUES = 10_000


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "#/" + "/".join(str(part) for part in loc)


def _expands_beyond(value: Any, limit: int) -> bool:
    """Return whether `value` holds more than `limit` values once aliases are expanded."""
    stack, seen = [value], 0
    while stack:
        seen += 1
        if seen > limit:
            return True
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def parse_suite(text: str | bytes) -> SuiteSpec:
    """Parse a suite from YAML (JSON is YAML too) and validate it; errors point at fields."""
    if len(text) > MAX_SUITE_BYTES:
        raise InvalidSuiteError(f"the suite is larger than {MAX_SUITE_BYTES} bytes")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidSuiteError(f"the suite is not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise InvalidSuiteError("a suite must be a mapping with name, dataset, scorers, gates")
    return validate_suite(raw)


def validate_suite(raw: dict[str, Any]) -> SuiteSpec:
    """Validate a suite's JSON form, including every scorer's parameters."""
    if _expands_beyond(raw, MAX_SUITE_VALUES):
        raise InvalidSuiteError(
            f"the suite holds more than {MAX_SUITE_VALUES} values (YAML aliases expanded)"
        )
    try:
        spec = SuiteSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem(
                pointer=(e.get("ctx") or {}).get("pointer") or _pointer(tuple(e["loc"])),
                detail=e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        first = problems[0]
        raise InvalidSuiteError(f"{first.pointer}: {first.detail}", errors=problems) from None
    validate_scorer_specs(spec.scorers)
    state_scanned_sides(spec.scorers)
    return spec


def _version_read(
    name: str, row: SuiteVersion, *, dataset: DatasetVersion | None, current: int | None
) -> SuiteVersionRead:
    spec = SuiteSpec.model_validate(row.spec)
    return SuiteVersionRead(
        name=name,
        version=row.version,
        content_hash=row.content_hash,
        spec=spec,
        dataset_version=dataset.version if dataset else None,
        dataset_content_hash=dataset.content_hash if dataset else None,
        judges=row.judges,
        is_current=row.version == current,
        author=row.author,
        created_at=row.created_at,
    )


async def _insert_suite(session: AsyncSession, name: str, description: str) -> None:
    table = metadata.tables["suites"]
    values = {"name": name, "description": description, "created_at": utc_now()}
    insert = upsert_insert(session, table).values(**values)
    await session.execute(insert.on_conflict_do_nothing(index_elements=["name"]))


async def pinned_dataset(session: AsyncSession, spec: SuiteSpec) -> DatasetVersion:
    """Return the dataset version a suite pins: the one it names, else the current one."""
    ref = spec.dataset
    dataset = await DatasetRepository(session).get(ref.name)
    if dataset is None:
        raise InvalidSuiteError(
            f"the suite's dataset {ref.name!r} does not exist: push it first "
            "(`promptlane datasets push FILE --name NAME`); a suite pins its dataset's version",
            errors=[FieldProblem("#/dataset", f"no dataset named {ref.name!r}")],
        )
    assert dataset.id is not None
    check_active("dataset", dataset, doing="pushing suites that use it")
    number = ref.version if ref.version is not None else dataset.current_version
    found = await DatasetRepository(session).version(dataset.id, number)
    if found is None:
        raise InvalidSuiteError(
            f"dataset {ref.name!r} has no version {number}",
            errors=[FieldProblem("#/dataset/version", f"no version {number}")],
        )
    return found


async def pinned_judges(session: AsyncSession, spec: SuiteSpec) -> dict[str, dict[str, Any]]:
    """Pin every judge prompt reference of the suite to the version it resolves to now."""
    pinned: dict[str, dict[str, Any]] = {}
    for ref in sorted(judge_refs(spec.scorers)):
        name, label, version = parse_prompt_ref(ref)
        try:
            judge, found = await prompts.find_version(
                session, name=name, label=label, version=version
            )
            check_active("prompt", judge, doing="judging with it")
        except PromptsError as exc:
            raise InvalidSuiteError(f"judge prompt {ref!r}: {exc}") from None
        pinned[ref] = {"name": name, "version": found.version, "content_hash": found.content_hash}
    return pinned


def suite_content_hash(
    stored: dict[str, Any], dataset: DatasetVersion, judges: dict[str, dict[str, Any]]
) -> str:
    """Return a suite version's hash: its spec, the dataset version and judges it pins."""
    pinned = {"version": dataset.version, "content_hash": dataset.content_hash}
    return sha256_hex({"spec": stored, "dataset": pinned, "judges": judges})


async def publish_suite(
    session: AsyncSession, *, spec: SuiteSpec, author: str
) -> tuple[SuiteVersionRead, bool]:
    """Store a suite version and make it current; return it and whether it is new.

    The version pins the dataset version and judge prompt versions it resolves to now; pushing
    content identical to an older version makes that version current again.
    """
    stored = spec.model_dump(mode="json")
    dataset = await pinned_dataset(session, spec)
    judges = await pinned_judges(session, spec)
    digest = suite_content_hash(stored, dataset, judges)
    await _insert_suite(session, spec.name, spec.description)
    suite = (
        await session.execute(select(Suite).where(Suite.name == spec.name).with_for_update())
    ).scalar_one()
    assert suite.id is not None
    check_active("suite", suite, doing="pushing to it")
    suite.description = spec.description
    existing = await session.scalar(
        select(SuiteVersion).where(
            SuiteVersion.suite_id == suite.id, SuiteVersion.content_hash == digest
        )
    )
    created = existing is None
    if existing is None:
        latest = await session.scalar(
            select(sa.func.max(SuiteVersion.version)).where(SuiteVersion.suite_id == suite.id)
        )
        existing = SuiteVersion(
            suite_id=suite.id,
            version=(latest or 0) + 1,
            spec=stored,
            dataset_version_id=dataset.id,
            judges=judges,
            content_hash=digest,
            author=author,
            created_at=utc_now(),
        )
        session.add(existing)
    suite.current_version = existing.version
    await session.flush()
    return _version_read(
        spec.name, existing, dataset=dataset, current=suite.current_version
    ), created


async def get_suite_version(
    session: AsyncSession, *, name: str, version: int | None = None
) -> tuple[Suite, SuiteVersion]:
    """Return a suite and one of its versions (the current one when `version` is None)."""
    suite = (await session.execute(select(Suite).where(Suite.name == name))).scalar_one_or_none()
    if suite is None:
        raise SuiteNotFoundError(f"no suite named {name!r}: push it with `promptlane suites push`")
    stmt = select(SuiteVersion).where(SuiteVersion.suite_id == suite.id)
    number = version if version is not None else suite.current_version
    if number is not None:
        stmt = stmt.where(SuiteVersion.version == number)
    row = (
        await session.execute(stmt.order_by(col(SuiteVersion.version).desc()).limit(1))
    ).scalar_one_or_none()
    if row is None:
        raise SuiteNotFoundError(f"suite {name!r} has no version {version}")
    return suite, row


async def _dataset_of(session: AsyncSession, row: SuiteVersion) -> DatasetVersion | None:
    if row.dataset_version_id is None:
        return None
    return await session.get(DatasetVersion, row.dataset_version_id)


async def read_suite_version(
    session: AsyncSession, *, name: str, version: int | None = None
) -> SuiteVersionRead:
    """Return a suite version (the current one by default, which an archived suite has not)."""
    suite, row = await get_suite_version(session, name=name, version=version)
    if version is None and suite.archived_at is not None:
        raise SuiteArchivedError(archived_detail("suite", name))
    dataset = await _dataset_of(session, row)
    return _version_read(name, row, dataset=dataset, current=suite.current_version)


async def list_suite_versions(session: AsyncSession, *, name: str) -> list[SuiteVersionRead]:
    """Return every version of a suite, newest first."""
    suite, _ = await get_suite_version(session, name=name)
    rows = (
        await session.execute(
            select(SuiteVersion, DatasetVersion)
            .outerjoin(
                DatasetVersion, col(DatasetVersion.id) == col(SuiteVersion.dataset_version_id)
            )
            .where(SuiteVersion.suite_id == suite.id)
            .order_by(col(SuiteVersion.version).desc())
        )
    ).tuples()
    return [
        _version_read(name, row, dataset=dataset, current=suite.current_version)
        for row, dataset in rows
    ]


async def list_suites(
    session: AsyncSession,
    *,
    query: str | None = None,
    archived: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page[SuiteRead]:
    """List suites in use (or archived ones) by name with their newest version number."""
    latest = (
        select(SuiteVersion.suite_id, sa.func.max(SuiteVersion.version).label("latest"))
        .group_by(col(SuiteVersion.suite_id))
        .subquery()
    )
    archived_at = col(Suite.archived_at)
    stmt = (
        select(Suite, latest.c.latest)
        .join(latest, latest.c.suite_id == Suite.id)
        .where(archived_at.is_not(None) if archived else archived_at.is_(None))
    )
    if query:
        stmt = stmt.where(col(Suite.name).ilike(f"%{query}%"))
    total = await session.scalar(select(sa.func.count()).select_from(stmt.subquery()))
    rows = await session.execute(stmt.order_by(col(Suite.name)).limit(limit).offset(offset))
    items = [
        SuiteRead(
            name=suite.name,
            description=suite.description,
            latest_version=latest_version,
            current_version=suite.current_version or latest_version,
            created_at=suite.created_at,
            archived_at=suite.archived_at,
        )
        for suite, latest_version in rows
    ]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)


async def set_suite_archived(
    session: AsyncSession, *, name: str, archive: bool, actor: Actor, reason: str = ""
) -> ArchiveEventRead:
    """Archive (or restore) a suite, audited; its versions and runs stay."""
    stmt = select(Suite).where(Suite.name == name).with_for_update()
    suite = (await session.execute(stmt)).scalar_one_or_none()
    if suite is None:
        raise SuiteNotFoundError(f"no suite named {name!r}")
    return await set_archived(
        session, suite, kind="suite", archive=archive, actor=actor, reason=reason
    )
