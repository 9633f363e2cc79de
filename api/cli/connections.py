"""`promptlane connections`: where model calls go and with which key (changes need an admin key).

A provider key is never a command-line argument (it would land in the shell history): it is
read from stdin (`--api-key-stdin`; a hidden prompt on a terminal), or named as a server
environment variable (`--api-key-env`). No command ever prints a key.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

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

app = Cli(
    help="Provider connections: endpoints and keys model calls go through (admin).",
    no_args_is_help=True,
)
URL = DEFAULT_URL

Name = Annotated[str, typer.Argument(help="The connection's name, e.g. openai.")]
ApiBase = Annotated[
    str | None,
    typer.Option("--api-base", help="Endpoint URL, e.g. http://127.0.0.1:11434/v1."),
]
ApiKeyEnv = Annotated[
    str | None,
    typer.Option("--api-key-env", help="Read the key from this (allow-listed) server variable."),
]
ApiKeyStdin = Annotated[
    bool,
    typer.Option("--api-key-stdin", help="Read the key from stdin (hidden prompt on a terminal)."),
]
GatewayModels = Annotated[
    list[str] | None,
    typer.Option("--gateway-model", help="A model readers may call via the gateway (repeat)."),
]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]


def read_key() -> str:
    """Return the provider key from stdin, or from a hidden prompt on a terminal."""
    if sys.stdin.isatty():
        key = str(typer.prompt("API key", hide_input=True))
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        fail("no API key given on stdin")
    return key


def _key_source(row: dict[str, Any]) -> str:
    if row["has_api_key"]:
        return "stored (encrypted)"
    if row["api_key_env"]:
        return f"${row['api_key_env']} on the server"
    return "none"


def _print(row: dict[str, Any]) -> None:
    console.print(f"{row['name']}: {row['provider']}", markup=False)
    console.print(f"  endpoint: {row['api_base'] or '(the provider default)'}", markup=False)
    console.print(f"  key: {_key_source(row)}", markup=False)
    models = ", ".join(row["gateway_models"]) or "none"
    console.print(f"  gateway models: {models}", markup=False)
    if row["description"]:
        console.print(f"  {row['description']}", markup=False)


@app.command("create")
@handle_errors
def create_connection(
    name: Name,
    provider: Annotated[
        str, typer.Option("--provider", help="litellm provider: openai, anthropic, azure, ...")
    ],
    api_base: ApiBase = None,
    api_key_env: ApiKeyEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    gateway_models: GatewayModels = None,
    description: Description = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a connection (admin); its key is stored encrypted and never shown again."""
    if api_key_env and api_key_stdin:
        fail("give --api-key-env or --api-key-stdin, not both")
    body: dict[str, Any] = {"name": name, "provider": provider, "api_base": api_base}
    body.update(api_key_env=api_key_env, gateway_models=gateway_models or [])
    body["description"] = description or ""
    if api_key_stdin:
        body["api_key"] = read_key()
    with make_client(url, api_key) as client:
        created = client.create_connection(body)
    show(created, as_json, _print)


@app.command("list")
@handle_errors
def list_connections(
    url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """List connections (never their keys)."""
    with make_client(url, api_key) as client:
        rows = client.list_connections()
    show(rows, as_json, _print_list)


def _print_list(rows: list[dict[str, Any]]) -> None:
    cells = (
        (
            row["name"],
            row["provider"],
            row["api_base"] or "",
            _key_source(row),
            ", ".join(row["gateway_models"]),
        )
        for row in rows
    )
    print_table(("name", "provider", "endpoint", "key", "gateway models"), cells)


@app.command("show")
@handle_errors
def show_connection(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Show one connection (never its key)."""
    with make_client(url, api_key) as client:
        row = client.get_connection(name)
    show(row, as_json, _print)


def _update_body(
    *,
    provider: str | None,
    api_base: str | None,
    no_api_base: bool,
    api_key_env: str | None,
    api_key_stdin: bool,
    remove_api_key: bool,
    gateway_models: list[str] | None,
    no_gateway_models: bool,
    description: str | None,
) -> dict[str, Any]:
    if sum((bool(api_key_env), api_key_stdin, remove_api_key)) > 1:
        fail("give one of --api-key-env, --api-key-stdin and --remove-api-key")
    body: dict[str, Any] = {}
    if provider is not None:
        body["provider"] = provider
    if api_base is not None or no_api_base:
        body["api_base"] = None if no_api_base else api_base
    if api_key_env is not None:
        body["api_key_env"] = api_key_env
    if api_key_stdin:
        body["api_key"] = read_key()
    if remove_api_key:
        body.update(api_key=None, api_key_env=None)
    if gateway_models is not None or no_gateway_models:
        body["gateway_models"] = [] if no_gateway_models else gateway_models
    if description is not None:
        body["description"] = description
    return body


@app.command("update")
@handle_errors
def update_connection(
    name: Name,
    provider: Annotated[str | None, typer.Option("--provider", help="litellm provider.")] = None,
    api_base: ApiBase = None,
    no_api_base: Annotated[
        bool, typer.Option("--no-api-base", help="Use the provider's default endpoint.")
    ] = False,
    api_key_env: ApiKeyEnv = None,
    api_key_stdin: ApiKeyStdin = False,
    remove_api_key: Annotated[
        bool, typer.Option("--remove-api-key", help="Remove the key (or key variable).")
    ] = False,
    gateway_models: GatewayModels = None,
    no_gateway_models: Annotated[
        bool, typer.Option("--no-gateway-models", help="Offer no model through the gateway.")
    ] = False,
    description: Description = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a connection (admin): only the options given change; --gateway-model replaces."""
    body = _update_body(
        provider=provider,
        api_base=api_base,
        no_api_base=no_api_base,
        api_key_env=api_key_env,
        api_key_stdin=api_key_stdin,
        remove_api_key=remove_api_key,
        gateway_models=gateway_models,
        no_gateway_models=no_gateway_models,
        description=description,
    )
    if not body:
        fail("nothing to change: give at least one option")
    with make_client(url, api_key) as client:
        updated = client.update_connection(name, body)
    show(updated, as_json, _print)


@app.command("delete")
@handle_errors
def delete_connection(name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None) -> None:
    """Delete a connection (admin); versions that name it stop working until it is recreated."""
    with make_client(url, api_key) as client:
        client.delete_connection(name)
    console.print(f"deleted connection {name!r}")
