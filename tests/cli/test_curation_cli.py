"""`promptlane datasets add-from-calls` against a real server process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from promptlane_client import Client
from tests.cli.generations import store
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.factories import chat_body, generation

pytestmark = pytest.mark.e2e
runner = CliRunner()
WIDE = {"COLUMNS": "200"}
PROMPT = "cli/curated"


def cli(server: Server, *args: str, key: str = ADMIN_KEY) -> Any:
    opts = ["--url", server.url, "--api-key", key]
    return runner.invoke(app, ["datasets", "add-from-calls", *args, *opts], env=WIDE)


def call(ticket: str, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "source": "gateway",
        "prompt_name": PROMPT,
        "prompt_version": 1,
        "input_messages": [
            {"role": "system", "content": "You triage tickets for Acme."},
            {"role": "user", "content": ticket},
        ],
        "output_text": f"answer to {ticket}",
    }
    return generation(**(values | overrides))


@pytest.fixture(scope="module")
def calls(server: Server) -> list[int]:
    """A prompt and four recorded calls: two scored low, one without content, one flagged."""
    with Client(server.url, ADMIN_KEY) as admin:
        admin.publish_version(PROMPT, chat_body())
    rows = [
        call("refund", scores={"helpful": {"value": 0.1}}),
        call("login", scores={"helpful": {"value": 0.9}}),
        call("hidden", input_messages=None, output_text=None, scores={"helpful": 0.2}),
        call("card", scores={"helpful": 0.0}, safety_flags=["pii"]),
    ]
    store(server, rows)
    return [row.id for row in rows]


def test_low_scored_calls_are_added_then_nothing_twice(server: Server, calls: list[int]) -> None:
    dry = cli(server, "cli/low", "--prompt", PROMPT, "--score", "helpful<0.5", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: would add 2 items to cli/low (3 calls selected; nothing stored)" in dry.stdout
    assert str(calls[2]) in dry.stdout
    assert "no recorded content" in dry.stdout
    added = cli(server, "cli/low", "-p", PROMPT, "--score", "helpful<0.5", "-m", "low", "--json")
    assert added.exit_code == 0, added.output
    result = json.loads(added.stdout)
    assert (result["version"], result["created"], result["generation_ids"]) == (
        1,
        True,
        [calls[0], calls[3]],
    )
    with Client(server.url, ADMIN_KEY) as admin:
        items = admin.get_dataset("cli/low", 1, items=True)["items"]
    assert [i["input"]["ticket"] for i in items] == ["refund", "card"]
    assert items[0]["metadata"]["source"]["generation_id"] == calls[0]
    again = cli(server, "cli/low", "-p", f"{PROMPT}:1", "--score", "helpful<0.5")
    assert again.exit_code == 0, again.output
    assert "cli/low: nothing added (still v1) (3 calls selected)" in again.stdout
    assert "already in the dataset" in again.stdout


def test_ids_and_a_safety_flag_select_calls(server: Server, calls: list[int]) -> None:
    by_id = cli(server, "cli/ids", "--id", str(calls[1]), "--id", str(calls[3]), "--json")
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout)["generation_ids"] == [calls[1], calls[3]]
    flagged = cli(server, "cli/flag", "-p", PROMPT, "--safety-flag", "pii", "--days", "2")
    assert flagged.exit_code == 0, flagged.output
    assert "cli/flag v1: created, +1 item (1 call selected)" in flagged.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "give --prompt NAME or --id"),
        (("--version", "1", "--id", "1"), 2, "--version and --label select calls of a --prompt"),
        (("-p", PROMPT, "--score", "helpful"), 2, "expected NAME<VALUE"),
        (("-p", PROMPT, "--score", "helpful<nan"), 2, "expected NAME<VALUE"),
        (("-p", PROMPT, "--limit", "0"), 2, "--limit 0: expected 1 to 1000"),
        (("-p", PROMPT, "--start", "yesterday"), 2, "expected an ISO 8601 time"),
        (("-p", PROMPT, "--days", "0"), 2, "--days 0: expected 1 to 89"),
        (("-p", PROMPT, "--days", "1", "--start", "2025-01-01"), 2, "--days or --start"),
        (("-p", "cli/curatd"), 2, "no prompt named 'cli/curatd'; did you mean 'cli/curated'?"),
        (("-p", "Bad Name"), 1, "422"),
        (("--id", "2147483648"), 1, "less than or equal to 2147483647"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    server: Server, calls: list[int], args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(server, "cli/bad", *args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines[0]
    assert message in lines[0], lines[0]
    with Client(server.url, ADMIN_KEY) as admin:
        assert admin.list_datasets(q="cli/bad")["total"] == 0


def test_a_reader_key_is_refused(server: Server, calls: list[int]) -> None:
    with Client(server.url, ADMIN_KEY) as admin:
        made = admin.request("POST", "/v1/keys", json={"name": "cur-reader", "role": "reader"})
    refused = cli(server, "cli/reader", "-p", PROMPT, key=made.json()["key"])
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: 403")
