"""`promptlane prompts|datasets|suites archive|restore` and `prompts unset`, on a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
runner = CliRunner()
PROMPT = "cli-archive/p"


def cli(server: Server, *args: str, key: str | None = ADMIN_KEY) -> Any:
    opts = ["--url", server.url] + (["--api-key", key] if key else [])
    return runner.invoke(app, [*args, *opts])


def ok(server: Server, *args: str, key: str = ADMIN_KEY) -> Any:
    result = cli(server, *args, key=key)
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line: str = lines[0]
    return line


def push_prompt(server: Server, tmp_path: Path, name: str) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(f"name: {name}\ntemplate: 'Hi {{{{who}}}}'\nconfig: {{model: offline/echo}}\n")
    ok(server, "prompts", "push", str(file), "--label", "staging")


def test_archive_list_show_and_restore_a_prompt(server: Server, tmp_path: Path) -> None:
    push_prompt(server, tmp_path, PROMPT)
    archived = ok(server, "prompts", "archive", PROMPT, "--reason", "superseded")
    assert archived.stdout.startswith(f"archived prompt {PROMPT} (audit #")
    assert f"promptlane prompts restore {PROMPT}" in archived.stdout
    listed = json.loads(ok(server, "prompts", "list", "--json").stdout)
    assert PROMPT not in [p["name"] for p in listed["items"]]
    hidden = json.loads(ok(server, "prompts", "list", "--archived", "--json").stdout)
    assert [p["name"] for p in hidden["items"]] == [PROMPT]
    shown = one_line_error(cli(server, "prompts", "show", PROMPT, "--label", "staging"))
    assert shown.startswith(f"error: 404 Prompt archived: prompt '{PROMPT}' is archived")
    again = one_line_error(cli(server, "prompts", "archive", PROMPT))
    assert again == f"error: 409 Archive state conflict: prompt '{PROMPT}' is already archived"
    restored = json.loads(ok(server, "prompts", "restore", PROMPT, "--json").stdout)
    assert (restored["action"], restored["name"], restored["kind"]) == ("restore", PROMPT, "prompt")
    ok(server, "prompts", "show", PROMPT, "--label", "staging")


def test_unset_a_label_and_see_it_in_history(server: Server, tmp_path: Path) -> None:
    name = f"{PROMPT}-unset"
    push_prompt(server, tmp_path, name)
    ok(server, "prompts", "label", name, "production", "1")
    writer = json.loads(
        ok(server, "keys", "create", "cli-writer", "--role", "writer", "--json").stdout
    )
    refused = one_line_error(cli(server, "prompts", "unset", name, "production", key=writer["key"]))
    assert "403" in refused
    assert "only an admin key may unset it" in refused
    unset = ok(server, "prompts", "unset", name, "staging", "-m", "gone", key=writer["key"])
    assert unset.stdout.strip().startswith(f"{name}: staging v1 → unset (audit #")
    event = json.loads(ok(server, "prompts", "unset", name, "production", "--json").stdout)
    assert (event["from_version"], event["to_version"], event["actor_role"]) == (1, None, "admin")
    history = ok(server, "prompts", "history", name, "staging").stdout
    assert "unset" in history
    missing = one_line_error(cli(server, "prompts", "unset", name, "staging"))
    assert "404" in missing


def test_archive_and_restore_a_dataset_and_a_suite(server: Server, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"input": {"q": "hi"}, "expected": "hi"}\n')
    ok(server, "datasets", "push", str(data), "--name", "cli-archive/d")
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: cli-archive/s\ndataset: cli-archive/d\nscorers: [{type: exact_match}]\n"
    )
    ok(server, "suites", "push", str(suite))
    for group, name in (("suites", "cli-archive/s"), ("datasets", "cli-archive/d")):
        kind = group.removesuffix("s")
        event = json.loads(ok(server, group, "archive", name, "-m", "old", "--json").stdout)
        assert (event["kind"], event["action"], event["reason"]) == (kind, "archive", "old")
        listed = json.loads(ok(server, group, "list", "--json").stdout)
        assert name not in [i["name"] for i in listed["items"]]
        hidden = json.loads(ok(server, group, "list", "--archived", "--json").stdout)
        assert name in [i["name"] for i in hidden["items"]]
    refused = one_line_error(cli(server, "suites", "push", str(suite)))
    assert "409" in refused
    for group, name in (("datasets", "cli-archive/d"), ("suites", "cli-archive/s")):
        restored = ok(server, group, "restore", name)
        assert restored.stdout.startswith(f"restored {group.removesuffix('s')} {name} (audit #")
    verified = ok(server, "audit", "verify")
    assert verified.stdout.strip().endswith("ok")
