"""`promptlane eval`, `suites`, `policies`, `demo` and the gated label commands against a real
server process."""

from __future__ import annotations

import json
import re
import textwrap
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server, free_port, start_server

pytestmark = pytest.mark.e2e
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


# --- cancel -------------------------------------------------------------------------------


def test_cancel_a_slow_run(project: Project) -> None:
    with project.http() as http:
        slow = http.post(
            f"/v1/prompts/{project.prompt}/versions",
            json=chat("offline/scripted", "slow", latency_ms=200),
        )
        assert slow.json()["version"] == 3
        dataset = f"{project.prefix}/many"
        assert (
            http.post(f"/v1/datasets/{dataset}/versions", json={"items": items(40)}).status_code
            == 201
        )
    suite_file = write(
        project.suite_file.with_name("slow.yaml"),
        project.suite_yaml(name=f"{project.prefix}/slow", dataset=dataset).replace(
            "concurrency: 4", "concurrency: 1"
        ),
    )
    queued = cli(
        project.server,
        "eval",
        "run",
        str(suite_file),
        "-p",
        f"{project.prompt}:3",
        "--no-wait",
        "--json",
    )
    assert queued.exit_code == 0, queued.output
    run_id = json.loads(queued.stdout)["id"]
    wait_for_run(project.server, run_id, lambda r: r["completed"] > 0)

    cancelled = cli(project.server, "eval", "cancel", str(run_id))
    assert cancelled.exit_code == 0, cancelled.output
    assert f"run {run_id}: " in cancelled.stdout
    assert "cancel requested" in cancelled.stdout
    run = wait_for_run(project.server, run_id, lambda r: r["status"] in FINISHED)
    assert run["status"] == "cancelled"
    assert run["verdict"] is None
    assert 0 < run["completed"] < run["total"] == 40
    page = cli(project.server, "eval", "show", str(run_id), "--json")
    assert json.loads(page.stdout)["status"] == "cancelled"

    again = cli(project.server, "eval", "cancel", str(run_id))
    assert "409" in one_line_error(again, 1)
    assert "cancelled" in again.stderr
    resumed = cli(project.server, "eval", "resume", str(run_id))
    assert "cannot resume" in one_line_error(resumed, 2)
    missing = cli(project.server, "eval", "cancel", "999999")
    assert "404" in one_line_error(missing, 1)


# --- show, list, compare ------------------------------------------------------------------


def test_show_failed_list_and_compare(project: Project) -> None:
    bad = run_json(project, f"{project.prompt}:1")
    good = run_json(project, f"{project.prompt}:2")

    shown = cli(project.server, "eval", "show", str(bad["id"]), "--failed")
    assert shown.exit_code == 0, shown.output
    out = flat(shown.stdout)
    assert f"run {bad['id']}: suite {project.suite} v1 on {project.prompt} v1" in out
    assert "verdict: failed" in out
    assert "4 failed results:" in out
    lines = [line.strip() for line in shown.stdout.splitlines()]
    at = lines.index("t-3 (item 3, repeat 0)")  # named by metadata.id, with where it is
    assert [" ".join(line.split()) for line in lines[at + 1 : at + 5]] == [
        'input {"ticket": "ticket 3"}',
        'expected "billing"',
        "output ticket 3",
        "correct 0 (failed): expected 'billing', got 'ticket 3'",
    ]
    first_two = flat(
        cli(project.server, "eval", "show", str(bad["id"]), "--failed", "--limit", "2").stdout
    )
    assert "4 failed results; showing the first 2 (--limit N shows more):" in first_two
    assert "t-1 (item 1" in first_two
    assert "t-2 (item 2" not in first_two
    as_json = json.loads(
        cli(project.server, "eval", "show", str(bad["id"]), "--failed", "--json").stdout
    )
    assert [i["position"] for i in as_json["failed_items"]] == [0, 1, 2, 3]
    assert as_json["failed_total"] == 4
    item = as_json["failed_items"][0]
    assert (item["item_id"], item["input"], item["expected"]) == (
        "t-0",
        {"ticket": "ticket 0"},
        "billing",
    )
    assert item["scores"]["correct"]["reason"] == "expected 'billing', got 'ticket 0'"
    clean = cli(project.server, "eval", "show", str(good["id"]), "--failed")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.rstrip().endswith("no failed items")
    clean_json = json.loads(
        cli(project.server, "eval", "show", str(good["id"]), "--failed", "--json").stdout
    )
    assert (clean_json["failed_items"], clean_json["failed_total"]) == ([], 0)

    listed = cli(project.server, "eval", "list", "--prompt", project.prompt)
    assert listed.exit_code == 0, listed.output
    assert str(good["id"]) in listed.stdout
    assert "passed" in listed.stdout
    assert "failed" in listed.stdout
    page = json.loads(
        cli(project.server, "eval", "list", "--suite", project.suite, "--json").stdout
    )
    assert [r["id"] for r in page["items"]] == [good["id"], bad["id"]]

    compared = cli(project.server, "eval", "compare", str(bad["id"]), str(good["id"]))
    assert compared.exit_code == 0, compared.output
    rows = [" ".join(line.replace("│", " ").split()) for line in compared.stdout.splitlines()]
    assert "correct 0 1 1" in rows  # the metric's mean in each run and the delta
    assert "4 of 4 items changed (b minus a)" in rows
    assert [row for row in rows if row.startswith("t-")] == [
        f"t-{i} correct 0 1 1" for i in range(4)
    ]
    reverse = cli(
        project.server, "eval", "compare", str(good["id"]), str(bad["id"]), "--limit", "1"
    )
    assert "the 1 lowest of 4 changed scores" in flat(reverse.stdout)
    quiet = cli(project.server, "eval", "compare", str(bad["id"]), str(good["id"]), "--limit", "0")
    assert "t-0" not in quiet.stdout
    delta = json.loads(
        cli(project.server, "eval", "compare", str(bad["id"]), str(good["id"]), "--json").stdout
    )
    assert delta["metrics"]["correct"] == {"a": 0.0, "b": 1.0, "delta": 1.0}
    assert delta["same_dataset"] is True
    first = delta["items"][0]
    assert {k: first[k] for k in ("position", "item_id", "metrics", "pass_changed")} == {
        "position": 0,
        "item_id": "t-0",
        "metrics": {"correct": {"a": 0.0, "b": 1.0, "delta": 1.0}},
        "pass_changed": True,
    }
    assert (first["a"]["passed"], first["b"]["passed"]) == (False, True)  # both results too
    assert "404" in one_line_error(cli(project.server, "eval", "show", "999999"), 1)


