"""`promptlane calls` against a real server process, on generations stored directly."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.cli.generations import store
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server
from tests.factories import generation

pytestmark = pytest.mark.e2e
runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # one table row per line, whatever the terminal


def cli(server: Server, *args: str) -> Any:
    return runner.invoke(
        app, ["calls", *args, "--url", server.url, "--api-key", ADMIN_KEY], env=WIDE
    )


def rows_of(out: str, needle: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines() if needle in line]


@pytest.fixture
def trace() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def prompt(server: Server, trace: str) -> str:
    """A prompt with three recent calls (one failed) and a month-old trace of two."""
    name = f"calls-{uuid.uuid4().hex[:8]}/triage"
    base = {"prompt_name": name, "request_model": "offline/echo", "response_model": "offline/echo"}
    store(
        server,
        [
            generation(**base, prompt_version=1, ago=timedelta(hours=3), finish_reasons=["stop"]),
            generation(
                **base,
                prompt_version=2,
                prompt_label="staging",
                ago=timedelta(hours=2),
                is_error=True,
                error_type="RateLimitError",
                input_tokens=None,
                output_tokens=None,
                cost_usd=None,
            ),
            generation(**base, prompt_version=2, ago=timedelta(hours=1), source="gateway"),
            generation(**base, prompt_version=1, trace_id=trace, ago=timedelta(days=30)),
            generation(**base, prompt_version=1, trace_id=trace, ago=timedelta(days=29)),
        ],
    )
    return name


def test_recent_calls_of_a_prompt_newest_first(server: Server, prompt: str) -> None:
    result = cli(server, "--prompt", prompt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 of 3 calls, newest first" in out
    lines = rows_of(out, prompt)
    assert len(lines) == 3
    newest, failed, oldest = lines
    assert f"{prompt} v2 │ offline/echo │ gateway │ 100 │ 10 / 5 │ 0.001000 │ ok" in newest
    assert f"{prompt} v2 @staging │ offline/echo │ run │ 100 │ – │ – │ RateLimitError" in failed
    assert "│ stop │" in oldest


def test_filters_and_a_trace_at_any_age(server: Server, prompt: str, trace: str) -> None:
    failed = cli(server, "--prompt", prompt, "--errors")
    assert failed.exit_code == 0, failed.output
    assert [line for line in rows_of(failed.stdout, prompt) if "RateLimitError" in line]
    assert len(rows_of(failed.stdout, prompt)) == 1
    traced = cli(server, "--trace", trace, "--json")
    assert traced.exit_code == 0, traced.output
    page = json.loads(traced.stdout)
    assert page["total"] == 2
    assert {item["trace_id"] for item in page["items"]} == {trace}
    assert "no calls match" in cli(server, "--prompt", prompt, "--version", 9).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--limit", "0"], 2, "--limit 0: expected 1 to 200"),
        (["--days", "100"], 2, "--days 100: expected 1 to 89"),
        (["--trace", "nope"], 1, "trace_id"),
        (["--source", "pigeon"], 1, "source"),
    ],
)
def test_bad_options_are_one_line_errors(
    server: Server, args: list[str], code: int, message: str
) -> None:
    result = cli(server, *args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_at_80_columns_the_table_fits_and_says_what_it_left_out(
    server: Server, prompt: str
) -> None:
    # A trace id used to fold over six lines (issue 17, item 7).
    args = ["calls", "--prompt", prompt, "--url", server.url, "--api-key", ADMIN_KEY]
    narrow = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(rows_of(narrow.stdout, "offline/echo")) == 3  # one line a call
    assert "not shown at 80 columns: trace id" in " ".join(narrow.stdout.split())
    wide = runner.invoke(app, [*args, "--wide"], env={"COLUMNS": "80"})
    assert wide.exit_code == 0, wide.output
    assert "trace id" in wide.stdout
    assert all(len(row) > 80 for row in rows_of(wide.stdout, prompt))
