"""Shared CLI options, client construction, output and one-line error handling."""

from __future__ import annotations

import contextvars
import functools
import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api.identity import credentials
from promptlane_client import DEFAULT_URL as DEFAULT_URL
from promptlane_client import APIError, Client, PromptlaneError

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

UrlOption = Annotated[
    str, typer.Option("--url", envvar="PROMPTLANE_URL", help="promptlane server URL.")
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="PROMPTLANE_API_KEY",
        help="API key (default: the one saved for --url in the credentials file).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def credentials_file() -> Path:
    """Return the credentials file the CLI reads."""
    from api.settings import default_credentials_file

    configured = os.environ.get("PROMPTLANE_CREDENTIALS_FILE")
    return Path(configured) if configured else default_credentials_file()


def make_client(url: str = DEFAULT_URL, api_key: str | None = None) -> Client:
    """Return a client for `url`, with the given key or the saved one."""
    key = api_key or credentials.key_for(credentials_file(), url)
    return Client(url, key)


# Set while a command given --json runs: its errors are printed as problem documents too.
_json_errors: contextvars.ContextVar[bool] = contextvars.ContextVar("json_errors", default=False)


def fail(message: str, code: int = 1, *, problem: Mapping[str, Any] | None = None) -> NoReturn:
    """Print a one-line error (with --json: a problem document on stdout) and exit non-zero."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    if _json_errors.get():
        document = dict(problem) if problem is not None else _cli_problem(line, code)
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    else:
        err_console.print(f"error: {line}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _cli_problem(detail: str, code: int) -> dict[str, Any]:
    """Return an RFC 9457-shaped document for an error the CLI found itself."""
    title = "Invalid input" if code == 2 else "Error"
    return {"type": "urn:promptlane:problem:cli", "title": title, "status": None, "detail": detail}


def exit_on_errors(
    code: int, *, key_hint: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator that turns client and input errors into one line and exit `code`.

    With `key_hint`, a 401 for a missing key says how to give one.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _json_errors.set(kwargs.get("as_json") is True)
            try:
                return fn(*args, **kwargs)
            except APIError as exc:
                hint = _key_hint(exc) if key_hint else ""
                fail(exc.one_line() + hint, code, problem=exc.problem)
            except PromptlaneError as exc:
                fail(str(exc), code)
            except ValidationError as exc:
                fail(unexpected_answer(exc), code)
            finally:
                _json_errors.reset(token)

        return wrapper

    return decorate


def _key_hint(exc: APIError) -> str:
    if exc.status == 401 and "missing" in exc.detail:
        return " (no API key: pass --api-key or set PROMPTLANE_API_KEY)"
    return ""


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn client and input errors into a one-line message and exit code 1."""
    return exit_on_errors(1)(fn)


def unexpected_answer(exc: ValidationError) -> str:
    """Say that the server answered outside this CLI's contract (another version, likely)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return (
        f"unexpected answer from the server ({exc.title} at {where or 'the top'}: {first['msg']});"
        " is the CLI the server's version?"
    )


def plural(n: int, noun: str) -> str:
    """Return `1 item`, `2 items`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_json(value: Any) -> None:
    """Print `value` as indented JSON on stdout."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def parse_value(raw: str) -> Any:
    """Parse a --var value: JSON if it parses, else the string itself."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def show(value: T, as_json: bool, render: Callable[[T], object]) -> None:
    """Print `value` as JSON with --json, else as `render` prints it."""
    if as_json:
        print_json(value)
    else:
        render(value)


WideOption = Annotated[
    bool, typer.Option("--wide", help="Every column at full width (tables fit the terminal).")
]


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
    title: str | None = None,
    drop: Sequence[str] = (),
    numeric: Collection[str] = (),
    wide: bool = False,
) -> None:
    """Print a table that fits the terminal: never wrapped into slivers.

    Cells stay on one line. When the table is wider than the terminal, the `drop` columns go
    first (in that order, the caption says which), then long cells end in "…". With `wide`,
    everything is shown in full whatever the width (as `--json` would).
    """
    cells = [list(row) for row in rows]
    shown = list(headers)
    hidden: list[str] = []
    if not wide:
        for name in drop:
            if _natural_width(shown, cells) <= console.width:
                break
            i = shown.index(name)
            shown.pop(i)
            cells = [row[:i] + row[i + 1 :] for row in cells]
            hidden.append(name)
    if hidden:
        note = f"not shown at {console.width} columns: {', '.join(hidden)} (--wide or --json)"
        caption = f"{caption}; {note}" if caption else note
    table = Table(title=title, title_justify="left", caption=caption)
    naturals = [_natural_width([h], [[row[i]] for row in cells]) - 4 for i, h in enumerate(shown)]
    widths = naturals if wide else _fit(naturals, console.width - 3 * len(shown) - 1)
    for header, width in zip(shown, widths, strict=True):
        table.add_column(
            header,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if header in numeric else "left",
            width=width,
        )
    for row in cells:
        table.add_row(*row)
    # Wider than the terminal only when even the narrowed columns cannot fit (never squeezed).
    needed = sum(widths) + 3 * len(widths) + 1
    wider = Console(width=needed, file=console.file, highlight=False)
    out = console if needed <= console.width else wider
    out.print(table)


