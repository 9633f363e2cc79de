"""Shared CLI options, client construction, output and one-line error handling."""

from __future__ import annotations

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


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error and exit non-zero."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    err_console.print(f"error: {line}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def exit_on_errors(
    code: int, *, key_hint: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Return a decorator that turns client and input errors into one line and exit `code`.

    With `key_hint`, a 401 for a missing key says how to give one.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except APIError as exc:
                fail(exc.one_line() + (_key_hint(exc) if key_hint else ""), code)
            except PromptlaneError as exc:
                fail(str(exc), code)
            except ValidationError as exc:
                fail(unexpected_answer(exc), code)

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


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str | None = None
) -> None:
    """Print a table: a row of cells for each of `rows`, under `headers`."""
    table = Table(*headers, caption=caption)
    for row in rows:
        table.add_row(*row)
    console.print(table)


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
