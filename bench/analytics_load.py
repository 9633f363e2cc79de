"""Load generations for bench/analytics.py: through the service's write path, or fast by COPY.

Both loaders make their rows with `make_row` (the one definition of a benchmark row), started
uniformly over the last `days` days, and leave the rollups holding exactly those rows:

- `load_write_path`: `tracing.inserts.insert_rows`, `batch` rows per transaction, as in
  production (about 2,000 rows/s: hours at the issue's size);
- `load_copy`: time in UTC days, each a task for one of `jobs` worker processes, cut in pieces
  of at most `chunk` rows (bounded memory: about 2 KB a row, twice that while its rollups are
  summed); each piece is normalised as `insert_rows` does, written with PostgreSQL's COPY, and
  added to the rollups by the real rollup code (`tracing.rollups.write.apply`), COPY and
  rollups in one transaction per piece.

`check_load` compares the rollups' total calls with the generations they count; `vacuum_analyze`
does what autovacuum would have done to past days in production.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.bootstrap import bootstrap
from api.db import Database
from tracing.base import utc_now
from tracing.generation import GenerationRow
from tracing.inserts import insert_rows
from tracing.model_names import row_model
from tracing.models import Generation
from tracing.normalise import normalise_row
from tracing.rollups import write as rollups

PROMPTS: Final = [f"app/prompt-{i:02d}" for i in range(20)]
MODELS: Final = ["openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "claude-3-5-haiku-20241022"]
DAY_S: Final = 86400
TABLE: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
# Every column but the id, which its sequence gives, as insert_rows leaves it.
COLUMNS: Final = tuple(column.name for column in TABLE.columns if column.name != "id")
COPY: Final = f"COPY {TABLE.name} ({', '.join(COLUMNS)}) FROM STDIN"

Processor = Callable[[Any], Any] | None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_row(rng: random.Random, started_s: float) -> dict[str, Any]:
    """Return one benchmark generation, started `started_s` seconds ago."""
    now = utc_now()
    version = rng.choice((1, 2, 3))
    return GenerationRow(
        trace_id=uuid.uuid4().hex,
        span_id=uuid.uuid4().hex[:16],
        source=rng.choice(("ingest", "ingest", "gateway")),
        started_at=now - timedelta(seconds=started_s),
        created_at=now,
        finish_reasons=["stop"],
        scores={"quality": rng.random()} if rng.random() < 0.2 else {},
        safety_flags=["pii"] if rng.random() < 0.01 else [],
        attributes={},
        prompt_name=rng.choice(PROMPTS),
        prompt_version=version,
        prompt_label="production" if version == 2 else None,
        request_model=rng.choice(MODELS),
        duration_ms=rng.lognormvariate(6.0, 0.6),
        input_tokens=rng.randint(50, 2000),
        output_tokens=rng.randint(10, 500),
        cost_usd=rng.random() / 1000,
        input_chars=rng.randint(100, 8000),
        is_error=rng.random() < 0.02,
    ).as_insert()


def _progress(done: int, started: float) -> None:
    log(f"loaded {done:,} rows, {done / (time.perf_counter() - started):,.0f} rows/s")


async def load_write_path(
    db: Database, rows: int, days: int, batch: int, rng: random.Random
) -> float:
    """Insert `rows` generations through `insert_rows`, `batch` per transaction; return rows/s."""
    span_s = days * DAY_S
    started = time.perf_counter()
    for done in range(0, rows, batch):
        part = [make_row(rng, rng.uniform(0, span_s)) for _ in range(min(batch, rows - done))]
        async with db.transaction() as session:
            await insert_rows(session, part)
        if done and done % (batch * 100) == 0:
            _progress(done, started)
    return rows / (time.perf_counter() - started)


Piece = tuple[float, float, int]  # (newest, oldest) in seconds before now, and its rows


def days_of(rows: int, span_s: float, chunk: int, now: datetime) -> list[list[Piece]]:
    """Split the last `span_s` seconds before `now` into UTC days of pieces, oldest first.

    Each UTC day (the first and last in part) is cut evenly so that no piece expects more than
    `chunk` rows. A piece's rows are in proportion to its length, `rows` in all: uniform start
    times, as `load_write_path` draws them.
    """
    start = now.timestamp() - span_s
    bounds = [0.0]
    midnight = (start // DAY_S + 1) * DAY_S
    while midnight < now.timestamp():
        bounds.append(midnight - start)
        midnight += DAY_S
    bounds.append(span_s)
    days = []
    for low, high in pairwise(bounds):
        parts = max(1, math.ceil(rows * (high - low) / span_s / chunk))
        cuts = [low + (high - low) * i / parts for i in range(parts)] + [high]
        days.append(
            [
                (span_s - b, span_s - a, round(rows * b / span_s) - round(rows * a / span_s))
                for a, b in pairwise(cuts)
            ]
        )
    return days


def normalised(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a row as `insert_rows` stores it (tracing/inserts.py `_normalised`)."""
    out = normalise_row(row)
    if out.get("model") is None:
        out["model"] = row_model(out)
    return out


