"""Suites as code: parse a suite's YAML or JSON, validate it, store its versions by hash."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from evals.errors import InvalidSuiteError, SuiteNotFoundError
from evals.models import Suite, SuiteVersion
from evals.schemas import SuiteRead, SuiteSpec, SuiteVersionRead
from evals.scorers.registry import validate_scorer_specs
from prompts.base import metadata, upsert_insert, utc_now
from prompts.errors import FieldProblem
from prompts.hashing import sha256_hex
from prompts.schemas import Page

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
    return spec


def _version_read(name: str, row: SuiteVersion) -> SuiteVersionRead:
    return SuiteVersionRead(
        name=name,
        version=row.version,
        content_hash=row.content_hash,
        spec=SuiteSpec.model_validate(row.spec),
        author=row.author,
        created_at=row.created_at,
    )


async def _insert_suite(session: AsyncSession, name: str, description: str) -> None:
    table = metadata.tables["suites"]
    values = {"name": name, "description": description, "created_at": utc_now()}
    insert = upsert_insert(session, table).values(**values)
    await session.execute(insert.on_conflict_do_nothing(index_elements=["name"]))


async def publish_suite(
    session: AsyncSession, *, spec: SuiteSpec, author: str
) -> tuple[SuiteVersionRead, bool]:
    """Store a suite version; return it and True, or the identical stored one and False."""
    stored = spec.model_dump(mode="json")
    digest = sha256_hex(stored)
    await _insert_suite(session, spec.name, spec.description)
    suite = (
        await session.execute(select(Suite).where(Suite.name == spec.name).with_for_update())
    ).scalar_one()
    assert suite.id is not None
    suite.description = spec.description
    existing = (
        await session.execute(
            select(SuiteVersion).where(
                SuiteVersion.suite_id == suite.id, SuiteVersion.content_hash == digest
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        await session.flush()
        return _version_read(spec.name, existing), False
    latest = await session.scalar(
        select(sa.func.max(SuiteVersion.version)).where(SuiteVersion.suite_id == suite.id)
    )
    row = SuiteVersion(
        suite_id=suite.id,
        version=(latest or 0) + 1,
        spec=stored,
        content_hash=digest,
        author=author,
        created_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    return _version_read(spec.name, row), True


async def get_suite_version(
    session: AsyncSession, *, name: str, version: int | None = None
) -> tuple[Suite, SuiteVersion]:
    """Return a suite and one of its versions (the newest when `version` is None)."""
    suite = (await session.execute(select(Suite).where(Suite.name == name))).scalar_one_or_none()
    if suite is None:
        raise SuiteNotFoundError(f"no suite named {name!r}: push it with `promptlane suites push`")
    stmt = select(SuiteVersion).where(SuiteVersion.suite_id == suite.id)
    if version is not None:
        stmt = stmt.where(SuiteVersion.version == version)
    row = (
        await session.execute(stmt.order_by(col(SuiteVersion.version).desc()).limit(1))
    ).scalar_one_or_none()
    if row is None:
        raise SuiteNotFoundError(f"suite {name!r} has no version {version}")
    return suite, row


async def read_suite_version(
    session: AsyncSession, *, name: str, version: int | None = None
) -> SuiteVersionRead:
    """Return a suite version (the newest by default)."""
    _, row = await get_suite_version(session, name=name, version=version)
    return _version_read(name, row)


async def list_suite_versions(session: AsyncSession, *, name: str) -> list[SuiteVersionRead]:
    """Return every version of a suite, newest first."""
    suite, _ = await get_suite_version(session, name=name)
    rows = (
        await session.execute(
            select(SuiteVersion)
            .where(SuiteVersion.suite_id == suite.id)
            .order_by(col(SuiteVersion.version).desc())
        )
    ).scalars()
    return [_version_read(name, row) for row in rows]


async def list_suites(
    session: AsyncSession, *, query: str | None = None, limit: int = 50, offset: int = 0
) -> Page[SuiteRead]:
    """List suites by name with their newest version number."""
    latest = (
        select(SuiteVersion.suite_id, sa.func.max(SuiteVersion.version).label("latest"))
        .group_by(col(SuiteVersion.suite_id))
        .subquery()
    )
    stmt = select(Suite, latest.c.latest).join(latest, latest.c.suite_id == Suite.id)
    if query:
        stmt = stmt.where(col(Suite.name).ilike(f"%{query}%"))
    total = await session.scalar(select(sa.func.count()).select_from(stmt.subquery()))
    rows = await session.execute(stmt.order_by(col(Suite.name)).limit(limit).offset(offset))
    items = [
        SuiteRead(
            name=suite.name,
            description=suite.description,
            latest_version=latest_version,
            created_at=suite.created_at,
        )
        for suite, latest_version in rows
    ]
    return Page(items=items, total=total or 0, limit=limit, offset=offset)
