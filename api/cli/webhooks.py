"""`promptlane webhooks`: signed HTTP callbacks on promptlane events (admin keys only).

A secret is printed once, by `create` and `rotate-secret`; store it where the receiver reads
it. Receivers verify the Standard Webhooks signature and deduplicate on `webhook-id`.
"""

from __future__ import annotations

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
    help="Webhooks: signed HTTP callbacks on label moves, publishes, runs (admin).",
    no_args_is_help=True,
)
URL = DEFAULT_URL

Name = Annotated[str, typer.Argument(help="The endpoint's name, e.g. ops-slack.")]
DeliveryId = Annotated[int, typer.Argument(help="A delivery id (see `deliveries`).", min=1)]
Events = Annotated[
    list[str] | None,
    typer.Option("--event", help="An event type to send, e.g. label.moved, or '*' (repeat)."),
]
Format = Annotated[
    str | None, typer.Option("--format", help="standard (the event as JSON) or slack.")
]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]


def _state(row: dict[str, Any]) -> str:
    if row["is_paused"]:
        return f"paused: {row['paused_reason'] or '?'}"
    failures = row["consecutive_failures"]
    return f"failing ({failures} in a row)" if failures else "active"


def _print(row: dict[str, Any]) -> None:
    console.print(f"{row['name']}: {row['url']} ({row['format']})", markup=False)
    console.print(f"  events: {', '.join(row['event_types'])}", markup=False)
    console.print(f"  state: {_state(row)}", markup=False)
    last = row.get("last_attempt")
    if last:
        answer = last["status_code"] if last["status_code"] is not None else "no answer"
        why = f": {last['error']}" if last["error"] else ""
        console.print(f"  last answer: {answer}{why} at {last['attempted_at']}", markup=False)
    if row.get("previous_secret_expires_at"):
        console.print(f"  old secret signs until {row['previous_secret_expires_at']}")
    if row["description"]:
        console.print(f"  {row['description']}", markup=False)


def _print_secret(row: dict[str, Any]) -> None:
    _print(row)
    console.print("\nSigning secret (shown only this once):\n", markup=False)
    console.print(f"    {row['secret']}\n", markup=False, soft_wrap=True)


@app.command("create")
@handle_errors
def create_webhook(
    name: Name,
    receiver: Annotated[str, typer.Argument(help="The receiver's URL, http(s)://…")],
    events: Events = None,
    format_: Format = None,
    description: Description = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an endpoint for some event types; prints its signing secret once."""
    if not events:
        fail("give at least one --event (or --event '*')")
    body: dict[str, Any] = {"name": name, "url": receiver, "event_types": events}
    body.update(format=format_ or "standard", description=description or "")
    with make_client(url, api_key) as client:
        created = client.create_webhook(body)
    show(created, as_json, _print_secret)


@app.command("list")
@handle_errors
def list_webhooks(
    url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """List endpoints, paused ones with why."""
    with make_client(url, api_key) as client:
        rows = client.list_webhooks()
    cells = ((r["name"], r["url"], ", ".join(r["event_types"]), _state(r)) for r in rows)
    show(rows, as_json, lambda _: print_table(("name", "url", "events", "state"), cells))


@app.command("show")
@handle_errors
def show_webhook(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Show one endpoint (never its secret)."""
    with make_client(url, api_key) as client:
        row = client.get_webhook(name)
    show(row, as_json, _print)


@app.command("update")
@handle_errors
def update_webhook(
    name: Name,
    receiver: Annotated[
        str | None, typer.Option("--receiver", help="A new receiver URL (--url is the server).")
    ] = None,
    events: Events = None,
    format_: Format = None,
    description: Description = None,
    pause: Annotated[bool, typer.Option("--pause", help="Stop delivering to it.")] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an endpoint: only the options given change; --event replaces the list."""
    given = {"url": receiver, "event_types": events, "format": format_}
    given["description"] = description
    body: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if pause:
        body["is_paused"] = True
    if not body:
        fail("nothing to change: give at least one option")
    with make_client(url, api_key) as client:
        row = client.update_webhook(name, body)
    show(row, as_json, _print)


@app.command("resume")
@handle_errors
def resume_webhook(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Resume a paused endpoint (its failures are forgotten; waiting deliveries go out)."""
    with make_client(url, api_key) as client:
        row = client.update_webhook(name, {"is_paused": False})
    show(row, as_json, _print)


@app.command("delete")
@handle_errors
def delete_webhook(name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None) -> None:
    """Delete an endpoint with its deliveries."""
    with make_client(url, api_key) as client:
        client.delete_webhook(name)
    console.print(f"deleted webhook {name!r}", markup=False)


@app.command("rotate-secret")
@handle_errors
def rotate_secret(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Give an endpoint a new secret (printed once); the old one also signs for 24 h."""
    with make_client(url, api_key) as client:
        row = client.rotate_webhook_secret(name)
    show(row, as_json, _print_secret)


def _print_delivery(row: dict[str, Any]) -> None:
    code = row["last_status_code"]
    console.print(
        f"delivery {row['id']}: {row['event_type']} {row['status']} after "
        f"{row['attempts']} attempt(s){f', last HTTP {code}' if code else ''}",
        markup=False,
    )
    console.print(f"  webhook-id: {row['webhook_id']}", markup=False)
    if row["status"] == "pending" and row["next_attempt_at"]:
        console.print(f"  next attempt: {row['next_attempt_at']}", markup=False)
    if row["last_error"]:
        console.print(f"  last error: {row['last_error']}", markup=False)
    for attempt in row.get("history", []):
        manual = " (by hand)" if attempt["is_manual"] else ""
        outcome = attempt["status_code"] or attempt["error"]
        line = f"  {attempt['attempted_at']}: {outcome} in {attempt['duration_ms']:.0f} ms"
        console.print(line + manual, markup=False)


@app.command("test")
@handle_errors
def send_test(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Send a signed `webhook.test` event to the endpoint (follow it with `deliveries`)."""
    with make_client(url, api_key) as client:
        row = client.test_webhook(name)
    show(row, as_json, _print_delivery)


@app.command("deliveries")
@handle_errors
def list_deliveries(
    name: Name,
    delivery_id: Annotated[
        int | None, typer.Argument(help="Show this delivery with its attempts.", min=1)
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or dead.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List an endpoint's deliveries, newest first, or show one with its attempts."""
    with make_client(url, api_key) as client:
        if delivery_id is not None:
            show(client.webhook_delivery(name, delivery_id), as_json, _print_delivery)
            return
        page = client.webhook_deliveries(name, status=status, limit=limit)
    cells = (
        (str(d["id"]), d["event_type"], d["status"], str(d["attempts"]), d["last_error"] or "")
        for d in page["items"]
    )
    header = ("id", "event", "status", "attempts", "last error")
    show(page, as_json, lambda _: print_table(header, cells))


@app.command("redeliver")
@handle_errors
def redeliver(
    name: Name,
    delivery_id: DeliveryId,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a delivery again, with the same webhook-id (receivers deduplicate on it)."""
    with make_client(url, api_key) as client:
        row = client.redeliver_webhook(name, delivery_id)
    show(row, as_json, _print_delivery)
