"""`promptlane prompts`: list, show, push, diff, render, label, history, snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.syntax import Syntax
from rich.table import Table

from api.cli import prompt_push
from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    fail,
    handle_errors,
    make_client,
    parse_value,
    print_json,
)
from api.cli.prompt_files import PromptFileError, load_prompt_files
from evals.promotion.reports import GateReport
from promptlane_client.snapshot import build_snapshot

app = typer.Typer(help="Versioned prompts: push, inspect, render and label.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Prompt name, e.g. support/triage.")]
LabelOpt = Annotated[str | None, typer.Option("--label", "-l", help="Label (default: production).")]
VersionOpt = Annotated[int | None, typer.Option("--version", "-v", help="Version number.", min=1)]
URL = DEFAULT_URL


def _selector(label: str | None, version: int | None) -> None:
    if label is not None and version is not None:
        fail("give --label or --version, not both", code=2)


@app.command("list")
@handle_errors
def list_prompts(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Text in name or description.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only prompts with this tag.")] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="Only prompts with this label.")
    ] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="List archived prompts instead.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List prompts with their labels and latest version."""
    with make_client(url, api_key) as client:
        page = client.list_prompts(
            q=query, tag=tag, label=label, archived=archived or None, limit=limit, offset=offset
        )
    if as_json:
        print_json(page)
        return
    table = Table(
        "name",
        "latest",
        "labels",
        "tags",
        "description",
        caption=f"{len(page['items'])} of {page['total']}",
    )
    for p in page["items"]:
        labels = ", ".join(f"{k}→v{v}" for k, v in p["labels"].items())
        table.add_row(
            p["name"],
            str(p["latest_version"] or "-"),
            labels,
            ", ".join(p["tags"]),
            p["description"][:60],
        )
    console.print(table)


