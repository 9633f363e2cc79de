"""bench/analytics.py still runs on PostgreSQL: rows load, reports answer, figures come out.

Both loaders run at a tiny size; the COPY loader stores rows as the write path does. Timings are
printed, never asserted (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import sync_url
from tracing.inserts import TABLE, insert_rows

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(
    os.environ.get("PROMPTLANE_TEST_DATABASE") != "postgres",
    reason="the benchmark is for PostgreSQL",
)


@postgres_only
@pytest.mark.parametrize(
    ("load", "sizes"),
    [("write-path", ("--batch", "100")), ("copy", ("--chunk", "100", "--jobs", "2"))],
)
def test_the_analytics_benchmark_runs(load: str, sizes: tuple[str, ...]) -> None:
    base = os.environ["PROMPTLANE_TEST_POSTGRES_URL"].rsplit("/", 1)[0]
    command = [
        sys.executable,
        str(ROOT / "bench" / "analytics.py"),
        *("--rows", "600", "--days", "2", "--load", load, *sizes),
        *("--repeat", "1", "--rounds", "1"),
        *("--url", f"{base}/promptlane_bench_smoke", "--json"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["load"] == load
    check = figures["load_check"]
    assert (check["rollup_calls"], check["generations"], check["equal"]) == (600, 600, True)
    assert 0 < check["folded_into_days"] <= 600  # all but the last minute's, at most
    assert figures["calls_7d"] == 600
    assert figures["p95_relative_error"] < 0.04
    assert figures["ingest"]["ratio"] > 0
    # The benchmark drops the database it made (no test leaves one behind).
    admin = sa.create_engine(sync_url(f"{base}/postgres"))
    try:
        with admin.connect() as conn:
            left = conn.scalar(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = 'promptlane_bench_smoke'")
            )
    finally:
        admin.dispose()
    assert left == 0


def _bench_loader() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "analytics_load", ROOT / "bench" / "analytics_load.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _odd_rows(load: ModuleType, rng: random.Random) -> list[dict[str, Any]]:
    """Rows that exercise every column and the normaliser (NUL, lengths, ranges, NaN, JSON)."""
    rows = [load.make_row(rng, 60.0) for _ in range(4)]
    rows[0].update(
        input_messages=[{"role": "user", "content": "a\x00b"}],
        output_text="answer\x00",
        response_model="gpt-4o-2024-08-06",
        parent_span_id="ab" * 8,
        service_name="s" * 300,
        operation="chat",
        provider="openai",
        content_hash="c" * 64,
        run_id=7,
        error_type="Timeout",
        online_eval="pending",
        response_id="chatcmpl-1",
    )
    rows[1].update(duration_ms=math.nan, cost_usd=math.inf, input_tokens=2**40, model="mine")
    rows[2].update(scores={"q": True, "r": {"value": 0.5}}, attributes={"k": [1, 2.5, None]})
    rows[3].update(is_duplicate=True, is_error=True, prompt_name=None, prompt_version=None)
    return rows


async def _stored(session: AsyncSession, trace_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return stored generations by span id: every column but the id and the trace id."""
    found = await session.execute(sa.select(TABLE).where(TABLE.c.trace_id.in_(trace_ids)))
    return {
        row["span_id"]: {k: v for k, v in row.items() if k not in ("id", "trace_id")}
        for row in found.mappings()
    }


def test_the_copy_loader_cuts_time_in_utc_days_of_pieces() -> None:
    load = _bench_loader()
    now = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
    days = load.days_of(1000, 2.5 * 86400, 150, now)
    assert len(days) == 3  # 2.5 days ending at 15:00: 21 hours, a whole day, 15 hours
    for day in days:
        first = now - timedelta(seconds=day[0][1])  # where the day's oldest piece begins
        end = now - timedelta(seconds=day[-1][0])  # where its newest piece ends
        assert first.date() == (end - timedelta(microseconds=1)).date()
        assert all(count <= 151 for _, _, count in day)  # at most `chunk`, rounded
    pieces = [piece for day in days for piece in day]
    assert sum(count for _, _, count in pieces) == 1000
    assert pieces[0][1] == 2.5 * 86400
    assert pieces[-1][0] == 0
    # Oldest first, each piece ending where the next begins.
    assert all(older[0] == newer[1] for older, newer in pairwise(pieces))
    assert all(newest < oldest for newest, oldest, _ in pieces)


@postgres_only
async def test_copy_stores_rows_as_the_write_path_does(session: AsyncSession) -> None:
    load = _bench_loader()
    rng = random.Random(5)
    rows = [load.make_row(rng, rng.uniform(0, 86400)) for _ in range(40)] + _odd_rows(load, rng)
    twins = [{**row, "trace_id": uuid.uuid4().hex} for row in rows]
    await insert_rows(session, rows)
    copied = await load.store(session, twins, load.processors(session))
    assert copied == len(rows)
    written = await _stored(session, [row["trace_id"] for row in rows])
    loaded = await _stored(session, [row["trace_id"] for row in twins])
    assert len(loaded) == len(rows)
    assert loaded == written
    # The JSON columns hold JSON, the same as the INSERT's (a null included), not text.
    kinds = await session.execute(
        sa.text(
            "SELECT DISTINCT jsonb_typeof(scores), jsonb_typeof(input_messages) FROM generations "
            "WHERE trace_id = ANY(:ids)"
        ),
        {"ids": [row["trace_id"] for row in twins]},
    )
    assert set(kinds.all()) == {("object", "null"), ("object", "array")}
