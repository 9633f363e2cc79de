"""`prompts push` names prompts unambiguously: `name:` wins, else the path below a root, and a
new prompt that looks like an existing one is refused (issue 17, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli, write
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

TRIAGE = "messages:\n  - {role: user, content: '{{ticket}}'}\n"


@pytest.fixture
def tree(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """<root>/<unique>/support/triage.yaml and <root>/<unique>/support/named.yaml (name: set)."""
    unique = request.node.name.replace("_", "-").replace("[", "-").replace("]", "")[:40]
    root = tmp_path / "my-prompts"
    write(root / unique / "support" / "triage.yaml", TRIAGE)
    write(root / unique / "support" / "named.yaml", f"name: {unique}/explicit\ntemplate: hi\n")
    return root


def names(result: object) -> list[str]:
    return sorted(row["name"] for row in json.loads(result.stdout))  # type: ignore[attr-defined]


def test_the_same_file_gets_the_same_name_whichever_path_is_pushed(
    server: Server, tree: Path
) -> None:
    [unique] = [p.name for p in tree.iterdir()]
    first = cli(server, "prompts", "push", str(tree), "--json")
    assert first.exit_code == 0, first.output
    assert names(first) == [f"{unique}/explicit", f"{unique}/support/triage"]
    file = tree / unique / "support" / "triage.yaml"
    for target in (file, tree / unique / "support", tree / unique):
        again = cli(server, "prompts", "push", str(target), "--root", str(tree), "--json")
        assert again.exit_code == 0, again.output
        assert f"{unique}/support/triage" in names(again)
        assert not any(row["created"] for row in json.loads(again.stdout))


def test_a_single_file_without_name_needs_a_root(server: Server, tree: Path) -> None:
    [unique] = [p.name for p in tree.iterdir()]
    result = cli(server, "prompts", "push", str(tree / unique / "support" / "triage.yaml"))
    assert result.exit_code == 1
    assert "no 'name:' in the file" in result.stderr
    assert "--root" in result.stderr
    named = cli(server, "prompts", "push", str(tree / unique / "support" / "named.yaml"), "--json")
    assert named.exit_code == 0, named.output
    assert names(named) == [f"{unique}/explicit"]  # name: wins, whatever the path


def test_a_new_prompt_that_looks_like_an_existing_one_is_refused(
    server: Server, tree: Path
) -> None:
    [unique] = [p.name for p in tree.iterdir()]
    assert cli(server, "prompts", "push", str(tree)).exit_code == 0
    write(tree / unique / "support" / "triage.yaml", TRIAGE + "description: changed\n")
    for target, derived in (
        (tree / unique / "support", "triage"),  # pushed from inside the root
        (tree.parent, f"my-prompts/{unique}/support/triage"),  # from above it
    ):
        result = cli(server, "prompts", "push", str(target))
        assert result.exit_code == 2, result.output
        [line] = result.stderr.strip().splitlines()
        assert f"would create a new prompt {derived!r}, but '{unique}/support/triage'" in line
        assert line.endswith("nothing was pushed")
    listing = cli(server, "prompts", "list", "--query", "triage", "--json")
    assert [p["name"] for p in json.loads(listing.stdout)["items"]].count("triage") == 0


def test_dry_run_lists_what_would_be_created_and_pushes_nothing(server: Server, tree: Path) -> None:
    [unique] = [p.name for p in tree.iterdir()]
    dry = cli(server, "prompts", "push", str(tree), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    plan = {row["name"]: (row["action"], row["version"]) for row in json.loads(dry.stdout)}
    assert plan == {
        f"{unique}/explicit": ("create_prompt", 1),
        f"{unique}/support/triage": ("create_prompt", 1),
    }
    listing = cli(server, "prompts", "list", "--query", unique, "--json")
    assert json.loads(listing.stdout)["total"] == 0
    assert cli(server, "prompts", "push", str(tree)).exit_code == 0
    write(tree / unique / "support" / "triage.yaml", TRIAGE.replace("user", "system"))
    table = cli(server, "prompts", "push", str(tree), "--dry-run")
    assert table.exit_code == 0
    assert "dry run: nothing was pushed" in table.stdout
    assert "new version (v2)" in table.stdout
    assert "unchanged (v1)" in table.stdout
