"""bench/console.py still runs: the server starts, every page's requests answer, figures come out.

Timings are printed, never asserted (docs/benchmarks.md has the figures). The script itself
fails on a wrong status or an empty list where it seeded data.
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


def test_the_console_benchmark_runs() -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "console.py"),
        *("--prompts", "60", "--items", "120", "--repeat", "2", "--json"),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=server_env(), timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert (figures["prompts"], figures["run_items"], figures["database"]) == (60, 120, "sqlite")
    assert figures["baseline"]["p50_ms"] > 0
    pages = {page["page"]: page for page in figures["pages"]}
    # Every page the console has, by what it requests (api/server/console/*.js).
    assert {"prompts, page 1", "run page, items page 1", "compare two runs, page 1"} <= set(pages)
    assert {"dataset page, items page 1", "suite page", "calls, page 1", "call page"} <= set(pages)
    assert {"webhooks", "webhook page, deliveries page 1", "webhook delivery"} <= set(pages)
    assert {"incidents", "monitors", "monitor page, checks page 1"} <= set(pages)
    for page in figures["pages"]:
        assert page["p50_ms"] > 0
        assert page["requests"], page
        assert isinstance(page["meets_target"], bool)
