"""Benchmark analytics from rollups on PostgreSQL: query latency, ingest cost, percentile error.

Loads `--rows` generations spread over `--days` days (ending now) into a fresh database through
the service's own write path (`tracing.inserts.insert_rows`, `--batch` rows per transaction, so
the rollups are built as in production), then measures, in the same run:

- usage_7d_by_version: `GET /v1/analytics/usage` over the last 7 days, all prompts, grouped by
  version (p50 of `--repeat` runs);
- prompt_30d: one prompt's whole range (up to 30 days), grouped by version (p50);
- ingest ratio: rows/s of insert_rows with rollups over rows/s without (rollup writes switched
  off for the baseline), alternating batches of the same shape;
- p95 error: the 7-day p95 latency from the rollups against PostgreSQL's exact
  percentile_cont over the generations.

Figures are printed (JSON with --json); timings never make it fail.

    .venv/bin/python bench/analytics.py [--rows 20000] [--days 7] [--url postgresql://…]
    .venv/bin/python bench/analytics.py --rows 10000000 --days 30   # the issue's size
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Final
from unittest import mock

import sqlalchemy as sa

from api.bootstrap import bootstrap
from api.db import Database, sync_url
from api.migrate import upgrade
from tracing import analytics
from tracing.base import utc_now
from tracing.generation import GenerationRow
from tracing.inserts import insert_rows

PROMPTS: Final = [f"app/prompt-{i:02d}" for i in range(20)]
MODELS: Final = ["openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", "claude-3-5-haiku-20241022"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_row(rng: random.Random, started_s: float) -> dict[str, Any]:
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


async def load(db: Database, rows: int, days: int, batch: int, rng: random.Random) -> float:
    span_s = days * 86400
    started = time.perf_counter()
    for done in range(0, rows, batch):
        part = [make_row(rng, rng.uniform(0, span_s)) for _ in range(min(batch, rows - done))]
        async with db.transaction() as session:
            await insert_rows(session, part)
        if done and done % (batch * 100) == 0:
            log(f"loaded {done:,} rows")
    return rows / (time.perf_counter() - started)


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
        load_rate = await load(db, args.rows, args.days, args.batch, rng)
        async with db.reader() as session:
            await session.execute(sa.text("ANALYZE"))
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
        "batch": args.batch,
        "load_rows_per_s": round(load_rate),
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
    parser.add_argument("--batch", type=int, default=500)
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
