"""`promptlane datasets` against a real server process."""

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


def cli(server: Server, *args: str, key: str | None = ADMIN_KEY) -> Any:
    opts = ["--url", server.url] + (["--api-key", key] if key else [])
    return runner.invoke(app, [*args, *opts])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_push_each_format_is_idempotent(server: Server, tmp_path: Path) -> None:
    rows = [{"input": {"q": "hi"}, "expected": "hello"}, {"input": {"q": "bye"}}]
    files = [
        write(tmp_path / "d.jsonl", jsonl(rows)),
        write(tmp_path / "d.json", json.dumps({"items": rows})),
        write(tmp_path / "d.csv", "q,expected\nhi,hello\nbye,\n"),
    ]
    first = cli(server, "datasets", "push", str(files[0]), "--name", "cli/fmt", "-m", "v1")
    assert first.exit_code == 0, first.output
    assert "cli/fmt v1: created (2 items" in first.stdout
    for file in files:
        again = cli(server, "datasets", "push", str(file), "--name", "cli/fmt", "--json")
        assert again.exit_code == 0, again.output
        pushed = json.loads(again.stdout)
        assert (pushed["version"], pushed["created"]) == (1, False)
    table = cli(server, "datasets", "push", str(files[2]), "--name", "cli/fmt")
    assert "unchanged" in table.stdout


def test_push_with_explicit_format(server: Server, tmp_path: Path) -> None:
    file = write(tmp_path / "rows.txt", "q\nhello\n")
    refused = cli(server, "datasets", "push", str(file), "--name", "cli/txt")
    assert refused.exit_code == 1
    assert "--format" in refused.stderr
    pushed = cli(server, "datasets", "push", str(file), "--name", "cli/txt", "--format", "csv")
    assert pushed.exit_code == 0, pushed.output
    bad = cli(server, "datasets", "push", str(file), "--name", "cli/txt", "--format", "xml")
    assert bad.exit_code == 2
    assert "expected json, jsonl or csv" in bad.stderr


def test_bad_rows_print_their_lines_and_store_nothing(server: Server, tmp_path: Path) -> None:
    text = jsonl([{"input": {"a": 1}}, {"input": 2}]) + "oops\n" + jsonl([{"input": {}}])
    file = write(tmp_path / "bad.jsonl", text)
    result = cli(server, "datasets", "push", str(file), "--name", "cli/bad")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: 422 Invalid dataset: 2 bad rows on lines 2, 3;")
    assert "line 2 input: Input should be a valid dictionary" in lines[0]
    listing = json.loads(cli(server, "datasets", "list", "--query", "cli/bad", "--json").stdout)
    assert listing["total"] == 0


def test_list_show_versions_and_diff(server: Server, tmp_path: Path) -> None:
    old = [{"input": {"q": q}, "metadata": {"id": q}} for q in ("a", "b", "c")]
    new = [
        old[0],
        {"input": {"q": "B"}, "metadata": {"id": "b"}},
        {"input": {"q": "d"}, "metadata": {"id": "d"}},
    ]
    for rows in (old, new):
        file = write(tmp_path / "flow.jsonl", jsonl(rows))
        assert cli(server, "datasets", "push", str(file), "--name", "cli/flow").exit_code == 0

    listed = cli(server, "datasets", "list", "--query", "cli/flow")
    assert listed.exit_code == 0, listed.output
    assert "cli/flow" in listed.stdout
    assert "v2" in listed.stdout
    versions = cli(server, "datasets", "versions", "cli/flow", "--json")
    assert [v["version"] for v in json.loads(versions.stdout)["items"]] == [2, 1]

    latest = cli(server, "datasets", "show", "cli/flow")
    assert "cli/flow v2" in latest.stdout
    assert "3 items" in latest.stdout
    shown = cli(server, "datasets", "show", "cli/flow@1", "--items", "--json")
    assert [i["input"]["q"] for i in json.loads(shown.stdout)["items"]] == ["a", "b", "c"]
    table = cli(server, "datasets", "show", "cli/flow@1", "--items", "--limit", "1")
    assert table.exit_code == 0, table.output
    assert '"q": "a"' in table.stdout
    assert '"q": "b"' not in table.stdout

    diff = cli(server, "datasets", "diff", "cli/flow", "1", "2")
    assert diff.exit_code == 0, diff.output
    assert "+1 added, -1 removed, ~1 changed, 1 unchanged" in diff.stdout
    assert "metadata.id" in diff.stdout
    as_json = json.loads(cli(server, "datasets", "diff", "cli/flow", "1", "2", "--json").stdout)
    assert as_json["changed"][0]["key"] == "b"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("datasets", "show", "cli/none"), 1, "error: 404 Dataset not found"),
        (("datasets", "show", "cli/none@x"), 2, "expected NAME or NAME@VERSION"),
        (("datasets", "show", "cli/none@0"), 2, "expected NAME or NAME@VERSION"),
        (("datasets", "diff", "cli/none", "1", "2"), 1, "error: 404"),
        (("datasets", "push", "/does/not/exist.csv", "--name", "x"), 1, "no such file"),
        (("datasets", "push", "/tmp", "--name", "x", "-f", "csv"), 1, "error: /tmp:"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    server: Server, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli(server, *args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_reader_cannot_push(server: Server, tmp_path: Path) -> None:
    created = json.loads(cli(server, "keys", "create", "ds-reader", "--json").stdout)
    file = write(tmp_path / "r.csv", "q\n1\n")
    result = cli(server, "datasets", "push", str(file), "--name", "cli/r", key=created["key"])
    assert result.exit_code == 1
    assert "403" in result.stderr
    assert cli(server, "datasets", "list", key=created["key"]).exit_code == 0


def test_help_texts() -> None:
    for args in (["datasets"], ["datasets", "push"], ["datasets", "show"], ["datasets", "diff"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.stdout


def test_one_item_is_one_item_and_the_version_flag_works(server: Server, tmp_path: Path) -> None:
    # Messages a newcomer read (issue 17, item 10).
    path = write(tmp_path / "one.jsonl", jsonl([{"input": {"q": "only"}}]))
    pushed = cli(server, "datasets", "push", str(path), "--name", "msg/one-item")
    assert pushed.exit_code == 0, pushed.output
    assert "(1 item, hash" in pushed.stdout
    shown = cli(server, "datasets", "show", "msg/one-item")
    assert "1 item · hash" in shown.stdout
    version = CliRunner().invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.stdout.strip() == CliRunner().invoke(app, ["version"]).stdout.strip()
