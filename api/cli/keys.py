"""`promptlane keys`: create, list and revoke API keys (admin)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli._common import (
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    credentials_file,
    fail,
    handle_errors,
    make_client,
    print_table,
    show,
)
from api.cli._typer import Cli
from api.identity import credentials

app = Cli(help="Manage API keys (needs an admin key).", no_args_is_help=True)

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
    show(created, as_json, _print_created)


def _print_created(created: dict[str, Any]) -> None:
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
    show(keys, as_json, _print_keys)


def _print_keys(keys: list[dict[str, Any]]) -> None:
    rows = (
        (
            str(key["id"]),
            key["name"],
            key["role"],
            key["prefix"] + "…",
            key["created_at"][:19],
            (key["revoked_at"] or "")[:19],
        )
        for key in keys
    )
    print_table(("id", "name", "role", "prefix", "created", "revoked"), rows)


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
    show(revoked, as_json, lambda r: console.print(f"revoked key {r['name']!r} (id {r['id']})"))