# --- promotion ----------------------------------------------------------------------------


def test_can_promote_force_and_who_may_force(project: Project) -> None:
    server, prompt = project.server, project.prompt
    assert cli(server, "suites", "push", str(project.suite_file)).exit_code == 0
    policy = cli(
        server, "policies", "set", "production", "--suite", project.suite, "--prompt", prompt
    )
    assert policy.exit_code == 0, policy.output
    assert f"production ({prompt}) requires: {project.suite}:1 (dataset" in flat(policy.stdout)

    untested = cli(server, "prompts", "can-promote", prompt, "production", "2")
    assert untested.exit_code == 1
    assert "refused (no qualifying passing run on this content hash" in flat(untested.stdout)
    assert run_json(project, f"{prompt}:1")["verdict"] == "failed"
    good = run_json(project, f"{prompt}:2")

    refused = cli(server, "prompts", "can-promote", prompt, "production", "1")
    assert refused.exit_code == 1, refused.output
    out = flat(refused.stdout)
    assert project.suite in out
    assert "FAIL" in out
    assert f"{prompt} v1 → production: refused" in out
    allowed = cli(server, "prompts", "can-promote", prompt, "production", "2")
    assert allowed.exit_code == 0, allowed.output
    assert f"{prompt} v2 → production: allowed" in flat(allowed.stdout)
    report = json.loads(
        cli(server, "prompts", "can-promote", prompt, "production", "2", "--json").stdout
    )
    assert report["suites"][0]["run_id"] == good["id"]

    gated = cli(server, "prompts", "label", prompt, "production", "1")
    assert "409" in one_line_error(gated, 1)
    assert f"{prompt} v1 → production: refused" in flat(gated.stdout)  # the gate report too
    assert "FAIL" in flat(gated.stdout)
    as_json = cli(server, "prompts", "label", prompt, "production", "1", "--json")
    assert as_json.exit_code == 1
    assert as_json.stderr == ""
    problem = json.loads(as_json.stdout)  # the problem document, with the gate report
    assert problem["status"] == 409
    assert problem["gate"]["allowed"] is False
    assert problem["gate"]["suites"][0]["suite"] == project.suite
    typo = cli(server, "prompts", "render", f"{prompt}:1", "--version", "2", "--json")
    assert typo.exit_code == 2
    assert json.loads(typo.stdout)["title"] == "Invalid input"
    no_reason = cli(server, "prompts", "label", prompt, "production", "1", "--force")
    assert "needs a reason" in one_line_error(no_reason, 1)
    forced = cli(
        server, "prompts", "label", prompt, "production", "1", "--force", "--reason", "hotfix"
    )
    assert forced.exit_code == 0, forced.output
    assert "production unset → v1" in forced.stdout
    history = cli(server, "prompts", "history", prompt, "production")
    assert "hotfix" in history.stdout
    assert "FORCED" in history.stdout  # the evidence column
    events = json.loads(cli(server, "prompts", "history", prompt, "production", "--json").stdout)
    assert [(e["to_version"], e["is_forced"], e["reason"]) for e in events["items"]] == [
        (1, True, "hotfix")
    ]

    writer = json.loads(
        cli(server, "keys", "create", f"{project.prefix}-w", "--role", "writer", "--json").stdout
    )
    with project.http() as http:
        three = http.post(
            f"/v1/prompts/{prompt}/versions", json=chat("offline/echo", "v3", latency_ms=1)
        )
        assert three.json()["version"] == 3, three.text
    denied = cli(
        server,
        "prompts",
        "label",
        prompt,
        "production",
        "3",
        "--force",
        "--reason",
        "trust me",
        key=writer["key"],
    )
    assert "403" in one_line_error(denied, 1)
    assert "only an admin key may force" in one_line_error(denied, 1)
    # The gate, not the role, decides an unforced move: a writer may ship the version that passed.
    shipped = cli(server, "prompts", "label", prompt, "production", "2", key=writer["key"])
    assert shipped.exit_code == 0, shipped.output
    events = json.loads(cli(server, "prompts", "history", prompt, "production", "--json").stdout)
    latest = events["items"][0]
    assert (latest["to_version"], latest["is_forced"]) == (2, False)
    assert latest["evidence"][0]["run_id"] == good["id"]


