"""`promptlane datasets`: push, list, versions, show, diff (add-from-calls: dataset_curation)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import typer
from rich.table import Table

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    fail,
    handle_errors,
    make_client,
    page_caption,
    plural,
    print_table,
    show,
)
from api.cli._typer import Cli

app = Cli(
    help="Versioned datasets: push JSON, JSONL or CSV files, add recorded calls, inspect and diff.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Dataset name, e.g. support/tickets.")]
Format = Literal["json", "jsonl", "csv"]
FORMATS: Final[tuple[Format, ...]] = ("json", "jsonl", "csv")
URL = DEFAULT_URL
EXTENSIONS: Final[dict[str, Format]] = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}
_CELL = 60


def _file_format(path: Path, given: str | None) -> Format:
    if given is not None:
        for fmt in FORMATS:
            if given == fmt:
                return fmt
        fail(f"--format {given!r}: expected json, jsonl or csv", code=2)
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        fail(f"{path}: cannot tell the format from the extension; pass --format json|jsonl|csv")
    return found


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


@app.command("push")
@handle_errors
def push_dataset(
    path: Annotated[Path, typer.Argument(help="A .json, .jsonl (.ndjson) or .csv file.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Commit message.")] = "",
    description: Annotated[
        str | None, typer.Option("--description", help="Replace the dataset's description.")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="json, jsonl or csv (default: from the extension)."),
    ] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a file as a new version; identical items create none (idempotent)."""
    chosen = _file_format(path, fmt)
    try:
        content = path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror.lower() if exc.strerror else exc}")
    with make_client(url, api_key) as client:
        version, created = client.push_dataset(
            name, content, fmt=chosen, message=message, description=description
        )
    show({**version, "created": created}, as_json, _print_pushed)


def _print_pushed(version: dict[str, Any]) -> None:
    status = "created" if version["created"] else "unchanged"
    console.print(
        f"{version['name']} v{version['version']}: {status} "
        f"({plural(version['item_count'], 'item')}, hash {version['content_hash'][:12]})",
        markup=False,
        soft_wrap=True,
    )


@app.command("list")
@handle_errors
def list_datasets(
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Text in name or description.")
    ] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="List archived datasets instead.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List datasets with their latest version."""
    with make_client(url, api_key) as client:
        page = client.list_datasets(q=query, archived=archived or None, limit=limit, offset=offset)
    show(page, as_json, _print_datasets)


def _print_datasets(page: dict[str, Any]) -> None:
    rows = (
        (
            d["name"],
            f"v{d['latest_version']}" if d["latest_version"] else "-",
            d["created_at"][:19],
            d["description"][:60],
        )
        for d in page["items"]
    )
    print_table(("name", "latest", "created", "description"), rows, caption=page_caption(page))


@app.command("versions")
@handle_errors
def list_versions(
    name: Name,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a dataset's versions, newest first."""
    with make_client(url, api_key) as client:
        page = client.list_dataset_versions(name, limit=limit)
    show(page, as_json, _print_versions)


def _print_versions(page: dict[str, Any]) -> None:
    rows = (
        (
            f"v{v['version']}",
            str(v["item_count"]),
            v["author"],
            v["created_at"][:19],
            v["message"][:50],
            v["content_hash"][:12],
        )
        for v in page["items"]
    )
    print_table(("version", "items", "author", "created", "message", "hash"), rows)


def _selector(ref: str) -> tuple[str, int | None]:
    name, at, number = ref.rpartition("@")
    if not at:
        return ref, None
    if not number.isdigit() or int(number) < 1:
        fail(f"{ref!r}: expected NAME or NAME@VERSION (a version number from 1)", code=2)
    return name, int(number)


def _items_table(items: list[dict[str, Any]]) -> Table:
    table = Table("#", "input", "expected", "contexts", "metadata")
    for item in items:
        table.add_row(
            str(item["position"]),
            _short(item["input"]),
            _short(item["expected"]) if item["expected"] is not None else "",
            str(len(item["contexts"])) if item["contexts"] else "",
            _short(item["metadata"]) if item["metadata"] else "",
        )
    return table


@app.command("show")
@handle_errors
def show_dataset(
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (default: the latest).")],
    items: Annotated[bool, typer.Option("--items", help="Also list the items.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Items to list (default: all).")] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a dataset version, and its items with --items."""
    name, version = _selector(ref)
    with make_client(url, api_key) as client:
        found = client.get_dataset(name, version, items=items, limit=limit)
    show(found, as_json, _print_dataset)


def _print_dataset(found: dict[str, Any]) -> None:
    console.print(f"[bold]{found['name']}[/bold] v{found['version']}")
    console.print(
        f"{plural(found['item_count'], 'item')} · hash {found['content_hash'][:12]}"
        f" · by {found['author']} · {found['created_at'][:19]}",
        markup=False,
        soft_wrap=True,
    )
    if found["message"]:
        console.print(f"message: {found['message']}", markup=False)
    if found.get("items") is not None:
        console.print(_items_table(found["items"]))


@app.command("diff")
@handle_errors
def diff_versions(
    name: Name,
    from_version: Annotated[int, typer.Argument(help="Older version.", min=1)],
    to_version: Annotated[int, typer.Argument(help="Newer version.", min=1)],
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Items listed per change.")] = 100,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the items added, removed and changed between two versions."""
    with make_client(url, api_key) as client:
        diff = client.diff_datasets(name, from_version, to_version, limit=limit)
    show(diff, as_json, functools.partial(_print_diff, name))


def _print_diff(name: str, diff: dict[str, Any]) -> None:
    c = diff["counts"]
    console.print(
        f"{name} v{diff['from_version']} → v{diff['to_version']} (matched by "
        f"{diff['matched_by']}): +{c['added']} added, -{c['removed']} removed, "
        f"~{c['changed']} changed, {c['unchanged']} unchanged",
        markup=False,
        soft_wrap=True,
    )
    table = _diff_table(diff)
    if table.row_count:
        console.print(table)
    if max(c["added"], c["removed"], c["changed"]) > diff["limit"]:
        console.print(f"(at most {diff['limit']} items listed per change; see --limit)")


def _diff_table(diff: dict[str, Any]) -> Table:
    table = Table("", "key", "fields", "before", "after")
    key = "metadata" if diff["matched_by"] == "metadata.id" else "position"
    for item in diff["added"]:
        table.add_row("+", _key(item, key), "", "", _short(_content(item)))
    for item in diff["removed"]:
        table.add_row("-", _key(item, key), "", _short(_content(item)), "")
    for change in diff["changed"]:
        before, after = change["before"], change["after"]
        fields = change["fields"]
        table.add_row(
            "~",
            str(change["key"]),
            ", ".join(fields),
            _short({f: before[f] for f in fields}),
            _short({f: after[f] for f in fields}),
        )
    return table


def _key(item: dict[str, Any], by: str) -> str:
    return str(item["metadata"]["id"] if by == "metadata" else item["position"])


def _content(item: dict[str, Any]) -> dict[str, Any]:
    fields = ("input", "expected", "contexts", "metadata")
    return {k: item[k] for k in fields if item[k] not in (None, [], {})}
