"""bench/gateway.py still runs: servers start, answers are checked, figures come out.

Timings are printed, never asserted (docs/benchmarks.md has the figures).
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


@pytest.mark.parametrize("stream", [False, True])
def test_the_gateway_benchmark_runs(stream: bool) -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "gateway.py"),
        *("--requests", "20", "--rounds", "1", "--concurrency", "1", "2", "--json"),
        *(["--stream"] if stream else []),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=server_env(), timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    runs = json.loads(result.stdout)
    assert [(run["concurrency"], run["stream"]) for run in runs] == [(1, stream), (2, stream)]
    for run in runs:
        assert run["requests_per_target"] == 20
        for path in ("direct", "gateway"):
            assert run[path]["p50_ms"] > 0
            # /proc counts CPU in 10 ms ticks: 20 requests may show none.
            assert run[path]["server_cpu_ms_per_request"] >= 0
        assert {"added_p50_ms", "ratio_p50", "meets_target"} <= set(run)
