"""The one way generation rows reach the database: normalised, one INSERT, bad rows alone.

Every source (the gateway's writer, eval runs, OTLP ingest) builds its rows as a `GenerationRow`
(tracing/generation.py) and inserts them through `insert_rows`. Each row passes `normalise_row`;
then all go in one INSERT … ON CONFLICT DO NOTHING (a span stored twice is kept once) inside a
savepoint. When the database refuses the batch for its data (a
data or integrity error, a value a type or driver cannot bind), the batch is split in halves,
each inserted in a savepoint of its own, recursively (`isolate`): only the rows that cannot be
stored are dropped, so one caller's bad input never costs another caller its record. Dropped
rows are logged (source and reason, never content) and returned for the caller to count
(`count_dropped`) once its transaction commits. Any other error (the connection, a lock) is
raised unchanged: the caller retries the whole batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing import dedupe
from tracing.base import upsert_insert
from tracing.metrics import Metrics
from tracing.model_names import row_model
from tracing.models import Generation
from tracing.normalise import normalise_row
from tracing.rollups import write as rollups

log = logging.getLogger("promptlane.tracing")

TABLE: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
# Refusals of a statement's data: retrying the same rows cannot help, splitting them can.
_DATA_ERRORS: Final = (sa.exc.DataError, sa.exc.IntegrityError, sa.exc.ProgrammingError)
_BIND_ERRORS: Final = (ValueError, TypeError, OverflowError)  # raised by a driver as they are

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Dropped:
    """A generation row that could not be stored: its source and why (an error class name)."""

    source: str
    reason: str


@dataclass
class Inserted:
    """What `insert_rows` did: the rows stored (normalised) with their new ids, and the dropped."""

    stored: list[tuple[dict[str, Any], int]]
    dropped: list[Dropped]


def data_error(exc: BaseException) -> str | None:
    """Return why the database refused a statement's data, or None for any other failure."""
    if isinstance(exc, sa.exc.DBAPIError):  # a StatementError too: test it first
        if exc.connection_invalidated or not isinstance(exc, _DATA_ERRORS):
            return None
        return type(exc.orig).__name__
    if isinstance(exc, sa.exc.StatementError):  # a bind processor refused a value
        return type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
    if isinstance(exc, _BIND_ERRORS):
        return type(exc).__name__
    return None


async def isolate(
    rows: Sequence[R], insert: Callable[[Sequence[R]], Awaitable[list[T]]]
) -> tuple[list[T], list[tuple[R, str]]]:
    """Insert `rows`; when their data is refused, insert each half apart, recursively.

    `insert` must undo its own partial work when it fails (a savepoint). Returns what the
    inserts that succeeded returned, and each row refused on its own with the reason.
    """
    if not rows:
        return [], []
    try:
        return await insert(rows), []
    except Exception as exc:
        reason = data_error(exc)
        if reason is None:
            raise
        if len(rows) == 1:
            return [], [(rows[0], reason)]
    middle = len(rows) // 2
    first, first_refused = await isolate(rows[:middle], insert)
    second, second_refused = await isolate(rows[middle:], insert)
    return first + second, first_refused + second_refused


def _source(row: Mapping[str, Any]) -> str:
    return str(row.get("source") or "unknown")[:16]


def _normalised(rows: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[Dropped]]:
    clean: list[dict[str, Any]] = []
    dropped: list[Dropped] = []
    for row in rows:
        try:
            normalised = normalise_row(row)
            if normalised.get("model") is None:
                normalised["model"] = row_model(normalised)
            clean.append(normalised)
        except Exception as exc:  # a bug here must cost this row only, never the batch
            dropped.append(Dropped(_source(row), type(exc).__name__))
    return clean, dropped


async def insert_rows(session: AsyncSession, rows: Iterable[Mapping[str, Any]]) -> Inserted:
    """Normalise and insert generation rows; return those stored, with ids, and those dropped.

    A span already stored (by (trace id, span id)) is not stored again and not returned. The
    rows stored, and only they, are added to the rollups in the same transaction. A gateway
    row without a prompt link takes its stored twin's first (`dedupe.link_from_twins`).
    """
    clean, dropped = _normalised(rows)
    await dedupe.link_from_twins(session, clean)
    statement = (
        upsert_insert(session, TABLE)
        .on_conflict_do_nothing(index_elements=["trace_id", "span_id"])
        .returning(TABLE.c.id, TABLE.c.trace_id, TABLE.c.span_id)
    )

    async def insert(part: Sequence[dict[str, Any]]) -> list[Any]:
        async with session.begin_nested():
            return list((await session.execute(statement, list(part))).all())

    returned, refused = await isolate(clean, insert)
    ids = {(trace_id, span_id): id_ for id_, trace_id, span_id in returned}
    stored = []
    for row in clean:
        id_ = ids.pop((row.get("trace_id"), row.get("span_id")), None)
        if id_ is not None:
            stored.append((row, id_))
    dropped.extend(Dropped(_source(row), reason) for row, reason in refused)
    await rollups.apply(session, (row for row, _ in stored))
    for (source, reason), count in Counter((d.source, d.reason) for d in dropped).items():
        log.warning("dropped %d %s generation(s), not storable: %s", count, source, reason)
    return Inserted(stored, dropped)


def count_dropped(metrics: Metrics, dropped: Iterable[Dropped]) -> None:
    """Count dropped generations in `promptlane_generations_dropped_total{source, reason}`."""
    for (source, reason), count in Counter((d.source, d.reason) for d in dropped).items():
        metrics.record_dropped(source=source, reason=reason, count=count)
