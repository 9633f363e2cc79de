"""`promptlane policies`: what a label demands before a version may take it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.commands._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
    print_json,
)

app = typer.Typer(help="Promotion policies: required suites per label.", no_args_is_help=True)
URL = DEFAULT_URL


@app.command("set")
@handle_errors
def set_policy(
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    suites: Annotated[
        list[str], typer.Option("--suite", "-s", help="A required suite (repeat the option).")
    ],
    prompt: Annotated[str | None, typer.Option("--prompt", help="Only for this prompt.")] = None,
    max_age: Annotated[
        int | None, typer.Option("--max-age", help="Seconds a passing run stays valid.", min=60)
    ] = None,
    force_role: Annotated[
        str, typer.Option("--force-role", help="Who may force: admin or writer.")
    ] = "admin",
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Require suites to pass before a version may take LABEL (admin)."""
    body = {
        "required_suites": suites,
        "prompt": prompt,
        "max_age_seconds": max_age,
        "force_role": force_role,
    }
    with make_client(url, api_key) as client:
        stored = client.put_policy(label, body)
    scope = stored["prompt"] or "every prompt"
    console.print(
        f"{label} ({scope}) requires: {', '.join(stored['required_suites']) or 'nothing'}"
    )


@app.command("list")
@handle_errors
def list_policies(
    url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """List promotion policies."""
    with make_client(url, api_key) as client:
        policies = client.list_policies()
    if as_json:
        print_json(policies)
        return
    table = Table("label", "prompt", "required suites", "max age", "force role", "updated by")
    for p in policies:
        table.add_row(
            p["label"],
            p["prompt"] or "*",
            ", ".join(p["required_suites"]),
            str(p["max_age_seconds"] or "-"),
            p["force_role"],
            p["updated_by"],
        )
    console.print(table)


@app.command("delete")
@handle_errors
def delete_policy(
    label: Annotated[str, typer.Argument(help="Label.")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="The prompt-scoped one.")] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Remove a label's policy (admin)."""
    with make_client(url, api_key) as client:
        client.delete_policy(label, prompt)
    console.print(f"policy for {label} removed")
