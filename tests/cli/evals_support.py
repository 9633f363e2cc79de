"""The eval CLI tests' project (prompt, dataset, suite on a real server) and helpers."""

from __future__ import annotations

import json
import textwrap
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

runner = CliRunner()
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
CATEGORIES = ["billing", "technical", "account", "billing"]
FINISHED = {"completed", "failed", "cancelled"}


def cli(server: Server, *args: str, key: str | None = ADMIN_KEY) -> Any:
    opts = ["--url", server.url] + (["--api-key", key] if key else [])
    return runner.invoke(app, [*args, *opts])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def flat(text: str) -> str:
    """Return `text` with Rich's line wrapping undone (one space between words)."""
    return " ".join(text.split())


def one_line_error(result: Any, code: int) -> str:
    """Assert the command failed with `code` and a single `error:` line; return that line."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return str(lines[0])


def junit_suite(path: Path) -> ET.Element:
    """Return the <testsuite> of a JUnit report the CLI wrote."""
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 (our own report)
    assert suite is not None
    return suite


def chat(model: str, message: str, **knobs: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"model": model, "temperature": 0}
    if knobs:
        config["offline"] = knobs
    return {
        "messages": [
            {"role": "system", "content": "Answer billing, technical or account."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": config,
        "message": message,
    }


def items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "input": {"ticket": f"ticket {i}"},
            "expected": CATEGORIES[i % len(CATEGORIES)],
            "metadata": {"answer": CATEGORIES[i % len(CATEGORIES)], "id": f"t-{i}"},
        }
        for i in range(count)
    ]


@dataclass(frozen=True)
class Project:
    """A prompt (v1 echoes: fails the gate; v2 is scripted: passes), a dataset and a suite."""

    server: Server
    prefix: str
    prompt: str
    dataset: str
    suite: str
    suite_file: Path

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=AUTH, timeout=30)

    def suite_yaml(self, *, name: str | None = None, dataset: str | None = None) -> str:
        return textwrap.dedent(
            f"""\
            name: {name or self.suite}
            description: triage answers are the right category
            dataset: {dataset or self.dataset}
            scorers:
              - {{name: correct, type: exact_match}}
            gates:
              - {{metric: correct, aggregate: mean, op: ">=", value: 0.9}}
            concurrency: 4
            """
        )


@pytest.fixture
def project(server: Server, tmp_path: Path) -> Project:
    # Short names keep Rich's tables from wrapping them across lines.
    prefix = f"ev-{uuid.uuid4().hex[:8]}"
    made = Project(
        server=server,
        prefix=prefix,
        prompt=f"{prefix}/triage",
        dataset=f"{prefix}/tickets",
        suite=f"{prefix}/quality",
        suite_file=tmp_path / "suite.yaml",
    )
    made.suite_file.write_text(made.suite_yaml(), encoding="utf-8")
    with made.http() as http:
        created = http.post(f"/v1/datasets/{made.dataset}/versions", json={"items": items(4)})
        assert created.status_code == 201, created.text
        for model in ("offline/echo", "offline/scripted"):
            published = http.post(f"/v1/prompts/{made.prompt}/versions", json=chat(model, model))
            assert published.status_code == 201, published.text
    return made


def run_json(project: Project, target: str, *args: str) -> dict[str, Any]:
    result = cli(
        project.server, "eval", "run", str(project.suite_file), "-p", target, "--json", *args
    )
    assert result.exit_code in (0, 1), result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def wait_for_run(server: Server, run_id: int, until: Any, timeout: float = 60) -> dict[str, Any]:
    """Poll a run until `until(run)` holds (a generous deadline, never an assertion on time)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as http:
        while True:
            run: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
            if until(run):
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} never got there: {run}")
            time.sleep(0.05)
