"""`promptlane keys`: create, list and revoke API keys (admin)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli._common import (
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    credentials_file,
    fail,
    handle_errors,
    make_client,
    print_json,
)
from api.identity import credentials

app = typer.Typer(help="Manage API keys (needs an admin key).", no_args_is_help=True)

Role = Annotated[str, typer.Option("--role", help="reader, writer or admin.")]


@app.command("create")
@handle_errors
def create_key(
    name: Annotated[str, typer.Argument(help="A unique name for the key, e.g. ci or my-app.")],
    role: Role = "reader",
    url: UrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it (it is shown only this once)."""
    with make_client(url, api_key) as client:
        created = client.create_key(name, role)
    if as_json:
        print_json(created)
        return
    console.print(f"created {created['role']} key {created['name']!r} (id {created['id']}):")
    console.print(created["key"], markup=False)


@app.command("list")
@handle_errors
def list_keys(
    url: UrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys (never the keys themselves)."""
    with make_client(url, api_key) as client:
        keys = client.list_keys()
    if as_json:
        print_json(keys)
        return
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for key in keys:
        table.add_row(
            str(key["id"]),
            key["name"],
            key["role"],
            key["prefix"] + "…",
            key["created_at"][:19],
            (key["revoked_at"] or "")[:19],
        )
    console.print(table)


@app.command("generate")
def generate_key() -> None:
    """Print a new, well-formed key without a server (e.g. for PROMPTLANE_BOOTSTRAP_ADMIN_KEY)."""
    from api.identity.keys import generate_key as new_key

    typer.echo(new_key())


@app.command("saved")
def saved_key(url: UrlOption = "http://127.0.0.1:8000") -> None:
    """Print the key saved for --url in the local credentials file (e.g. the first admin key)."""
    path = credentials_file()
    key = credentials.key_for(path, url)
    if key is None:
        fail(f"no key saved for {url} in {path}")
    typer.echo(key)


@app.command("revoke")
@handle_errors
def revoke_key(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `keys list`).")],
    url: UrlOption = "http://127.0.0.1:8000",
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key."""
    with make_client(url, api_key) as client:
        revoked = client.revoke_key(key_id)
    if as_json:
        print_json(revoked)
        return
    console.print(f"revoked key {revoked['name']!r} (id {revoked['id']})")
