"""Benchmark analytics from rollups on PostgreSQL: query latency, ingest cost, percentile error.

Loads `--rows` generations spread over `--days` days (ending now) into a fresh database, then
measures, in the same run:

- usage_7d_by_version: `GET /v1/analytics/usage` over the last 7 days, all prompts, grouped by
  version (p50 of `--repeat` runs);
- prompt_30d: one prompt's whole range (up to 30 days), grouped by version (p50);
- ingest ratio: rows/s of insert_rows with rollups over rows/s without (rollup writes switched
  off for the baseline), alternating batches of the same shape;
- p95 error: the 7-day p95 latency from the rollups against PostgreSQL's exact
  percentile_cont over the generations.

Two loaders (bench/analytics_load.py), the same rows (`make_row`) and the same rollups (the
service's own rollup code) either way:

- `--load copy` (the default, at every size, so that figures of any size come from one
  loader): time in UTC days, oldest first, each cut in pieces of at most `--chunk` rows; each
  piece is normalised as insert_rows does, written with COPY, and added to the rollups by
  `tracing.rollups.write.apply` in the same transaction. Days are loaded by `--jobs` worker
  processes (more on a quiet machine with cores to spare: the loader is bound by Python's CPU,
  mostly the rollup writes). About 5,000 rows/s with one job on a shared 2-core machine (about
  35 minutes at the issue's size). Rows land in time order, as production's do, so
  `generations.started_at` and the rollups' `bucket_start` are correlated with their pages;
- `--load write-path`: the service's write path (`tracing.inserts.insert_rows`, `--batch` rows
  per transaction), as in production, about 2,000 rows/s (1.5 hours at the issue's size); its
  rows land in random time order (no such correlation: queries over a range read more pages).
  Figures measured before `--load copy` existed were loaded this way.

After loading, the minutes written after the database's fold state (the last ones, up to now)
are folded into their hours and days, as the server's fold job does every 30 s
(api/server/rollup_fold.py); then `VACUUM ANALYZE` (not only ANALYZE): autovacuum would have
vacuumed past days in production, and the visibility map it leaves decides whether PostgreSQL
can scan indexes only. `load_check` then compares the rollups' total calls (per-minute
rollups, which hold every call) with the generations they count: the load is right when they
are equal (printed, never asserted). The ingest ratio's batches fall after the fold state, so
they write minute rollups only, as a server's live traffic does. Figures are printed
(JSON with --json); timings never make it fail.

    .venv/bin/python bench/analytics.py [--rows 20000] [--days 7] [--url postgresql://…]
    .venv/bin/python bench/analytics.py --rows 10000000 --days 30 [--jobs 2]   # the issue's size
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import sqlalchemy as sa
from analytics_load import (
    PROMPTS,
    check_load,
    load_copy,
    load_write_path,
    make_row,
    vacuum_analyze,
)

from api.bootstrap import bootstrap
from api.db import Database, sync_url
from api.migrate import upgrade
from api.server.rollup_fold import fold_due
from tracing import analytics
from tracing.base import utc_now
from tracing.inserts import insert_rows


def _admin(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database (creating or dropping `url`'s)."""
    admin = sa.create_engine(
        sync_url(url.rsplit("/", 1)[0] + "/postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        admin.dispose()


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    upgrade(url)


def drop_database(url: str) -> None:
    _admin(url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def ingest_ratio(
    db: Database, batch: int, rounds: int, rng: random.Random
) -> dict[str, float]:
    """Rows/s with and without rollup writes, alternating, on fresh rows near now."""
    timings: dict[str, list[float]] = {"with": [], "without": []}

    async def once() -> float:
        part = [make_row(rng, rng.uniform(0, 60)) for _ in range(batch)]
        started = time.perf_counter()
        async with db.transaction() as session:
            await insert_rows(session, part)
        return batch / (time.perf_counter() - started)

    async def no_rollups(session: Any, rows: Any, sign: int = 1) -> None:
        return None

    for _ in range(rounds):
        timings["with"].append(await once())
        with mock.patch("tracing.inserts.rollups.apply", no_rollups):
            timings["without"].append(await once())
    with_ = statistics.median(timings["with"])
    without = statistics.median(timings["without"])
    return {"with_rows_per_s": with_, "without_rows_per_s": without, "ratio": with_ / without}


async def p50_ms(run: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap()
    fresh_database(args.url)
    db = Database.from_url(args.url)
    rng = random.Random(args.seed)
    try:
        if args.load == "copy":
            load_rate = await load_copy(
                args.url, args.rows, args.days, args.chunk, args.jobs, args.seed
            )
        else:
            load_rate = await load_write_path(db, args.rows, args.days, args.batch, rng)
        fold_started = time.perf_counter()
        folded = await fold_due(db)  # what the server's fold job does every 30 s
        fold_s = time.perf_counter() - fold_started
        vacuum_s = await vacuum_analyze(db)
        load_check = await check_load(db)
        async with db.reader() as session:
            now = utc_now()
            week = {"start": now - timedelta(days=7), "end": now}
            whole = {"start": now - timedelta(days=min(args.days, 30)), "end": now}

            async def by_version() -> Any:
                return await analytics.usage(session, group_by=["version"], **week)

            async def one_prompt() -> Any:
                filters = analytics.UsageFilter(prompt=PROMPTS[0])
                return await analytics.usage(
                    session, group_by=["version"], filters=filters, **whole
                )

            usage_7d = await p50_ms(by_version, args.repeat)
            prompt_30d = await p50_ms(one_prompt, args.repeat)
            [total] = (await analytics.usage(session, group_by=[], **week)).rows
            exact = await session.scalar(
                sa.text(
                    "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) "
                    "FROM generations WHERE started_at >= :s AND started_at < :e"
                ),
                {"s": week["start"], "e": week["end"]},
            )
        ratio = await ingest_ratio(db, args.batch, args.rounds, rng)
    finally:
        await db.dispose()
        if not args.keep:  # gigabytes at the real size: gone unless asked for
            drop_database(args.url)
    assert total.latency_p95_ms is not None
    assert exact is not None
    return {
        "rows": args.rows,
        "days": args.days,
        "load": args.load,
        "batch": args.batch,
        "chunk": args.chunk if args.load == "copy" else None,
        "jobs": args.jobs if args.load == "copy" else None,
        "load_rows_per_s": round(load_rate),
        "fold": {"minute_rows": folded, "s": round(fold_s, 1)},
        "vacuum_analyze_s": round(vacuum_s, 1),
        "load_check": load_check,
        "usage_7d_by_version_p50_ms": round(usage_7d, 1),
        "prompt_30d_p50_ms": round(prompt_30d, 1),
        "calls_7d": total.calls,
        "ingest": {k: round(v, 3) for k, v in ratio.items()},
        "p95_ms": {"rollups": round(total.latency_p95_ms, 2), "exact": round(exact, 2)},
        "p95_relative_error": round(abs(total.latency_p95_ms - exact) / exact, 5),
        "python": platform.python_version(),
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--load", choices=("copy", "write-path"), default="copy")
    parser.add_argument("--batch", type=int, default=500, help="rows per write-path batch")
    parser.add_argument("--chunk", type=int, default=100_000, help="most rows per COPY piece")
    parser.add_argument("--jobs", type=int, default=1, help="processes loading days by COPY")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10, help="ingest batches per mode")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/promptlane_bench")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    outcome = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(outcome, indent=2))
    else:
        for key, value in outcome.items():
            print(f"{key}: {value}")