def test_policies_set_list_delete(project: Project) -> None:
    server = project.server
    other = project.suite_file.with_name("other.yaml")
    other.write_text(project.suite_yaml(name=f"{project.prefix}/other"), encoding="utf-8")
    for file in (project.suite_file, other):
        assert cli(server, "suites", "push", str(file)).exit_code == 0
    result = cli(
        server,
        "policies",
        "set",
        "staging",
        "-s",
        project.suite,
        "-s",
        f"{project.prefix}/other",
        "--prompt",
        project.prompt,
        "--max-age",
        "3600",
        "--force-role",
        "writer",
        "--reason",
        "gate staging too",
    )
    assert result.exit_code == 0, result.output
    listed = cli(server, "policies", "list")
    assert listed.exit_code == 0, listed.output
    assert "staging" in listed.stdout  # six columns: 80-column Rich tables crop the names
    policies = json.loads(cli(server, "policies", "list", "--json").stdout)
    mine = [p for p in policies if p["prompt"] == project.prompt]
    assert len(mine) == 1
    assert mine[0]["required_suites"] == [project.suite, f"{project.prefix}/other"]
    assert (mine[0]["label"], mine[0]["max_age_seconds"], mine[0]["force_role"]) == (
        "staging",
        3600,
        "writer",
    )

    bad = cli(server, "policies", "set", "staging", "-s", "Bad Name", "--prompt", project.prompt)
    assert "422" in one_line_error(bad, 1)
    unknown = cli(
        server, "policies", "set", "staging", "-s", project.suite, "--prompt", "ev-none/x"
    )
    assert "404" in one_line_error(unknown, 1)

    deleted = cli(
        server, "policies", "delete", "staging", "--prompt", project.prompt, "-m", "not needed"
    )
    assert deleted.exit_code == 0, deleted.output
    assert "policy for staging removed" in deleted.stdout
    history = json.loads(cli(server, "policies", "history", "staging", "--json").stdout)
    mine = [e for e in history["items"] if e["prompt"] == project.prompt]
    assert [(e["action"], e["reason"]) for e in mine] == [
        ("deleted", "not needed"),
        ("created", "gate staging too"),
    ]
    table = cli(server, "policies", "history", "staging")
    assert table.exit_code == 0, table.output
    assert "deleted" in table.stdout
    policies = json.loads(cli(server, "policies", "list", "--json").stdout)
    assert [p for p in policies if p["prompt"] == project.prompt] == []
    again = cli(server, "policies", "delete", "staging", "--prompt", project.prompt)
    assert "404" in one_line_error(again, 1)


# --- suites -------------------------------------------------------------------------------


