"""`promptlane monitors`: re-check a label's gate on a schedule, or watch production signals.

Admins create and delete monitors; a writer may trigger one. Firings open incidents
(`promptlane incidents`) and, where the label's policy opts in, roll the label back.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

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
    help="Monitors: a label's pinned suites re-run on a schedule, or production signals watched.",
    no_args_is_help=True,
)
URL = DEFAULT_URL

Name = Annotated[str, typer.Argument(help="The monitor's name, e.g. nightly.")]
METRICS = "score_mean, error_rate, cost_per_call, drift_psi or safety_flag_rate"


def _path(name: str, tail: str = "") -> str:
    return f"/v1/monitors/{quote(name, safe='')}{tail}"


def _watches(row: dict[str, Any]) -> str:
    return f"{row['prompt'] or 'every prompt'}: {row['label'] or 'every gated label'}"


def _when(row: dict[str, Any]) -> str:
    signal = row.get("signal")
    if signal:
        spec = f"{signal['metric']} {signal['op']} {signal['threshold']}"
        every = row["cron"] or f"every {signal['window_seconds']} s"
        return f"{spec} over {signal['window_seconds']} s ({every})"
    if row["trigger"] == "dataset":
        return "each new version of a pinned suite's dataset"
    return f"cron {row['cron']}"


def _print(row: dict[str, Any]) -> None:
    state = "enabled" if row["enabled"] else "paused"
    console.print(f"{row['name']} ({row['trigger']}, {state}): {_watches(row)}", markup=False)
    console.print(f"  {_when(row)}; next {row['next_due_at']}", markup=False)
    if row["description"]:
        console.print(f"  {row['description']}", markup=False)


def _signal(
    metric: str | None,
    op: str,
    threshold: float | None,
    window: int,
    samples: int,
    score: str | None,
) -> dict[str, Any] | None:
    if metric is None:
        return None
    if threshold is None:
        fail("a signal monitor needs --threshold", 2)
    spec: dict[str, Any] = {"metric": metric, "op": op, "threshold": threshold}
    spec.update(window_seconds=window, min_samples=samples)
    if score is not None:
        spec["score"] = score
    return spec


@app.command("create")
@handle_errors
def create_monitor(
    name: Name,
    label: Annotated[
        str | None, typer.Option("--label", help="Default: every gated label.")
    ] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", help="Default: every prompt.")] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="When to check, e.g. '0 * * * *'.")
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help=f"A signal monitor's metric: {METRICS}.")
    ] = None,
    op: Annotated[str, typer.Option("--op", help="Fire when METRIC OP THRESHOLD.")] = ">",
    threshold: Annotated[float | None, typer.Option("--threshold")] = None,
    window: Annotated[int, typer.Option("--window", help="Signal window, seconds.")] = 3600,
    min_samples: Annotated[int, typer.Option("--min-samples", help="Fewer: no firing.")] = 20,
    score: Annotated[str | None, typer.Option("--score", help="The score (or flag) read.")] = None,
    new_data: Annotated[
        bool,
        typer.Option(
            "--new-data", help="Try each new version of a pinned suite's dataset on the label."
        ),
    ] = False,
    description: Annotated[str, typer.Option("--description")] = "",
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a monitor (admin): --cron re-runs pinned suites, --metric, --new-data datasets."""
    signal = _signal(metric, op, threshold, window, min_samples, score)
    trigger = "dataset" if new_data else ("signal" if signal else "schedule")
    body: dict[str, Any] = {
        "name": name,
        "prompt": prompt,
        "label": label,
        "trigger": trigger,
        "cron": cron,
        "signal": signal,
        "description": description,
    }
    with make_client(url, api_key) as client:
        created = client.request("POST", "/v1/monitors", json=body).json()
    show(created, as_json, _print)


@app.command("list")
@handle_errors
def list_monitors(
    url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """List monitors with what they watch and when they check next."""
    with make_client(url, api_key) as client:
        rows = client.request("GET", "/v1/monitors").json()
    cells = (
        (r["name"], r["trigger"], _watches(r), _when(r), r["next_due_at"] if r["enabled"] else "-")
        for r in rows
    )
    headers = ("name", "trigger", "watches", "when", "next")
    show(rows, as_json, lambda _: print_table(headers, cells))


@app.command("show")
@handle_errors
def show_monitor(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Show one monitor."""
    with make_client(url, api_key) as client:
        row = client.request("GET", _path(name)).json()
    show(row, as_json, _print)


@app.command("delete")
@handle_errors
def delete_monitor(name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None) -> None:
    """Delete a monitor with its events (admin; its incidents stay)."""
    with make_client(url, api_key) as client:
        client.request("DELETE", _path(name))
    console.print(f"monitor {name} deleted", markup=False)


def _summary(event: dict[str, Any]) -> str:
    evidence = event["evidence"]
    if "metric" in evidence:
        return f"{evidence['metric']} = {evidence['value']} ({evidence['samples']} samples)"
    runs = evidence.get("runs") or []
    if "dataset_version" in evidence:
        runs = [{**r, "verdict": f"{r.get('verdict') or ''} on {evidence['dataset']}:"
                 f"{evidence['dataset_version']}"} for r in runs]  # fmt: skip
    told = ", ".join(f"run {r['run_id']} {r.get('verdict') or r.get('status') or ''}" for r in runs)
    return told or str(evidence.get("detail", ""))


def _print_events(events: list[dict[str, Any]]) -> None:
    cells = (
        (
            str(e["id"]),
            e["period_key"],
            f"{e['prompt']}: {e['label']} v{e['version']}",
            e["status"],
            _summary(e),
            str(e["evidence"].get("incident_id") or "-"),
        )
        for e in events
    )
    print_table(("id", "period", "label", "status", "evidence", "incident"), cells)


@app.command("trigger")
@handle_errors
def trigger_monitor(
    name: Name, url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """Check the monitor's labels now (writer); scheduled re-runs settle on later ticks."""
    with make_client(url, api_key) as client:
        events = client.request("POST", _path(name, "/trigger")).json()
    show(events, as_json, _print_events)


@app.command("events")
@handle_errors
def monitor_events(
    name: Name,
    status: Annotated[str | None, typer.Option("--status", help="e.g. fired.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a monitor's events, newest first, with their evidence."""
    params: dict[str, Any] = {"limit": limit}
    if status is not None:
        params["status"] = status
    with make_client(url, api_key) as client:
        page = client.request("GET", _path(name, "/events"), params=params).json()
    show(page, as_json, lambda p: _print_events(p["items"]))
