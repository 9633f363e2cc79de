"""`promptlane eval run` against a real server process: exit codes, JSON, JUnit, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api.cli import app
from tests.cli.evals_support import (
    Project,
    chat,
    cli,
    flat,
    items,
    junit_suite,
    one_line_error,
    project,
    run_json,
    runner,
    write,
)
from tests.conftest import ADMIN_KEY
from tests.e2e.server import free_port

__all__ = ["project"]  # the fixture

pytestmark = pytest.mark.e2e


# --- eval run -----------------------------------------------------------------------------


def test_run_exit_codes_json_and_manifest(project: Project) -> None:
    passed = cli(
        project.server,
        "eval",
        "run",
        str(project.suite_file),
        "-p",
        f"{project.prompt}:2",
        "--json",
    )
    assert passed.exit_code == 0, passed.output
    run = json.loads(passed.stdout)  # stdout is the run's JSON and nothing else
    assert f"suite {project.suite}: stored as version 1" in passed.stderr
    assert (run["status"], run["verdict"]) == ("completed", "passed")
    assert (run["prompt"], run["version"], run["suite"]) == (project.prompt, 2, project.suite)
    assert run["completed"] == run["total"] == 4
    manifest = run["manifest"]
    assert manifest["prompt"] == {
        "name": project.prompt,
        "version": 2,
        "content_hash": run["content_hash"],
    }
    for part in ("suite", "dataset"):
        assert re.fullmatch(r"[0-9a-f]{64}", manifest[part]["content_hash"]), manifest
    assert manifest["scorers"][0]["name"] == "correct"
    assert re.fullmatch(r"[0-9a-f]{64}", run["manifest_hash"])
    assert run["gate"]["conditions"][0]["passed"] is True

    failed = cli(
        project.server, "eval", "run", str(project.suite_file), "-p", f"{project.prompt}:1"
    )
    assert failed.exit_code == 1, failed.output
    out = flat(failed.stdout)
    assert f"suite {project.suite}: unchanged, version 1" in out
    assert "completed, 4 of 4 results: 4 dataset items × 1 repeat, 0 errors" in out
    cost = r"cost: \$0\.\d{6} = model calls \$0\.\d{6} \([\d,]+ input / [\d,]+ output tokens\)"
    assert re.search(cost + r" \+ scoring \$0\.000000", out), out
    assert "mean(correct)" in out
    assert "FAIL" in out
    assert out.endswith("verdict: failed")


def test_run_by_label_and_by_suite_name(project: Project) -> None:
    moved = cli(project.server, "prompts", "label", project.prompt, "staging", "2")
    assert moved.exit_code == 0, moved.output
    run = run_json(project, f"{project.prompt}@staging")
    assert (run["version"], run["label"], run["verdict"]) == (2, "staging", "passed")
    # A suite already stored runs by its name; no file is read or pushed.
    by_name = cli(project.server, "eval", "run", project.suite, "-p", f"{project.prompt}@staging")
    assert by_name.exit_code == 0, by_name.output
    assert "stored as" not in by_name.stdout
    assert "unchanged" not in by_name.stdout
    assert "verdict: passed" in by_name.stdout


def test_run_writes_junit(project: Project, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "junit.xml"
    report.parent.mkdir()
    result = cli(
        project.server,
        "eval",
        "run",
        str(project.suite_file),
        "-p",
        f"{project.prompt}:1",
        "--junit",
        str(report),
    )
    assert result.exit_code == 1, result.output
    suite = junit_suite(report)
    cases = suite.findall("testcase")
    assert suite.get("tests") == str(len(cases)) == "5"  # one gate condition and four items
    assert (suite.get("failures"), suite.get("errors")) == ("5", "0")
    gate = [c for c in cases if c.get("classname", "").startswith("promptlane.gate.")]
    assert [c.get("name") for c in gate] == ["mean(correct) >= 0.9"]
    assert gate[0].find("failure") is not None
    failing_items = [c for c in cases if c.find("failure") is not None and c not in gate]
    # Cases are named by the items' metadata.id: CI keeps a test's history by its name.
    assert [c.get("name") for c in failing_items] == [f"t-{i}" for i in range(4)]
    failure = failing_items[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "correct: 0 (failed): expected 'billing', got 'ticket 0'"
    assert (failure.text or "").splitlines() == [
        'input: {"ticket": "ticket 0"}',
        'expected: "billing"',
        "output: ticket 0",
        "correct: 0 (failed): expected 'billing', got 'ticket 0'",
    ]
    assert re.fullmatch(r"run \d+: verdict failed", suite.findtext("system-out", ""))

    # An item that cannot even be rendered is an <error>, counted apart from failures.
    broken = f"{project.prefix}/broken"
    with project.http() as http:
        rows = [*items(2), {"input": {"other": "no ticket"}, "expected": "billing"}]
        assert http.post(f"/v1/datasets/{broken}/versions", json={"items": rows}).status_code == 201
    suite_file = write(
        tmp_path / "broken.yaml", project.suite_yaml(name=f"{broken}-suite", dataset=broken)
    )
    second = tmp_path / "errors.xml"
    result = cli(
        project.server,
        "eval",
        "run",
        str(suite_file),
        "-p",
        f"{project.prompt}:2",
        "--junit",
        str(second),
    )
    assert result.exit_code == 1, result.output  # 2 of 3 correct misses the 0.9 gate
    suite = junit_suite(second)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    errored = [c for c in suite.findall("testcase") if c.find("error") is not None]
    assert [c.get("name") for c in errored] == ["item 2"]  # no metadata.id: its position
    error = errored[0].find("error")
    assert error is not None
    assert "missing variables: ticket" in error.get("message", "")
    assert 'input: {"other": "no ticket"}' in (error.text or "")

    # Repeats name each case's repeat; text XML cannot hold is escaped, so CI can parse it.
    odd = f"{project.prefix}/odd"
    with project.http() as http:
        rows = [{"input": {"ticket": "bell \u0007 x"}, "expected": "billing", "metadata": {}}]
        assert http.post(f"/v1/datasets/{odd}/versions", json={"items": rows}).status_code == 201
    suite_file = write(tmp_path / "odd.yaml", project.suite_yaml(name=f"{odd}-suite", dataset=odd))
    third = tmp_path / "odd.xml"
    result = cli(
        project.server,
        "eval",
        "run",
        str(suite_file),
        "-p",
        f"{project.prompt}:1",
        "--repeats",
        "2",
        "--junit",
        str(third),
    )
    assert result.exit_code == 1, result.output
    cases = junit_suite(third).findall("testcase")
    assert [c.get("name") for c in cases[1:]] == ["item 0 repeat 0", "item 0 repeat 1"]
    failure = cases[1].find("failure")
    assert failure is not None
    assert "got 'bell \\x07 x'" in failure.get("message", "")


@pytest.mark.parametrize(
    ("target", "suite", "message"),
    [
        ("{prompt}-nope:1", "{file}", "error: 404 Prompt not found"),
        ("{prompt}", "{file}", "error: 404"),  # bare NAME means @production: not set
        ("{prompt}:abc", "{file}", "expected NAME@LABEL or NAME:VERSION"),
        ("{prompt}:1", "{missing}", "cannot read suite file"),
        ("{prompt}:1", "ev-no/such-suite", "error: 404"),
    ],
    ids=["unknown-prompt", "unset-label", "malformed-prompt", "missing-file", "unknown-suite"],
)
def test_run_errors_are_one_line_with_exit_two(
    project: Project, tmp_path: Path, target: str, suite: str, message: str
) -> None:
    names = {"prompt": project.prompt, "file": str(project.suite_file)}
    names["missing"] = str(tmp_path / "missing.yaml")
    result = cli(project.server, "eval", "run", suite.format(**names), "-p", target.format(**names))
    assert message in one_line_error(result, 2)
    listed = json.loads(
        cli(project.server, "eval", "list", "--prompt", project.prompt, "--json").stdout
    )
    assert listed["total"] == 0


def test_a_model_without_a_connection_stops_the_run_with_exit_two(project: Project) -> None:
    with project.http() as http:
        published = http.post(
            f"/v1/prompts/{project.prompt}/versions", json=chat("openai/gpt-4o-mini", "real")
        )
        assert published.status_code == 201, published.text
    result = cli(
        project.server, "eval", "run", str(project.suite_file), "-p", f"{project.prompt}:3"
    )
    assert result.exit_code == 2, result.output
    out = flat(result.stdout)
    assert "failed, 0 of 4 results" in out
    assert "error: stopped early: no connection named 'openai'" in out
    assert "promptlane connections create openai" in out  # what to do about it
    assert "then `promptlane eval resume" in out
    assert "verdict" not in out  # not a quality failure

    as_json = cli(
        project.server,
        "eval",
        "run",
        str(project.suite_file),
        "-p",
        f"{project.prompt}:3",
        "--json",
    )
    assert as_json.exit_code == 2, as_json.output
    run = json.loads(as_json.stdout)
    assert (run["status"], run["verdict"], run["completed"]) == ("failed", None, 0)
    assert run["error"].startswith("stopped early: no connection named 'openai'")


def test_unreachable_server_is_exit_two() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(
        app, ["eval", "run", "some/suite", "-p", "p:1", "--url", url, "--api-key", ADMIN_KEY]
    )
    assert one_line_error(result, 2).startswith(f"error: cannot reach promptlane at {url}")


def test_invalid_suite_file_stores_nothing(project: Project, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.yaml",
        f"""\
        name: {project.prefix}/bad-suite
        dataset: {project.dataset}
        scorers: [{{name: correct, type: exact_match}}]
        gates: [{{metric: accuracy, value: 0.5}}]
        """,
    )
    result = cli(project.server, "eval", "run", str(bad), "-p", f"{project.prompt}:2")
    line = one_line_error(result, 2)
    assert "422" in line
    assert "accuracy" in line
    listed = cli(project.server, "suites", "list", "-q", f"{project.prefix}/bad", "--json")
    assert json.loads(listed.stdout)["total"] == 0
    runs = cli(project.server, "eval", "list", "--prompt", project.prompt, "--json")
    assert json.loads(runs.stdout)["total"] == 0