_KEEP_WHOLE = 12


def _fit(naturals: Sequence[int], room: int) -> list[int]:
    """Narrow the widest columns first until they fit `room`; short ones (ids) stay whole."""
    widths = list(naturals)
    floors = [min(w, _KEEP_WHOLE) for w in widths]
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floors[i])
        if widths[widest] <= floors[widest]:
            break  # nothing left to narrow: the table is wider than the terminal
        widths[widest] -= 1
    return widths


def _natural_width(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Return how wide a table is with every cell in full (rich's box: 3 per column + 1)."""
    widths = [Text.from_markup(h).cell_len for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], Text.from_markup(cell).cell_len)
    return sum(widths) + 3 * len(widths) + 1


def page_caption(page: Mapping[str, Any]) -> str:
    """Return how much of a listing a page holds: `N of TOTAL`."""
    return f"{len(page['items'])} of {page['total']}"


def aligned_table(title: str, headers: Iterable[str], *, numeric: Collection[str]) -> Table:
    """Return a table titled on the left: columns fold, `numeric` ones align right."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold", justify="right" if header in numeric else "left")
    return table


def since(days: int) -> str:
    """Return the ISO time (UTC) `days` days ago: where a look-back starts."""
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


# --- prompts on the command line ------------------------------------------------------------

PROMPT_REF_HELP = "Prompt: NAME, NAME@LABEL or NAME:VERSION (e.g. support/triage:2)."


def prompt_target(
    ref: str, label: str | None, version: int | None
) -> tuple[str, str | None, int | None]:
    """Split a NAME, NAME@LABEL or NAME:VERSION argument, merged with --label/--version."""
    from prompts.schemas import parse_prompt_ref

    name, ref_label, ref_version = parse_prompt_ref(ref)
    if (ref_label or ref_version) and (label is not None or version is not None):
        fail(f"{ref!r} already selects a version: drop --label/--version", code=2)
    label = label if label is not None else ref_label
    version = version if version is not None else ref_version
    if label is not None and version is not None:
        fail("give --label or --version, not both", code=2)
    return name, label, version


def require_prompt(client: Client, name: str) -> None:
    """Exit 2 (with the closest names) unless the server has a prompt called `name`.

    Called when a query by prompt found nothing: calls recorded under a name the registry does
    not hold (ingested traces) are found before this is asked.
    """
    import difflib

    try:
        client.list_versions(name, limit=1)
    except APIError as exc:
        if exc.status != 404:
            raise
    else:
        return
    recorded = client.request("GET", "/v1/generations", params={"prompt": name, "limit": 1})
    if recorded.json()["items"]:  # calls of it were recorded (ingested traces), at any age
        return
    leaf = name.rsplit("/", 1)[-1]
    names = {p["name"] for p in client.list_prompts(limit=200)["items"]}
    names |= {p["name"] for p in client.list_prompts(q=leaf[: max(3, len(leaf) - 2)])["items"]}
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    fail(f"no prompt named {name!r}{hint}", code=2)
