"""`promptlane datasets add-from-calls`: recorded production calls into a new dataset version.

POST /v1/datasets/{name}/versions/from-generations. Calls are chosen by id (`--id`, repeated) or
as one prompt's (`--prompt`, narrowed by version, label, outcome, time, a score below a value,
a safety flag); each call's variables are recovered from the messages it recorded and its answer
becomes `expected`. Calls that cannot become items are listed with the reason.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Final

import typer
from rich.markup import escape

from api.cli._common import (
    DEFAULT_URL,
    PROMPT_REF_HELP,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    fail,
    handle_errors,
    make_client,
    plural,
    print_table,
    prompt_target,
    require_prompt,
    show,
    since,
)
from api.cli._typer import Cli
from api.cli.stats import MAX_DAYS, check_days

URL = DEFAULT_URL
MAX_CALLS: Final = 1_000
SHOWN: Final = 20  # skipped calls listed in the table (--json lists them all)


def _score(raw: str) -> dict[str, Any]:
    """Parse `NAME<VALUE` (a score below a value)."""
    name, lt, value = raw.partition("<")
    try:
        below = float(value)
    except ValueError:
        below = math.nan
    if not lt or not name.strip() or not math.isfinite(below):
        fail(f"--score {raw!r}: expected NAME<VALUE, e.g. json_valid<0.5", code=2)
    return {"name": name.strip(), "below": below}


def _time(raw: str | None, option: str) -> str | None:
    if raw is None:
        return None
    try:
        datetime.fromisoformat(raw)
    except ValueError:
        fail(f"{option} {raw!r}: expected an ISO 8601 time, e.g. 2025-06-01T00:00:00Z", code=2)
    return raw


def _selection(
    *,
    prompt: str | None,
    version: int | None,
    label: str | None,
    ids: list[int] | None,
    days: int | None,
    start: str | None,
    end: str | None,
) -> dict[str, Any]:
    if prompt is None and not ids:
        fail("give --prompt NAME or --id GENERATION_ID (which calls to add)", code=2)
    if prompt is None and (version is not None or label is not None):
        fail("--version and --label select calls of a --prompt: give it", code=2)
    if days is not None:
        check_days(days)
        if start is not None:
            fail("give --days or --start, not both", code=2)
        start = since(days)
    if prompt is not None:
        prompt, label, version = prompt_target(prompt, label, version)
    chosen = {"prompt": prompt, "version": version, "label": label, "ids": ids or None}
    return chosen | {"start": _time(start, "--start"), "end": _time(end, "--end")}


@handle_errors
def add_from_calls(
    name: Annotated[str, typer.Argument(help="Dataset to add to (created if absent).")],
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help=f"Calls of this prompt. {PROMPT_REF_HELP}")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", help="Only calls of this version.")
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Only calls made through this label.")
    ] = None,
    ids: Annotated[
        list[int] | None,
        typer.Option("--id", help="A generation id (repeat for several; any age).", min=1),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            "--score", help="Only calls scored below a value: 'NAME<VALUE' (quoted for the shell)."
        ),
    ] = None,
    safety_flag: Annotated[
        str | None, typer.Option("--safety-flag", help="Only calls with this safety flag (pii).")
    ] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only failed calls.")] = False,
    days: Annotated[
        int | None, typer.Option("--days", help=f"Days to look back (1-{MAX_DAYS}; default 7).")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="From this ISO 8601 time.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Until this ISO 8601 time.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help=f"At most this many calls, newest (1-{MAX_CALLS}).")
    ] = 100,
    message: Annotated[str, typer.Option("--message", "-m", help="Commit message.")] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be added; store nothing.")
    ] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add recorded calls as items of a new version: variables recovered, answer as expected.

    Only calls with recorded content (PROMPTLANE_TRACING_RECORD_CONTENT) can be added.

    Calls already in the dataset are skipped: running it again adds nothing.
    """
    if not 1 <= limit <= MAX_CALLS:
        fail(f"--limit {limit}: expected 1 to {MAX_CALLS}", code=2)
    selection = _selection(
        prompt=prompt, version=version, label=label, ids=ids, days=days, start=start, end=end
    )
    selection |= {
        "score": _score(score) if score is not None else None,
        "safety_flag": safety_flag,
        "errors": True if errors else None,
        "limit": limit,
        "message": message or None,
        "dry_run": dry_run or None,
    }
    with make_client(url, api_key) as client:
        result = client.add_from_generations(name, **selection)
        if selection["prompt"] is not None and not result["selected"]:
            require_prompt(client, selection["prompt"])  # a typo must not read as "no calls"
    show(result, as_json, _print_result)


def _print_result(result: dict[str, Any]) -> None:
    added = plural(result["added"], "item")
    from_calls = f"{plural(result['selected'], 'call')} selected"
    if result["dry_run"]:
        line = f"dry run: would add {added} to {result['name']} ({from_calls}; nothing stored)"
    elif result["created"]:
        line = f"{result['name']} v{result['version']}: created, +{added} ({from_calls})"
    else:
        current = f" (still v{result['version']})" if result["version"] else ""
        line = f"{result['name']}: nothing added{current} ({from_calls})"
    console.print(line, markup=False, soft_wrap=True)
    skipped = result["skipped"]
    if skipped:
        rows = [(str(s["generation_id"]), escape(s["reason"])) for s in skipped[:SHOWN]]
        more = len(skipped) - SHOWN
        caption = f"{more} more not shown (--json lists them all)" if more > 0 else None
        print_table(("call", "skipped because"), rows, title="skipped", caption=caption)


def register(datasets: Cli) -> None:
    """Add `add-from-calls` to the `datasets` commands."""
    datasets.command("add-from-calls")(add_from_calls)
