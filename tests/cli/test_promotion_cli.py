"""`promptlane labels`/`policies`/`suites` (gated moves, who may force), `demo`, help texts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.cli import app
from tests.cli.evals_support import (
    AUTH,
    Project,
    chat,
    cli,
    flat,
    one_line_error,
    project,
    run_json,
    runner,
    write,
)
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.server import Server, start_server

__all__ = ["project"]  # the fixture

pytestmark = pytest.mark.e2e


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
