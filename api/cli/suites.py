"""`promptlane suites`: push suite YAML files, list and show them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    fail,
    handle_errors,
    make_client,
    print_table,
    show,
)
from api.cli._typer import Cli

app = Cli(help="Evaluation suites as code: push YAML files, inspect them.", no_args_is_help=True)
URL = DEFAULT_URL


@app.command("push")
@handle_errors
def push_suites(
    files: Annotated[list[Path], typer.Argument(help="Suite YAML files.")],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Store each suite file as a version (unchanged files keep their version)."""
    with make_client(url, api_key) as client:
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                fail(f"cannot read {path}: {exc.strerror}")
            stored, created = client.push_suite(text)
            state = "new version" if created else "unchanged, version"
            console.print(f"{path}: suite {stored['name']} {state} {stored['version']}")


@app.command("list")
@handle_errors
def list_suites(
    query: Annotated[str | None, typer.Option("--query", "-q")] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="List archived suites instead.")
    ] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List suites with their newest version."""
    with make_client(url, api_key) as client:
        page = client.list_suites(q=query, archived=archived or None)
    show(page, as_json, _print_suites)


def _print_suites(page: dict[str, Any]) -> None:
    rows = ((s["name"], str(s["latest_version"]), s["description"]) for s in page["items"])
    print_table(("name", "version", "description"), rows)


@app.command("show")
@handle_errors
def show_suite(
    name: Annotated[str, typer.Argument(help="Suite name, optionally NAME:VERSION.")],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a suite version as YAML."""
    base, sep, number = name.rpartition(":")
    version = int(number) if sep and number.isdigit() else None
    with make_client(url, api_key) as client:
        stored = client.get_suite(base if version else name, version)
    show(stored, as_json, _print_suite)


def _print_suite(stored: dict[str, Any]) -> None:
    console.print(
        f"# suite {stored['name']} version {stored['version']} ({stored['content_hash'][:12]})"
    )
    console.print(yaml.safe_dump(stored["spec"], sort_keys=False), markup=False)
