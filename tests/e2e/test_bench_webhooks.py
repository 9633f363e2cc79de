"""bench/webhooks.py still runs: servers start, every delivery arrives, figures come out.

Timings are printed, never asserted (docs/benchmarks.md has the figures). The script itself
fails when a server does not start, a write is refused or a delivery never arrives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import server_env

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_the_webhooks_benchmark_runs() -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "webhooks.py"),
        *("--events", "20", "--endpoints", "3", "--requests", "10", "--rounds", "1", "--json"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=server_env(), timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["database"] == "sqlite"
    flow = figures["throughput"]
    assert (flow["events"], flow["endpoints"], flow["deliveries"]) == (20, 3, 60)
    assert flow["duplicates"] == 0
    assert flow["events_per_s"] > 0
    assert flow["bare_posts_per_s"] > 0
    timed = figures["latency"]
    assert (timed["endpoints"], timed["black_holed"], timed["requests_per_server"]) == (3, 1, 10)
    for side in ("no_endpoints", "endpoints_subscribed"):
        assert timed[side]["p50_ms"] > 0
    assert isinstance(timed["meets_target"], bool)