def test_suites_push_list_show(project: Project) -> None:
    server = project.server
    pushed = cli(server, "suites", "push", str(project.suite_file))
    assert pushed.exit_code == 0, pushed.output
    assert f"suite {project.suite} new version 1" in flat(pushed.stdout)
    again = cli(server, "suites", "push", str(project.suite_file))
    assert f"suite {project.suite} unchanged, version 1" in flat(again.stdout)
    project.suite_file.write_text(project.suite_yaml().replace("0.9", "0.8"), encoding="utf-8")
    assert "new version 2" in flat(cli(server, "suites", "push", str(project.suite_file)).stdout)

    listed = cli(server, "suites", "list", "-q", project.prefix)
    assert listed.exit_code == 0, listed.output
    assert project.suite in listed.stdout
    page = json.loads(cli(server, "suites", "list", "-q", project.prefix, "--json").stdout)
    assert [(s["name"], s["latest_version"]) for s in page["items"]] == [(project.suite, 2)]

    shown = cli(server, "suites", "show", project.suite)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"# suite {project.suite} version 2 (")
    assert "value: 0.8" in shown.stdout
    first = json.loads(cli(server, "suites", "show", f"{project.suite}:1", "--json").stdout)
    assert first["version"] == 1
    assert first["spec"]["gates"][0]["value"] == 0.9
    assert "404" in one_line_error(cli(server, "suites", "show", f"{project.suite}:9"), 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- a list\n", "must be a mapping"),
        ("name: {name}\ndataset: d\nscorers: []\n", "#/scorers"),
        ("name: {name}\ndataset: d\nscorers: [{{type: nope}}]\n", "nope"),
        ("name: {name}\ndataset: d\nscorers: [{{type: exact_match}}]\nrepeats: 0\n", "#/repeats"),
        ("name: {name}\ndataset: d\nscorers: [{{type: exact_match}}]\ncolour: red\n", "#/colour"),
    ],
)
def test_suites_push_refuses_invalid_files(
    project: Project, tmp_path: Path, content: str, message: str
) -> None:
    name = f"{project.prefix}/invalid"
    bad = write(tmp_path / "bad.yaml", content.format(name=name))
    result = cli(project.server, "suites", "push", str(bad))
    line = one_line_error(result, 1)
    assert "422" in line
    assert message in line
    listed = cli(project.server, "suites", "list", "-q", name, "--json")
    assert json.loads(listed.stdout)["total"] == 0


def test_suites_push_missing_file(project: Project, tmp_path: Path) -> None:
    result = cli(project.server, "suites", "push", str(tmp_path / "nope.yaml"))
    assert "cannot read" in one_line_error(result, 1)
    assert "No such file or directory" in result.stderr


# --- demo ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_server(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Server]:
    running = start_server(
        tmp_path,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp_path / "credentials.json"),
    )
    yield running
    running.stop()


def test_demo_on_a_fresh_server_and_again(fresh_server: Server) -> None:
    first = cli(fresh_server, "demo")
    assert first.exit_code == 0, first.output
    out = flat(first.stdout)
    assert "Promotion of v1 refused (HTTP 409)" in out
    assert "Promoted demo/support-triage: production → v2" in out
    assert out.index("verdict: failed") < out.index("refused") < out.index("verdict: passed")

    with httpx.Client(base_url=fresh_server.url, headers=AUTH) as http:
        resolved = http.get("/v1/prompts/demo/support-triage")
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["version"] == 2
        history = http.get("/v1/prompts/demo/support-triage/labels/production/history").json()
        assert [e["to_version"] for e in history["items"]] == [2]
        evidence = history["items"][0]["evidence"]
        assert evidence[0]["suite"] == "demo/triage-quality"
        run = http.get(f"/v1/runs/{evidence[0]['run_id']}").json()
        assert (run["version"], run["verdict"]) == (2, "passed")

        assert "v1, new" in out
        second = cli(fresh_server, "demo")
        assert second.exit_code == 0, second.output
        again = flat(second.stdout)
        assert "Promotion of v1 refused" in again
        # A second run says what it did this time: nothing new, and no promotion claimed.
        assert "Promoted" not in again
        assert "production of demo/support-triage already points at v2" in again
        assert "v1, unchanged since an earlier run" in again
        assert "v2, unchanged since an earlier run" in again
        assert http.get("/v1/prompts/demo/support-triage").json()["version"] == 2
        versions = http.get("/v1/prompts/demo/support-triage/versions").json()
        assert versions["total"] == 2
        history = http.get("/v1/prompts/demo/support-triage/labels/production/history").json()
        assert history["total"] == 1


def test_help_texts() -> None:
    for args in (["eval"], ["eval", "run"], ["suites"], ["policies"], ["demo"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.stdout
