"""`promptlane calls`: the recorded LLM calls, newest first (GET /v1/generations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

import typer
from rich.markup import escape

from api.cli._common import (
    DEFAULT_URL,
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
from api.cli.stats import MAX_DAYS, NONE, check_days

URL = DEFAULT_URL
MAX_LIMIT: Final = 200
HEADERS: Final = (
    "started (UTC)",
    "prompt",
    "model",
    "source",
    "ms",
    "tokens in/out",
    "cost USD",
    "outcome",
    "trace id",
)
NUMERIC: Final = frozenset({"ms", "tokens in/out", "cost USD"})


def _params(
    *,
    prompt: str | None,
    version: int | None,
    label: str | None,
    trace: str | None,
    source: str | None,
    errors: bool,
    days: int | None,
    limit: int,
) -> dict[str, Any]:
    if days is not None:
        check_days(days)
    if not 1 <= limit <= MAX_LIMIT:
        fail(f"--limit {limit}: expected 1 to {MAX_LIMIT}", code=2)
    params: dict[str, Any] = {"limit": limit}
    # A trace is looked up at any age; anything else in the last `days` (7 unless given).
    if trace is None or days is not None:
        params["start"] = since(days or 7)
    given = {"prompt": prompt, "version": version, "label": label, "trace_id": trace}
    given |= {"source": source, "errors": True if errors else None}
    params.update({name: value for name, value in given.items() if value is not None})
    return params


def _row(call: dict[str, Any]) -> list[str]:
    prompt = NONE
    if call["prompt"]:
        prompt = f"{call['prompt']} v{call['version']}" if call["version"] else call["prompt"]
        prompt += f" @{call['label']}" if call["label"] else ""
    tokens = NONE
    if call["input_tokens"] is not None or call["output_tokens"] is not None:
        tokens = f"{call['input_tokens'] or 0:,} / {call['output_tokens'] or 0:,}"
    if call["is_error"]:
        outcome = f"[red]{escape(call['error_type'] or 'error')}[/]"
    else:
        outcome = escape(", ".join(call["finish_reasons"]) or "ok")
    started = datetime.fromisoformat(call["started_at"]).astimezone(UTC)
    return [
        started.strftime("%Y-%m-%d %H:%M:%S"),
        escape(prompt),
        escape(call["response_model"] or call["request_model"] or NONE),
        call["source"],
        NONE if call["duration_ms"] is None else f"{call['duration_ms']:,.0f}",
        tokens,
        NONE if call["cost_usd"] is None else f"{call['cost_usd']:.6f}",
        outcome,
        call["trace_id"],
    ]


@handle_errors
def calls(
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", "-p", help="Only calls of this prompt (NAME, @LABEL, :VERSION)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", help="Only this version.")
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Only calls made through this label.")
    ] = None,
    trace: Annotated[
        str | None, typer.Option("--trace", help="Every call of this trace id, at any age.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="run, gateway or ingest.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only failed calls.")] = False,
    days: Annotated[
        int | None, typer.Option("--days", help=f"Days to look back (1-{MAX_DAYS}; default 7).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help=f"At most this many (1-{MAX_LIMIT}).")
    ] = 20,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List recorded LLM calls, newest first: model, latency, tokens, cost, outcome, trace id."""
    if prompt is not None:
        prompt, label, version = prompt_target(prompt, label, version)
    params = _params(
        prompt=prompt,
        version=version,
        label=label,
        trace=trace,
        source=source,
        errors=errors,
        days=days,
        limit=limit,
    )
    with make_client(url, api_key) as client:
        page: dict[str, Any] = client.request("GET", "/v1/generations", params=params).json()
        if prompt is not None and not page["items"]:  # a typo must not read as "no calls"
            require_prompt(client, prompt)
    show(page, as_json, _print_calls)


def _print_calls(page: dict[str, Any]) -> None:
    if not page["items"]:
        console.print("no calls match", markup=False)
        return
    title = f"{len(page['items'])} of {page['total']:,} calls, newest first"
    table = aligned_table(title, HEADERS, numeric=NUMERIC)
    for call in page["items"]:
        table.add_row(*_row(call))
    console.print(table)
