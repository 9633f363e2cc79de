"""`promptlane incidents`: labels a monitor found failing, open until someone resolves them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
    print_table,
    show,
)
from api.cli._typer import Cli

app = Cli(
    help="Incidents: labels a monitor found failing (writers resolve them).", no_args_is_help=True
)
URL = DEFAULT_URL

IncidentId = Annotated[int, typer.Argument(help="The incident's id.", min=1)]


def _state(row: dict[str, Any]) -> str:
    if row["is_open"]:
        return "open"
    return f"resolved by {row['resolved_by']} at {row['resolved_at']}: {row['reason']}"


def _print(row: dict[str, Any]) -> None:
    console.print(f"incident {row['id']}: {row['prompt']}: {row['label']}", markup=False)
    console.print(f"  opened {row['opened_at']}, {row['firings']} firing(s)", markup=False)
    console.print(f"  {_state(row)}", markup=False)


@app.command("list")
@handle_errors
def list_incidents(
    open_only: Annotated[bool, typer.Option("--open", help="Only open ones.")] = False,
    prompt: Annotated[str | None, typer.Option("--prompt")] = None,
    label: Annotated[str | None, typer.Option("--label")] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List incidents, newest first."""
    params: dict[str, Any] = {"prompt": prompt, "label": label}
    if open_only:
        params["open"] = "true"
    with make_client(url, api_key) as client:
        page = client.request(
            "GET", "/v1/incidents", params={k: v for k, v in params.items() if v is not None}
        ).json()
    cells = (
        (str(r["id"]), r["prompt"], r["label"], r["opened_at"], str(r["firings"]), _state(r))
        for r in page["items"]
    )
    headers = ("id", "prompt", "label", "opened", "firings", "state")
    show(page, as_json, lambda _: print_table(headers, cells))


@app.command("show")
@handle_errors
def show_incident(
    incident_id: IncidentId,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one incident with the monitor firings that opened and joined it."""
    with make_client(url, api_key) as client:
        row = client.request("GET", f"/v1/incidents/{incident_id}").json()
        firings = client.request(
            "GET", f"/v1/incidents/{incident_id}/events", params={"limit": 200}
        ).json()
    show(row, as_json, _print)
    if not as_json and firings["items"]:
        headers = ("check", "monitor", "period", "version", "status")
        cells = (
            (str(e["id"]), e["monitor"], e["period_key"], str(e["version"]), e["status"])
            for e in firings["items"]
        )
        print_table(headers, cells)


@app.command("resolve")
@handle_errors
def resolve_incident(
    incident_id: IncidentId,
    reason: Annotated[str, typer.Option("--reason", "-m", help="Why it is resolved (required).")],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve an open incident, saying why (writer)."""
    with make_client(url, api_key) as client:
        row = client.request(
            "POST", f"/v1/incidents/{incident_id}/resolve", json={"reason": reason}
        ).json()
    show(row, as_json, _print)