def processors(session: AsyncSession) -> list[tuple[str, Processor]]:
    """Return each column with the bind processor SQLAlchemy sends its values through.

    So COPY gets what insert_rows' INSERT gets: UTC timestamps (a naive one is refused), the
    JSON columns as JSON (`None` as JSON null, as the INSERT stores it), booleans checked.
    """
    dialect = session.get_bind().dialect
    return [
        (name, TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in COLUMNS
    ]


async def copy_rows(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], columns: list[tuple[str, Processor]]
) -> int:
    """COPY normalised generation rows into `generations` in the session's transaction."""
    expected = set(COLUMNS)
    # The driver's own connection, so COPY runs in the transaction the rollups are written in.
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None
    copied = 0
    async with driver.cursor() as cursor, cursor.copy(COPY) as copy:
        for row in rows:
            if row.keys() != expected:
                raise ValueError(f"a row's columns are not the table's: {set(row) ^ expected}")
            await copy.write_row(
                [row[name] if process is None else process(row[name]) for name, process in columns]
            )
            copied += 1
    return copied


async def store(
    session: AsyncSession, rows: Iterable[Mapping[str, Any]], columns: list[tuple[str, Processor]]
) -> int:
    """Normalise, COPY and add to the rollups generation rows, as insert_rows would store them."""
    clean = [normalised(row) for row in rows]
    copied = await copy_rows(session, clean, columns)
    await rollups.apply(session, clean)
    return copied


async def _load_pieces(url: str, pieces: list[Piece], seed: str) -> int:
    rng = random.Random(seed)
    db = Database.from_url(url, pool_size=1)
    try:
        done = 0
        for newest, oldest, count in pieces:
            part = [make_row(rng, rng.uniform(newest, oldest)) for _ in range(count)]
            async with db.transaction() as session:
                done += await store(session, part, processors(session))
        return done
    finally:
        await db.dispose()


def load_day(url: str, pieces: list[Piece], seed: str) -> int:
    """Store one UTC day's pieces (in a worker process); return the rows stored."""
    bootstrap()
    return asyncio.run(_load_pieces(url, pieces, seed))


async def load_copy(url: str, rows: int, days: int, chunk: int, jobs: int, seed: int) -> float:
    """Store `rows` generations by COPY, a UTC day per task, in `jobs` processes; return rows/s.

    Each day's rows come from a generator seeded by `seed` and the day: the same rows whatever
    `jobs` is. Days touch rollup rows of their own: workers seldom wait for each other's locks.
    """
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    done = 0
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        tasks = [
            loop.run_in_executor(pool, load_day, url, pieces, f"{seed}/{index}")
            for index, pieces in enumerate(days_of(rows, days * DAY_S, chunk, utc_now()))
        ]
        try:
            for task in asyncio.as_completed(tasks):
                done += await task
                _progress(done, started)
        except BaseException:  # a failed day fails the load: no more days
            for task in tasks:
                task.cancel()
            pool.shutdown(cancel_futures=True)
            raise
    return rows / (time.perf_counter() - started)


async def check_load(db: Database) -> dict[str, Any]:
    """Return the rollups' calls against the generations counted.

    At the minute level, which holds every call; at the day level, those folded (or late).
    """
    query = "SELECT sum(calls) FROM generation_rollups WHERE period_s = :period"
    async with db.reader() as session:
        minutes = int(await session.scalar(sa.text(query), {"period": 60}) or 0)
        days = int(await session.scalar(sa.text(query), {"period": DAY_S}) or 0)
        counted = await session.scalar(
            sa.text("SELECT count(*) FROM generations WHERE NOT is_duplicate")
        )
    return {
        "rollup_calls": minutes,
        "generations": counted,
        "equal": minutes == counted,
        "folded_into_days": days,
    }


async def vacuum_analyze(db: Database) -> float:
    """Run VACUUM ANALYZE on the whole database (outside a transaction); return seconds."""
    assert db.engine is not None
    started = time.perf_counter()
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(sa.text("VACUUM ANALYZE"))
    return time.perf_counter() - started
