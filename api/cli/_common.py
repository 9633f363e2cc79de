"""Shared CLI options, client construction, output and one-line error handling."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from api.identity import credentials
from promptlane_client import DEFAULT_URL as DEFAULT_URL
from promptlane_client import APIError, Client, PromptlaneError

P = ParamSpec("P")
R = TypeVar("R")

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


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn client and input errors into a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except APIError as exc:
            hint = (
                " (no API key: pass --api-key or set PROMPTLANE_API_KEY)"
                if (exc.status == 401 and "missing" in exc.detail)
                else ""
            )
            fail(exc.one_line() + hint)
        except PromptlaneError as exc:
            fail(str(exc))
        except ValidationError as exc:
            fail(unexpected_answer(exc))

    return wrapper


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
