"""`promptlane stats PROMPT` against a real server process, on generations stored directly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.cli.generations import store
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server, free_port
from tests.factories import generation

pytestmark = pytest.mark.e2e
runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # one table row per line, whatever the terminal


def cli(server: Server, *args: str, key: str | None = ADMIN_KEY) -> Any:
    opts = ["--url", server.url] + (["--api-key", key] if key else [])
    return runner.invoke(app, ["stats", *args, *opts], env=WIDE)


def one_line_error(result: Any, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return str(lines[0])


def lines_with(text: str, *needles: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if all(n in line for n in needles)]


@pytest.fixture
def prompt() -> str:
    return f"st-{uuid.uuid4().hex[:8]}/triage"


@pytest.fixture
def seeded(server: Server, prompt: str) -> str:
    """v1 through production (4 calls: 1 error, 1 PII flag), v2 through staging (2 calls)."""
    v1 = {"prompt_name": prompt, "prompt_version": 1, "prompt_label": "production"}
    v1 |= {"request_model": "offline/echo", "response_model": "offline/echo"}
    rows = [
        generation(**v1, duration_ms=100.0, scores={"correct": 1.0, "no_pii": 1.0}),
        generation(
            **v1, duration_ms=200.0, scores={"correct": 0.0, "no_pii": 0.0}, safety_flags=["pii"]
        ),
        generation(**v1, duration_ms=300.0, scores={"correct": 1.0, "no_pii": 1.0}),
        generation(
            **v1,
            duration_ms=400.0,
            is_error=True,
            error_type="RateLimitError",
            input_tokens=None,
            output_tokens=None,
            cost_usd=None,
        ),
    ]
    v2 = {"prompt_name": prompt, "prompt_version": 2, "prompt_label": "staging"}
    rows += [
        generation(**v2, request_model="offline/scripted", scores={"correct": 1.0})
        for _ in range(2)
    ]
    # Another prompt's calls and one of this prompt's from three weeks ago stay out.
    rows += [generation(prompt_name=prompt + "-other", prompt_version=1)]
    rows += [generation(prompt_name=prompt, prompt_version=1, ago=timedelta(days=21))]
    store(server, rows)
    return prompt


def test_table_per_version_label_and_model(server: Server, seeded: str) -> None:
    result = cli(server, seeded)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{seeded} in the last 7 days: 6 calls" in " ".join(out.split())
    (header,) = lines_with(out, "version", "label", "model")
    assert header == (
        "┃ version ┃ label ┃ model ┃ calls ┃ errors ┃ tokens in/out ┃ cost USD ┃ p50/p95 ms ┃ "
        "correct (mean) ┃ no_pii (mean) ┃ safety flags ┃ drift ┃"
    )
    # calls, error rate, tokens (the failed call has none), cost, latency, means, flags, drift
    assert lines_with(out, "v1 ") == [
        "│ v1 │ production │ offline/echo │ 4 │ 25.0% │ 30 / 15 │ 0.003000 │ 250 / 385 │ "
        "0.667 │ 0.667 │ pii 1 │ too few calls │"
    ]
    assert lines_with(out, "v2 ") == [
        "│ v2 │ staging │ offline/scripted │ 2 │ 0.0% │ 20 / 10 │ 0.002000 │ 100 / 100 │ "
        "1.000 │ – │ – │ too few calls │"
    ]


def test_a_narrow_terminal_gets_a_column_per_version(server: Server, seeded: str) -> None:
    result = runner.invoke(
        app, ["stats", seeded, "--url", server.url, "--api-key", ADMIN_KEY], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert lines_with(out, "┃", "v1") == ["┃ ┃ v1 ┃ v2 ┃"]
    assert lines_with(out, "│ calls") == ["│ calls │ 4 │ 2 │"]
    assert lines_with(out, "p50/p95") == ["│ p50/p95 ms │ 250 / 385 │ 100 / 100 │"]
    assert lines_with(out, "correct") == ["│ correct (mean) │ 0.667 │ 1.000 │"]
    assert lines_with(out, "│ drift") == ["│ drift │ too few calls │ too few calls │"]


def test_json_has_the_usage_rows_and_a_drift_report_per_version(
    server: Server, seeded: str
) -> None:
    result = cli(server, seeded, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["prompt"], body["days"]) == (seeded, 7)
    usage = body["usage"]
    assert usage["group_by"] == ["version", "label", "model"]
    rows = {(r["version"], r["label"], r["model"]): r for r in usage["rows"]}
    assert set(rows) == {(1, "production", "offline/echo"), (2, "staging", "offline/scripted")}
    v1 = rows[(1, "production", "offline/echo")]
    assert (v1["calls"], v1["errors"], v1["safety_flags"]) == (4, 1, {"pii": 1})
    assert v1["scores"]["correct"] == {"mean": pytest.approx(2 / 3), "count": 3}
    assert [(d["prompt"], d["version"]) for d in body["drift"]] == [(seeded, 1), (seeded, 2)]


def test_filters_and_time_buckets(server: Server, seeded: str) -> None:
    staging = json.loads(cli(server, seeded, "--label", "staging", "--json").stdout)
    assert [r["version"] for r in staging["usage"]["rows"]] == [2]
    assert [d["version"] for d in staging["drift"]] == [2]
    v1 = cli(server, seeded, "--version", "1")
    assert v1.exit_code == 0, v1.output
    assert lines_with(v1.stdout, "v2 ") == []
    assert len(lines_with(v1.stdout, "v1 ")) == 1
    # Three weeks back, the old call of v1 is in range too.
    month = json.loads(cli(server, seeded, "--days", "30", "--version", "1", "--json").stdout)
    assert sum(r["calls"] for r in month["usage"]["rows"]) == 5

    store(
        server,
        [
            generation(
                prompt_name=seeded,
                prompt_version=2,
                prompt_label="staging",
                request_model="offline/scripted",
                ago=timedelta(hours=30),
            )
        ],
    )
    daily = cli(server, seeded, "--label", "staging", "--bucket", "day")
    assert daily.exit_code == 0, daily.output
    assert "bucket (UTC)" in daily.stdout
    rows = lines_with(daily.stdout, "v2 ")
    assert len(rows) == 2
    assert all(row[:4].isdigit() for row in (r.strip("│ ") for r in rows))
    hourly = json.loads(
        cli(server, seeded, "--bucket", "hour", "--label", "staging", "--json").stdout
    )
    assert hourly["usage"]["bucket"] == "hour"
    assert sum(r["calls"] for r in hourly["usage"]["rows"]) == 3


def test_drift_is_flagged_when_recent_scores_moved(server: Server, prompt: str) -> None:
    base = {"prompt_name": prompt, "prompt_version": 3, "input_chars": 40}
    baseline = [
        generation(**base, scores={"correct": 0.5 + i / 80}, ago=timedelta(days=3, minutes=i))
        for i in range(40)
    ]
    recent = [
        generation(**base, scores={"correct": i / 80}, ago=timedelta(hours=2, minutes=i))
        for i in range(40)
    ]
    store(server, baseline + recent)
    result = cli(server, prompt)
    assert result.exit_code == 0, result.output
    (row,) = lines_with(result.stdout, "v3 ")
    assert "drift: correct" in row
    assert "input_chars" not in row  # the input length did not move
    report = json.loads(cli(server, prompt, "--json").stdout)["drift"][0]
    assert report["flagged"] is True


def test_no_calls_is_one_clear_line_and_exit_zero(server: Server, prompt: str) -> None:
    unknown = cli(server, prompt)  # neither in the registry nor in any recorded call: a typo
    assert unknown.exit_code == 2
    assert f"no prompt named {prompt!r}" in unknown.stderr
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as h:
        published = h.post(f"/v1/prompts/{prompt}/versions", json={"template": "hi"})
        assert published.status_code == 201, published.text
    result = cli(server, prompt)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"no calls of {prompt} in the last 7 days"
    old = generation(
        prompt_name=prompt, prompt_version=1, prompt_label="production", ago=timedelta(days=2)
    )
    store(server, [old])
    recent = cli(server, prompt, "--days", "1", "--label", "production")
    assert recent.exit_code == 0, recent.output
    assert recent.stdout.strip() == f"no calls of {prompt} in the last day (label production)"
    as_json = json.loads(cli(server, prompt, "--days", "1", "--json").stdout)
    assert (as_json["usage"]["rows"], as_json["drift"]) == ([], [])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--bucket", "week"), 2, "--bucket 'week': expected hour or day"),
        (("--days", "0"), 2, "--days 0: expected 1 to 89"),
        (("--days", "90"), 2, "--days 90: expected 1 to 89"),
        (("--version", "0"), 1, "error: 422"),
    ],
    ids=["bucket", "days-zero", "days-too-many", "version-zero"],
)
def test_bad_options_are_one_line_errors(
    server: Server, prompt: str, args: tuple[str, ...], code: int, message: str
) -> None:
    assert message in one_line_error(cli(server, prompt, *args), code)


def test_keys_and_unreachable_servers(server: Server, seeded: str) -> None:
    created = runner.invoke(
        app,
        ["keys", "create", "stats-reader", "--url", server.url, "--api-key", ADMIN_KEY, "--json"],
    )
    reader = json.loads(created.stdout)["key"]
    assert cli(server, seeded, key=reader).exit_code == 0  # reading analytics is a read
    wrong = cli(server, seeded, key="pl_" + "x" * 30)
    assert "401" in one_line_error(wrong, 1)
    missing = cli(server, seeded, key=None)
    assert "--api-key" in one_line_error(missing, 1)
    url = f"http://127.0.0.1:{free_port()}"
    gone = runner.invoke(app, ["stats", seeded, "--url", url, "--api-key", ADMIN_KEY])
    assert one_line_error(gone, 1).startswith(f"error: cannot reach promptlane at {url}")


def test_stats_does_not_import_the_server_stack_or_model_sdks(server: Server, seeded: str) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from typer.testing import CliRunner
        from api.cli import app
        result = CliRunner().invoke(app, ["stats", "{seeded}", "--url", "{server.url}",
                                          "--api-key", "{ADMIN_KEY}"])
        assert result.exit_code == 0, result.output
        assert "v1" in result.stdout, result.stdout
        heavy = {{"litellm", "ragas", "fastapi", "sqlalchemy", "uvicorn", "openai"}}
        print(sorted(heavy & {{m.split(".")[0] for m in sys.modules}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
