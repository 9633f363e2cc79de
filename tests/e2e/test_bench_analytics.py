"""bench/analytics.py still runs on PostgreSQL: rows load, reports answer, figures come out.

Timings are printed, never asserted (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.db import sync_url

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    os.environ.get("PROMPTLANE_TEST_DATABASE") != "postgres",
    reason="the benchmark is for PostgreSQL",
)
def test_the_analytics_benchmark_runs() -> None:
    base = os.environ["PROMPTLANE_TEST_POSTGRES_URL"].rsplit("/", 1)[0]
    command = [
        sys.executable,
        str(ROOT / "bench" / "analytics.py"),
        *("--rows", "600", "--days", "2", "--batch", "100", "--repeat", "1", "--rounds", "1"),
        *("--url", f"{base}/promptlane_bench_smoke", "--json"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
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
