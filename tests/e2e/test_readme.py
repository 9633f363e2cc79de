"""The README's tour runs as written against a real server."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DatabaseFactory
from tests.e2e.server import server_env, start_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"<!-- tour -->\n```bash\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README lost its tour"
    return "\n".join(blocks)


def test_readme_tour(databases: DatabaseFactory, tmp_path: Path) -> None:
    creds = tmp_path / "credentials.json"
    server = start_server(
        tmp_path, database_url=databases.create(migrate=False), credentials_file=str(creds)
    )
    try:
        script = tour_script().replace("http://127.0.0.1:8000", server.url)
        env = server_env(url=server.url, credentials_file=str(creds))
        env["TMPDIR"] = str(tmp_path)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "created" in out
    assert "unchanged" in out
    assert "conditional fetch: 304" in out
    assert "You triage tickets for ACME." in out
    assert "missing variables: ticket" in out
    assert "config.temperature" in out
    assert "production v2 → v1" in out
    assert "demo/support-triage in the last 7 days: 16 calls" in out  # promptlane stats
    assert "5 of 16 calls, newest first" in out  # promptlane calls
    assert 'promptlane_cost_usd_total{gen_ai_request_model="offline/' in out  # /metrics
    assert out.count("pl_") >= 1  # the new reader key was printed once
    assert '"object": "chat.completion"' in out  # the gateway answered in OpenAI's shape
