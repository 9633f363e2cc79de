"""The `promptlane` CLI against a real server process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from api.cli import app
from api.identity import credentials
from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server, free_port
from tests.factories import generation_row
from tracing.inserts import TABLE as GENERATIONS
from tracing.rollups.write import STATE, TABLE

pytestmark = pytest.mark.e2e
runner = CliRunner()


def cli(server: Server, *args: str, key: str | None = ADMIN_KEY) -> Any:
    opts = ["--url", server.url] + (["--api-key", key] if key else [])
    # Options go after the sub-command's arguments; Typer accepts them anywhere.
    return runner.invoke(app, [*args, *opts])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def prompt_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = tmp_path / "prompts"
    prefix = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[:40]
    write(
        root / prefix / "triage.yaml",
        """
        description: Route support tickets
        tags: [support]
        messages:
          - role: system
            content: You triage tickets for {{company}}.
          - role: user
            content: "{{ticket}}"
        config:
          model: openai/gpt-4o-mini
          temperature: 0.1
        message: first cut
        """,
    )
    write(
        root / prefix / "summary.json",
        json.dumps({"template": "Summarise: {{text}}", "template_format": "mustache"}),
    )
    return root


def test_push_is_idempotent_and_names_follow_paths(server: Server, prompt_dir: Path) -> None:
    first = cli(server, "prompts", "push", str(prompt_dir), "--json")
    assert first.exit_code == 0, first.output
    pushed = json.loads(first.stdout)
    names = sorted(p["name"] for p in pushed)
    prefix = names[0].split("/")[0]
    assert names == [f"{prefix}/summary", f"{prefix}/triage"]
    assert all(p["created"] and p["version"] == 1 for p in pushed)
    again = cli(server, "prompts", "push", str(prompt_dir), "--json")
    assert [p["created"] for p in json.loads(again.stdout)] == [False, False]
    table = cli(server, "prompts", "push", str(prompt_dir))
    assert table.exit_code == 0
    assert "unchanged" in table.stdout


def test_push_with_label(server: Server, prompt_dir: Path) -> None:
    result = cli(server, "prompts", "push", str(prompt_dir), "--label", "staging", "--json")
    assert result.exit_code == 0, result.output
    assert {p["label"] for p in json.loads(result.stdout)} == {"staging"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("template: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("template: '{{> partial}}'", "partials are not allowed"),
        ("template: x\nconfig: {temperature: 9}", "config.temperature"),
        ("name: Bad Name\ntemplate: x", "invalid prompt name"),
    ],
)
def test_push_refuses_bad_files_before_sending_anything(
    server: Server, tmp_path: Path, content: str, message: str
) -> None:
    root = tmp_path / "bad"
    write(root / "aaa-good.yaml", "template: fine {{x}}")
    write(root / "zzz-bad.yaml", content)
    result = cli(server, "prompts", "push", str(root))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "zzz-bad.yaml" in lines[0]
    listing = json.loads(cli(server, "prompts", "list", "--query", "aaa-good", "--json").stdout)
    assert listing["total"] == 0


def test_show_render_label_history_diff(server: Server, tmp_path: Path) -> None:
    file = write(tmp_path / "p.yaml", "name: cli/flow\ntemplate: 'Hi {{who}} ({{n}})'\n")
    assert cli(server, "prompts", "push", str(file)).exit_code == 0
    write(file, "name: cli/flow\ntemplate: 'Hello {{who}} ({{n}})'\nconfig: {model: m/2}\n")
    assert cli(server, "prompts", "push", str(file)).exit_code == 0

    moved = cli(server, "prompts", "label", "cli/flow", "production", "2", "-m", "ship it")
    assert moved.exit_code == 0
    assert "production unset → v2" in moved.stdout
    back = cli(server, "prompts", "label", "cli/flow", "production", "1", "--reason", "rollback")
    assert "v2 → v1" in back.stdout

    shown = json.loads(cli(server, "prompts", "show", "cli/flow", "--json").stdout)
    assert shown["version"] == 1
    assert shown["labels"] == ["production"]
    assert "Hello" in cli(server, "prompts", "show", "cli/flow", "--version", "2").stdout

    rendered = cli(
        server, "prompts", "render", "cli/flow", "--var", "who=Ada", "--var", "n=3", "--json"
    )
    assert json.loads(rendered.stdout)["text"] == "Hi Ada (3)"
    vars_file = write(tmp_path / "vars.yaml", "who: Bob\nn: 1\n")
    plain = cli(
        server, "prompts", "render", "cli/flow", "-l", "latest", "--vars-file", str(vars_file)
    )
    assert "Hello Bob (1)" in plain.stdout

    history = json.loads(
        cli(server, "prompts", "history", "cli/flow", "production", "--json").stdout
    )
    assert [e["reason"] for e in history["items"]] == ["rollback", "ship it"]
    assert "rollback" in cli(server, "prompts", "history", "cli/flow", "production").stdout

    diff = cli(server, "prompts", "diff", "cli/flow", "1", "2")
    assert diff.exit_code == 0
    assert "-Hi {{who}} ({{n}})" in diff.stdout
    assert "config.model" in diff.stdout

    listed = cli(server, "prompts", "list", "--label", "production")
    assert "cli/flow" in listed.stdout
    assert "production→v1" in listed.stdout
    versions = json.loads(cli(server, "prompts", "versions", "cli/flow", "--json").stdout)
    assert [v["version"] for v in versions["items"]] == [2, 1]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("prompts", "show", "cli/none"), 1, "error: 404 Prompt not found"),
        (("prompts", "render", "cli/none", "--var", "novalue"), 2, "expected NAME=VALUE"),
        (("prompts", "show", "x", "--label", "a", "--version", "1"), 2, "not both"),
        (("prompts", "push", "/does/not/exist"), 1, "no such file or directory"),
        (("prompts", "label", "cli/none", "latest", "1"), 1, "error: 422"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    server: Server, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(server, *args)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_missing_and_wrong_keys(server: Server) -> None:
    missing = cli(server, "prompts", "list", key=None)
    assert missing.exit_code == 1
    assert "401" in missing.stderr
    assert "--api-key" in missing.stderr
    wrong = cli(server, "prompts", "list", key="pl_" + "x" * 30)
    assert wrong.exit_code == 1
    assert "unknown or revoked" in wrong.stderr


def test_unreachable_server_is_one_line() -> None:
    result = runner.invoke(
        app, ["prompts", "list", "--url", f"http://127.0.0.1:{free_port()}", "--api-key", ADMIN_KEY]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach promptlane at http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_credentials_file_is_used(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds.json"
    credentials.save(creds, server.url, ADMIN_KEY)
    monkeypatch.setenv("PROMPTLANE_CREDENTIALS_FILE", str(creds))
    result = cli(server, "prompts", "list", key=None)
    assert result.exit_code == 0, result.stderr


def test_keys_commands(server: Server) -> None:
    created = json.loads(cli(server, "keys", "create", "cli-reader", "--json").stdout)
    assert created["role"] == "reader"
    assert created["key"].startswith("pl_")
    as_reader = cli(server, "keys", "list", key=created["key"])
    assert as_reader.exit_code == 1
    assert "403" in as_reader.stderr
    listed = cli(server, "keys", "list")
    assert "cli-reader" in listed.stdout
    assert created["key"] not in listed.stdout
    revoked = cli(server, "keys", "revoke", str(created["id"]))
    assert revoked.exit_code == 0
    assert "revoked" in revoked.stdout
    assert cli(server, "prompts", "list", key=created["key"]).exit_code == 1
    bad_role = cli(server, "keys", "create", "x", "--role", "root")
    assert bad_role.exit_code == 1
    assert "422" in bad_role.stderr


def test_db_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    up = runner.invoke(app, ["db", "upgrade", "--database-url", url])
    assert up.exit_code == 0, up.output
    current = runner.invoke(app, ["db", "current", "--database-url", url])
    head = current.stdout.split("code head: ")[1].strip()
    assert f"database: {head}" in current.stdout
    down = runner.invoke(app, ["db", "downgrade", "base", "--database-url", url])
    assert down.exit_code == 0
    assert "base" in down.stdout
    bad = runner.invoke(app, ["db", "upgrade", "--database-url", "mysql://nope/x"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: migration failed")


def test_cli_does_not_import_the_server_stack_or_model_sdks(server: Server) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from typer.testing import CliRunner
        from api.cli import app
        result = CliRunner().invoke(app, ["prompts", "list", "--url", "{server.url}",
                                          "--api-key", "{ADMIN_KEY}"])
        assert result.exit_code == 0, result.output
        heavy = {{"litellm", "ragas", "fastapi", "sqlalchemy", "uvicorn", "openai"}}
        print(sorted(heavy & {{m.split(".")[0] for m in sys.modules}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_help_texts() -> None:
    for args in ([], ["prompts"], ["keys"], ["db"], ["serve"], ["prompts", "push"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.stdout


def test_every_help_shows_flags_bare_and_arguments_without_braces() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    paths = _command_paths(root)
    assert len(paths) > 60  # every command of every group
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.stdout, path  # a flag takes no value
        usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
        assert "{" not in usage, usage
    label = runner.invoke(app, ["prompts", "label", "--help"], env={"COLUMNS": "120"})
    assert "Usage: promptlane prompts label [OPTIONS] NAME LABEL VERSION" in label.stdout
    assert re.search(r"--json\s+Print JSON", label.stdout)
    missing = runner.invoke(app, ["prompts", "label"])
    assert missing.exit_code == 2
    assert "Missing argument 'NAME'" in missing.output


def test_db_purge_spans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    done = runner.invoke(app, ["db", "purge-spans", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "deleted 0 span(s) older than 30 day(s)"
    assert runner.invoke(app, ["db", "purge-spans", "--days", "0"]).exit_code == 2
    monkeypatch.setenv("PROMPTLANE_TRACE_RETENTION_DAYS", "0")
    forever = runner.invoke(app, ["db", "purge-spans", "--database-url", url])
    assert forever.exit_code == 1
    assert "give --days" in forever.stderr


def test_db_rebuild_rollups_rebuilds_then_folds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rollups.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(STATE).values(folded_until=now - timedelta(hours=3)))
            for ago in (timedelta(days=2), timedelta(hours=2), timedelta(0)):  # no rollups yet
                conn.execute(sa.insert(GENERATIONS).values(generation_row(started_at=now - ago)))
        done = runner.invoke(app, ["db", "rebuild-rollups", "--database-url", url])
        assert done.exit_code == 0, done.output
        assert done.stdout.strip() == "rolled up 3 generation(s)"
        with engine.connect() as conn:
            calls = conn.execute(
                sa.select(TABLE.c.period_s, sa.func.sum(TABLE.c.calls)).group_by(TABLE.c.period_s)
            ).all()
        # 2 days ago: every size at once; 2 hours ago: folded after the rebuild; now: not yet.
        assert dict(calls) == {60: 3, 3600: 2, 86400: 2}
    finally:
        engine.dispose()