@app.command("versions")
@handle_errors
def list_versions(
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a prompt's versions, newest first."""
    with make_client(url, api_key) as client:
        page = client.list_versions(name, limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("version", "labels", "model", "author", "created", "message", "hash")
    for v in page["items"]:
        table.add_row(
            str(v["version"]),
            ", ".join(v["labels"]),
            v["config"].get("model", ""),
            v["author"],
            v["created_at"][:19],
            v["message"][:50],
            v["content_hash"][:12],
        )
    console.print(table)


def _print_version(v: dict[str, Any]) -> None:
    labels = f"  [{', '.join(v['labels'])}]" if v["labels"] else ""
    console.print(f"[bold]{v['name']}[/bold] v{v['version']}{labels}")
    console.print(
        f"kind {v['kind']} · format {v['template_format']} · hash {v['content_hash'][:12]}"
        f" · by {v['author']} · {v['created_at'][:19]}"
    )
    if v["message"]:
        console.print(f"message: {v['message']}", markup=False)
    console.print(f"variables: {', '.join(v['variables']) or '-'}", markup=False)
    if v["config"]:
        console.print(Syntax(yaml.safe_dump(v["config"], sort_keys=False), "yaml"))
    if v["kind"] == "text":
        console.print(v["template"], markup=False)
    for m in v["messages"] or []:
        console.print(f"[bold]{m['role']}[/bold]:")
        console.print(m["content"], markup=False)


@app.command("show")
@handle_errors
def show_prompt(
    name: Name,
    label: LabelOpt = None,
    version: VersionOpt = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the version a label (default production) or number selects."""
    _selector(label, version)
    with make_client(url, api_key) as client:
        found = client.resolve_prompt(name, label=label, version=version)
    if as_json:
        print_json(found)
    else:
        _print_version(found)


@app.command("push")
@handle_errors
def push_prompts(
    path: Annotated[Path, typer.Argument(help="A prompt YAML/JSON file or a directory of them.")],
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            help="Names are paths below this directory (default: PATH when it is a directory).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be created; push nothing.")
    ] = False,
    label: Annotated[
        str | None, typer.Option("--label", help="Also point this label at each pushed version.")
    ] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish prompt files; unchanged files create no versions (idempotent).

    A file's prompt is its 'name:' field, else its path below the root without the suffix.
    """
    try:
        files = load_prompt_files(path, root)
    except PromptFileError as exc:
        fail(str(exc))
    with make_client(url, api_key) as client:
        planned = prompt_push.plan_files(client, files)
        if dry_run:
            prompt_push.show_plan(planned, as_json=as_json)
            return
        results = prompt_push.publish(client, planned, label)
    if as_json:
        print_json(results)
        return
    table = Table("file", "prompt", "version", "status")
    for r in results:
        status = "new prompt" if r["new_prompt"] else "created" if r["created"] else "unchanged"
        if r["label"]:
            status += f", {r['label']}"
        table.add_row(r["file"], r["name"], f"v{r['version']}", status)
    console.print(table)


@app.command("diff")
@handle_errors
def diff_versions(
    name: Name,
    from_version: Annotated[int, typer.Argument(help="Older version.", min=1)],
    to_version: Annotated[int, typer.Argument(help="Newer version.", min=1)],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what changed between two versions."""
    with make_client(url, api_key) as client:
        diff = client.diff_versions(name, from_version, to_version)
    if as_json:
        print_json(diff)
        return
    if diff["template_diff"]:
        console.print(Syntax(diff["template_diff"], "diff"))
    else:
        console.print("templates identical")
    if diff["changes"]:
        table = Table("field", "change", "before", "after")
        for c in diff["changes"]:
            table.add_row(c["path"], c["change"], json.dumps(c["before"]), json.dumps(c["after"]))
        console.print(table)
    for key, sign in (("variables_added", "+"), ("variables_removed", "-")):
        for var in diff[key]:
            console.print(f"{sign} variable {var}", markup=False)


def _variables(pairs: list[str], vars_file: Path | None) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    if vars_file is not None:
        try:
            loaded = yaml.safe_load(vars_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            fail(f"{vars_file}: {exc}")
        if not isinstance(loaded, dict):
            fail(f"{vars_file}: expected a mapping of variable names to values")
        variables.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"--var {pair!r}: expected NAME=VALUE", code=2)
        variables[key] = parse_value(raw)
    return variables


@app.command("render")
@handle_errors
def render_prompt(
    name: Name,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="NAME=VALUE (VALUE parsed as JSON when it parses). Repeatable."),
    ] = None,
    vars_file: Annotated[
        Path | None, typer.Option("--vars-file", help="YAML/JSON file of variables.")
    ] = None,
    label: LabelOpt = None,
    version: VersionOpt = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Render a version with variables, exactly as applications receive it."""
    _selector(label, version)
    variables = _variables(var or [], vars_file)
    with make_client(url, api_key) as client:
        rendered = client.render_prompt(name, variables, label=label, version=version)
    if as_json:
        print_json(rendered)
        return
    console.print(f"[bold]{rendered['name']}[/bold] v{rendered['version']}")
    for m in rendered["messages"]:
        console.print(f"[bold]{m['role']}[/bold]:")
        console.print(m["content"], markup=False)


@app.command("label")
@handle_errors
def move_label(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label to move, e.g. staging or production.")],
    version: Annotated[int, typer.Argument(help="Version to point it at.", min=1)],
    reason: Annotated[
        str, typer.Option("--reason", "-m", help="Why (kept in the audit trail).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Override a failed promotion gate (needs --reason).")
    ] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Point a label at a version (a rollback is a move back to an earlier one)."""
    with make_client(url, api_key) as client:
        event = client.move_label(name, label, version, reason, force=force)
    if as_json:
        print_json(event)
        return
    before = f"v{event['from_version']}" if event["from_version"] else "unset"
    console.print(f"{name}: {label} {before} → v{event['to_version']}", markup=False)


@app.command("can-promote")
@handle_errors
def can_promote(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    version: Annotated[int, typer.Argument(help="Candidate version.", min=1)],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dry-run a label move: which required suites passed on this version (exit 1 if refused)."""
    with make_client(url, api_key) as client:
        answer = client.check_promotion(name, label, version)
    report = GateReport.model_validate(answer)
    if as_json:
        print_json(answer)
    else:
        table = Table("suite", "run", "verdict", "result", "detail")
        for s in report.suites:
            table.add_row(
                f"{s.suite}:{s.suite_version}",
                str(s.run_id or "-"),
                s.verdict or "-",
                "pass" if s.passed else "FAIL",
                s.detail or "",
            )
        if report.suites:
            console.print(table)
        verdict = "[green]allowed[/]" if report.allowed else "[red]refused[/]"
        console.print(f"{name} v{version} → {label}: {verdict} ({report.detail})")
    if not report.allowed:
        raise typer.Exit(1)


@app.command("history")
@handle_errors
def label_history(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a label's audit trail, newest first."""
    with make_client(url, api_key) as client:
        page = client.label_history(name, label, limit=limit)
    if as_json:
        print_json(page)
        return
    table = Table("at", "from", "to", "actor", "forced", "reason")
    for e in page["items"]:
        table.add_row(
            e["created_at"][:19],
            f"v{e['from_version']}" if e["from_version"] else "-",
            f"v{e['to_version']}" if e["to_version"] else "unset",
            e["actor"],
            "yes" if e["is_forced"] else "",
            e["reason"],
        )
    console.print(table)


@app.command("snapshot")
@handle_errors
def snapshot_prompts(
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", help="Only this label (repeatable; default: every label)."),
    ] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Print every prompt's labelled versions as JSON, for `Client(snapshot=...)` to boot from."""
    with make_client(url, api_key) as client:
        snapshot = build_snapshot(client, labels=label or ())
    print_json(snapshot)
