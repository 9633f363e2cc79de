"""`promptlane stats PROMPT`: calls, errors, tokens, cost, latency, scores and drift per version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

import typer
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from api.cli._common import (
    DEFAULT_URL,
    PROMPT_REF_HELP,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    aligned_table,
    console,
    fail,
    handle_errors,
    make_client,
    prompt_target,
    require_prompt,
    show,
    since,
)
from promptlane_client import Client

URL = DEFAULT_URL
BUCKETS: Final = ("hour", "day")
# The analytics API reads at most 90 days; 89 leaves room for clock skew with the server.
MAX_DAYS: Final = 89
GROUP_BY: Final = ("version", "label", "model")
NONE: Final = "–"
_TEXT_COLUMNS: Final = frozenset(
    {"bucket (UTC)", "version", "label", "model", "safety flags", "drift"}
)


def check_days(days: int) -> None:
    """Exit 2 with a one-line error unless `days` is a look-back the analytics API accepts."""
    if not 1 <= days <= MAX_DAYS:
        fail(f"--days {days}: expected 1 to {MAX_DAYS}", code=2)


def _options(days: int, bucket: str | None) -> None:
    check_days(days)
    if bucket is not None and bucket not in BUCKETS:
        fail(f"--bucket {bucket!r}: expected hour or day", code=2)


def _usage(
    client: Client,
    prompt: str,
    *,
    days: int,
    label: str | None,
    version: int | None,
    bucket: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"group_by": list(GROUP_BY), "prompt": prompt, "start": since(days)}
    for name, value in (("label", label), ("version", version), ("bucket", bucket)):
        if value is not None:
            params[name] = value
    result: dict[str, Any] = client.request("GET", "/v1/analytics/usage", params=params).json()
    return result


def _drift(client: Client, prompt: str, versions: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for version in versions:
        params = {"prompt": prompt, "version": version}
        found[version] = client.request("GET", "/v1/analytics/drift", params=params).json()
    return found


def _drift_cell(report: dict[str, Any] | None) -> str:
    if report is None:
        return NONE
    flagged = [s for s in report["signals"] if s["flag"]]
    if flagged:
        metrics = ", ".join(f"{escape(s['metric'])} {s['psi']:.2f}" for s in flagged)
        return f"[red]drift[/]: {metrics}"
    if any(s["status"] == "ok" for s in report["signals"]):
        return "no"
    return "too few calls"


def _ms(value: float | None) -> str:
    return NONE if value is None else f"{value:,.0f}"


def _grid(
    usage: dict[str, Any], drift: dict[int, dict[str, Any]]
) -> tuple[list[str], list[list[str]]]:
    """Return the headers and one list of cells per usage row."""
    scores = sorted({name for row in usage["rows"] for name in row["scores"]})
    bucket = usage.get("bucket")
    headers = ["bucket (UTC)"] if bucket is not None else []
    headers += ["version", "label", "model", "calls", "errors", "tokens in/out", "cost USD"]
    headers += ["p50/p95 ms", *(f"{escape(name)} (mean)" for name in scores)]
    headers += ["safety flags", "drift"]
    rows = []
    for row in usage["rows"]:
        cells = [_bucket(row["bucket_start"], bucket)] if bucket is not None else []
        rows.append(cells + _cells(row, scores, drift.get(row["version"])))
    return headers, rows


def _table(title: str, usage: dict[str, Any], drift: dict[int, dict[str, Any]]) -> Table:
    """Return a line per version (and label, model, bucket); a column each if that is too wide."""
    headers, rows = _grid(usage, drift)
    numeric = [header for header in headers if header not in _TEXT_COLUMNS]
    wide = aligned_table(escape(title), headers, numeric=numeric)
    for cells in rows:
        wide.add_row(*cells)
    unbounded = console.options.update_width(10_000)
    if Measurement.get(console, unbounded, wide).maximum <= console.width:
        return wide
    keys = 2 if usage.get("bucket") is not None else 1  # the cells that name a column
    tall = Table(title=escape(title), title_justify="left")
    tall.add_column("")
    for cells in rows:
        tall.add_column(" ".join(cells[:keys]), overflow="fold", justify="right")
    for i, header in enumerate(headers[keys:], start=keys):
        tall.add_row(header, *(cells[i] for cells in rows))
    return tall


def _cells(row: dict[str, Any], scores: list[str], drift: dict[str, Any] | None) -> list[str]:
    """Return one usage row's cells after its time bucket."""
    means = [row["scores"].get(name) for name in scores]
    flags = ", ".join(f"{flag} {count}" for flag, count in row["safety_flags"].items())
    return [
        f"v{row['version']}" if row["version"] is not None else NONE,
        escape(row["label"] or NONE),
        escape(row["model"] or NONE),
        f"{row['calls']:,}",
        f"{row['error_rate']:.1%}",
        f"{row['input_tokens']:,} / {row['output_tokens']:,}",
        f"{row['cost_usd']:.6f}",
        f"{_ms(row['latency_p50_ms'])} / {_ms(row['latency_p95_ms'])}",
        *(NONE if m is None else f"{m['mean']:.3f}" for m in means),
        escape(flags) or NONE,
        _drift_cell(drift),
    ]


def _bucket(value: str, bucket: str) -> str:
    at = datetime.fromisoformat(value).astimezone(UTC)
    return at.strftime("%Y-%m-%d") if bucket == "day" else at.strftime("%Y-%m-%d %H:00")


def _scope(prompt: str, days: int, label: str | None, version: int | None) -> str:
    filters = [f"label {label}" if label else "", f"version {version}" if version else ""]
    extra = ", ".join(f for f in filters if f)
    span = "day" if days == 1 else f"{days} days"
    return f"{prompt} in the last {span}" + (f" ({extra})" if extra else "")


@handle_errors
def stats(
    prompt: Annotated[str, typer.Argument(help=PROMPT_REF_HELP)],
    days: Annotated[int, typer.Option("--days", help=f"Days to look back (1-{MAX_DAYS}).")] = 7,
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Only calls made through this label.")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", help="Only this version.")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option("--bucket", help="Split rows by time: hour or day.")
    ] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print calls, error rate, tokens, cost, latency, scores and drift per version of a prompt."""
    _options(days, bucket)
    prompt, label, version = prompt_target(prompt, label, version)
    with make_client(url, api_key) as client:
        usage = _usage(client, prompt, days=days, label=label, version=version, bucket=bucket)
        if not usage["rows"]:  # nothing recorded: a typo must not read as "no calls"
            require_prompt(client, prompt)
        versions = sorted({r["version"] for r in usage["rows"] if r["version"] is not None})
        drift = _drift(client, prompt, versions)
    scope = _scope(prompt, days, label, version)
    shown = {"prompt": prompt, "days": days, "usage": usage, "drift": list(drift.values())}
    show(shown, as_json, lambda _: _print_usage(scope, usage, drift))


def _print_usage(scope: str, usage: dict[str, Any], drift: dict[int, dict[str, Any]]) -> None:
    if not usage["rows"]:
        console.print(f"no calls of {scope}", markup=False)
        return
    console.print(_table(f"{scope}: {usage['scanned']:,} calls", usage, drift))
