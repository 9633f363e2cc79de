"""`promptlane online set|list|delete` against a real server process."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.factories import chat_body

pytestmark = pytest.mark.e2e
runner = CliRunner()
PROMPT = "online-cli/triage"


def cli(server: Server, *args: str) -> Any:
    return runner.invoke(app, [*args, "--url", server.url, "--api-key", ADMIN_KEY])


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return str(lines[0])


@pytest.fixture(scope="module")
def prompt(server: Server) -> str:
    response = httpx.post(
        f"{server.url}/v1/prompts/{PROMPT}/versions",
        json=chat_body(),
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert response.status_code in (200, 201), response.text
    return PROMPT


def listed(server: Server) -> list[dict[str, Any]]:
    result = cli(server, "online", "list", "--prompt", PROMPT, "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def test_set_list_delete(server: Server, prompt: str) -> None:
    length = json.dumps({"name": "short", "type": "length", "params": {"max_chars": 400}})
    result = cli(
        server, "online", "set", prompt, "--rate", "0.25", "-s", "pii", "-s", length,
        "--label", "production",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{prompt}@production at 0.25 with pii, short" in result.stdout
    (stored,) = listed(server)
    assert (stored["label"], stored["sample_rate"], stored["enabled"]) == ("production", 0.25, True)

    table = cli(server, "online", "list")
    assert table.exit_code == 0, table.output
    assert "production" in table.stdout

    deleted = cli(server, "online", "delete", str(stored["id"]))
    assert deleted.exit_code == 0, deleted.output
    assert listed(server) == []
    again = cli(server, "online", "delete", str(stored["id"]))
    assert "404" in one_line_error(again)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--rate", "0.5", "-s", "vibes"], "422"),
        (["--rate", "0.5", "-s", '{"type": "length"'], "not valid JSON"),
        (["--rate", "0.5", "-s", '{"type": "length", "params": {"max_chars": -3}}'], "422"),
        (["--rate", "0.5", "-s", "pii", "--label", "Bad Label"], "422"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    server: Server, prompt: str, args: list[str], expected: str
) -> None:
    result = cli(server, "online", "set", prompt, *args)
    assert expected in one_line_error(result)
    assert listed(server) == []


def test_unknown_prompt_and_out_of_range_rate(server: Server, prompt: str) -> None:
    unknown = cli(server, "online", "set", "online-cli/none", "--rate", "1", "-s", "pii")
    assert "404" in one_line_error(unknown)
    too_high = cli(server, "online", "set", prompt, "--rate", "2", "-s", "pii")
    assert too_high.exit_code == 2  # Typer's own usage error
    assert listed(server) == []
