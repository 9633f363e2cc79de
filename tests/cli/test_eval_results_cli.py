"""`promptlane eval cancel|show|list|compare` against a real server process."""

from __future__ import annotations

import json

import pytest

from tests.cli.evals_support import (
    FINISHED,
    Project,
    chat,
    cli,
    flat,
    items,
    one_line_error,
    project,
    run_json,
    wait_for_run,
    write,
)

__all__ = ["project"]  # the fixture

pytestmark = pytest.mark.e2e


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
