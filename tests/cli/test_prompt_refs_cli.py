"""One prompt-reference syntax on the command line, and typos that are errors, not "no calls"
(issue 17, items 11 and 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import cli, write
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def pushed(server: Server, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A prompt with versions 1 and 2, production on 1; return its name."""
    name = "refs/" + request.node.name.replace("_", "-")[:40]
    path = write(tmp_path / "p.yaml", f"name: {name}\ntemplate: 'one {{{{x}}}}'\n")
    assert cli(server, "prompts", "push", str(path)).exit_code == 0
    path.write_text(f"name: {name}\ntemplate: 'two {{{{x}}}}'\n")
    assert cli(server, "prompts", "push", str(path)).exit_code == 0
    assert cli(server, "prompts", "label", name, "production", "1").exit_code == 0
    return name


def test_show_and_render_take_name_label_or_version(server: Server, pushed: str) -> None:
    for ref, version in ((pushed, 1), (f"{pushed}@production", 1), (f"{pushed}:2", 2)):
        shown = cli(server, "prompts", "show", ref, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["version"] == version
        rendered = cli(server, "prompts", "render", ref, "--var", "x=X", "--json")
        assert rendered.exit_code == 0, rendered.output
        assert json.loads(rendered.stdout)["messages"][0]["content"].endswith(" X")
    both = cli(server, "prompts", "render", f"{pushed}:2", "--version", "1")
    assert both.exit_code == 2
    assert "already selects a version" in both.stderr


def test_stats_and_calls_take_references_and_refuse_unknown_prompts(
    server: Server, pushed: str
) -> None:
    for args in (("stats", f"{pushed}:2", "--json"), ("calls", "-p", f"{pushed}@production")):
        result = cli(server, *args)
        assert result.exit_code == 0, result.output
    typo = pushed[:-1]
    for args in (("stats", typo), ("calls", "-p", typo)):
        result = cli(server, *args)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.strip().splitlines()
        assert line == f"error: no prompt named {typo!r}; did you mean {pushed!r}?"
    nothing = cli(server, "stats", "refs/zzzzzzzz-nothing-like-it")
    assert nothing.exit_code == 2
    assert "did you mean" not in nothing.stderr
