"""`promptlane prompts`: list, show, push, diff, render, label, history, snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.syntax import Syntax

from api.cli import prompt_labels, prompt_push
from api.cli._common import (
    DEFAULT_URL,
    PROMPT_REF_HELP,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    fail,
    handle_errors,
    make_client,
    page_caption,
    parse_value,
    print_json,
    print_table,
    prompt_target,
    show,
)
from api.cli._typer import Cli
from api.cli.prompt_files import PromptFileError, load_prompt_files
from promptlane_client.snapshot import build_snapshot

app = Cli(help="Versioned prompts: push, inspect, render and label.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Prompt name, e.g. support/triage.")]
Ref = Annotated[str, typer.Argument(help=PROMPT_REF_HELP)]
LabelOpt = Annotated[str | None, typer.Option("--label", "-l", help="Label (default: production).")]
VersionOpt = Annotated[int | None, typer.Option("--version", "-v", help="Version number.", min=1)]
URL = DEFAULT_URL


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
    show(page, as_json, _print_prompts)


def _print_prompts(page: dict[str, Any]) -> None:
    rows = (
        (
            p["name"],
            str(p["latest_version"] or "-"),
            ", ".join(f"{k}→v{v}" for k, v in p["labels"].items()),
            ", ".join(p["tags"]),
            p["description"][:60],
        )
        for p in page["items"]
    )
    headers = ("name", "latest", "labels", "tags", "description")
    print_table(headers, rows, caption=page_caption(page))


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
    show(page, as_json, _print_versions)


def _print_versions(page: dict[str, Any]) -> None:
    rows = (
        (
            str(v["version"]),
            ", ".join(v["labels"]),
            v["config"].get("model", ""),
            v["author"],
            v["created_at"][:19],
            v["message"][:50],
            v["content_hash"][:12],
        )
        for v in page["items"]
    )
    print_table(("version", "labels", "model", "author", "created", "message", "hash"), rows)


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
    _print_messages(v["messages"] or [])


@app.command("show")
@handle_errors
def show_prompt(
    name: Ref,
    label: LabelOpt = None,
    version: VersionOpt = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the version a label (default production) or number selects."""
    name, label, version = prompt_target(name, label, version)
    with make_client(url, api_key) as client:
        found = client.resolve_prompt(name, label=label, version=version)
    show(found, as_json, _print_version)


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
    show(results, as_json, _print_pushed)


def _print_pushed(results: list[dict[str, Any]]) -> None:
    rows = ((r["file"], r["name"], f"v{r['version']}", _push_status(r)) for r in results)
    print_table(("file", "prompt", "version", "status"), rows)


def _push_status(result: dict[str, Any]) -> str:
    status = (
        "new prompt" if result["new_prompt"] else "created" if result["created"] else "unchanged"
    )
    return f"{status}, {result['label']}" if result["label"] else status


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
    show(diff, as_json, _print_diff)


def _print_diff(diff: dict[str, Any]) -> None:
    if diff["template_diff"]:
        console.print(Syntax(diff["template_diff"], "diff"))
    else:
        console.print("templates identical")
    if diff["changes"]:
        rows = (
            (c["path"], c["change"], json.dumps(c["before"]), json.dumps(c["after"]))
            for c in diff["changes"]
        )
        print_table(("field", "change", "before", "after"), rows)
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
    name: Ref,
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
    name, label, version = prompt_target(name, label, version)
    variables = _variables(var or [], vars_file)
    with make_client(url, api_key) as client:
        rendered = client.render_prompt(name, variables, label=label, version=version)
    show(rendered, as_json, _print_rendered)


def _print_rendered(rendered: dict[str, Any]) -> None:
    console.print(f"[bold]{rendered['name']}[/bold] v{rendered['version']}")
    _print_messages(rendered["messages"])


def _print_messages(messages: list[dict[str, Any]]) -> None:
    for m in messages:
        console.print(f"[bold]{m['role']}[/bold]:")
        console.print(m["content"], markup=False)


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


# Label moves, promotion checks and the audit trail (api/cli/prompt_labels.py).
app.command("label")(prompt_labels.move_label)
app.command("can-promote")(prompt_labels.can_promote)
app.command("history")(prompt_labels.label_history)
