"""The examples in docs/client.md and docs/gateway.md run as written against a real server.

Each page's code blocks run in order as one script (a bash block through the shell), with
PROMPTLANE_URL and PROMPTLANE_API_KEY set as the pages ask, and the prompt they use,
`support/triage` (the README's), published with an offline model so nothing leaves the
machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server, server_env, start_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
TRIAGE = {
    "messages": [
        {
            "role": "system",
            "content": "You triage tickets for {{company}}. Answer with one word: billing, bug "
            "or other.",
        },
        {"role": "user", "content": "{{ticket}}"},
    ],
    "config": {"model": "offline/echo", "temperature": 0},
}


def page_script(page: str) -> str:
    """Return a page's code blocks as one Python script (bash blocks run by the shell)."""
    blocks = re.findall(r"```(python|bash)\n(.*?)```", (ROOT / page).read_text(), re.DOTALL)
    assert blocks, f"{page} lost its examples"
    parts = ["import subprocess as _docs_subprocess"]
    for language, code in blocks:
        if language == "python":
            parts.append(code)
        else:
            parts.append(f"_docs_subprocess.run({code!r}, shell=True, check=True)")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("docs")
    running = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    with httpx.Client(base_url=running.url, headers=AUTH) as http:
        published = http.post("/v1/prompts/support/triage/versions", json=TRIAGE)
        assert published.status_code == 201, published.text
        for label in ("production", "staging"):
            moved = http.put(f"/v1/prompts/support/triage/labels/{label}", json={"version": 1})
            assert moved.status_code == 200, moved.text
    yield running
    running.stop()


def run_page(page: str, server: Server, tmp_path: Path) -> str:
    env = server_env(url=server.url, api_key=ADMIN_KEY)
    env.pop("OPENAI_API_KEY", None)  # the OpenAI example calls OpenAI only with a key
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, "-c", page_script(page)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def usage(server: Server, calls: int, **params: Any) -> list[dict[str, Any]]:
    """Return usage rows once they count `calls` (generations are written in the background)."""
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        while True:
            response = http.get("/v1/analytics/usage", params=params)
            assert response.status_code == 200, response.text
            rows: list[dict[str, Any]] = response.json()["rows"]
            if sum(row["calls"] for row in rows) >= calls or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)


def test_the_client_page_runs(server: Server, tmp_path: Path) -> None:
    out = run_page("docs/client.md", server, tmp_path)
    assert "support/triage 1 production" in out
    assert "I was charged twice <again> & again" in out  # strict rendering, nothing escaped
    assert "serving the built-in prompt" not in out  # the server was up
    assert (tmp_path / "prompts.lock").is_file()
    assert "The app crashes" in out  # asyncio
    assert "'model': 'offline/echo'" in out  # to_openai
    assert "Refund <please> & thanks" in out  # to_langchain
    assert "billing" in out  # the LangChain run traced per prompt version
    [row] = usage(server, 1, prompt="support/triage", source="ingest")
    assert (row["prompt"], row["calls"], row["input_tokens"]) == ("support/triage", 1, 42)


def test_the_gateway_page_runs(server: Server, tmp_path: Path) -> None:
    out = run_page("docs/gateway.md", server, tmp_path)
    assert out.splitlines()[:3] == ["Charged twice", "Any update on my refund?", "Any update?"]
    rows = usage(server, 3, prompt="support/triage", source="gateway", group_by="label")
    assert {(row["label"], row["calls"]) for row in rows} == {("production", 1), ("staging", 2)}
