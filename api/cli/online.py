"""`promptlane online`: score a sample of a prompt's production generations."""

from __future__ import annotations

import json
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
    help="Online evaluation: sampling rate and scorers per prompt (and label).",
    no_args_is_help=True,
)
URL = DEFAULT_URL
PATH = "/v1/online-evaluations"


def parse_scorer(raw: str) -> dict[str, Any]:
    """Read a --scorer: a type name (`pii`) or a JSON scorer spec (`{"type": "length", ...}`)."""
    text = raw.strip()
    if not text.startswith("{"):
        return {"type": text}
    try:
        spec = json.loads(text)
    except ValueError as exc:
        fail(f"--scorer {raw!r} is not valid JSON: {exc}")
    if not isinstance(spec, dict):
        fail(f"--scorer {raw!r} must be a type name or a JSON object")
    return spec


@app.command("set")
@handle_errors
def set_online(
    prompt: Annotated[str, typer.Argument(help="Prompt name.")],
    scorers: Annotated[
        list[str],
        typer.Option(
            "--scorer",
            "-s",
            help='A scorer type (pii) or JSON spec ({"type": "length", "params": {...}}); repeat.',
        ),
    ],
    rate: Annotated[
        float, typer.Option("--rate", min=0.0, max=1.0, help="Share of generations scored.")
    ],
    label: Annotated[
        str | None, typer.Option("--label", help="Only this label's generations (default: any).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it switched off.")] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Score a sample of PROMPT's generations with the given scorers (writer)."""
    body = {
        "prompt": prompt,
        "label": label,
        "sample_rate": rate,
        "scorers": [parse_scorer(raw) for raw in scorers],
        "enabled": not disabled,
    }
    with make_client(url, api_key) as client:
        stored = client.request("PUT", PATH, json=body).json()
    names = ", ".join(s["name"] for s in stored["scorers"])
    state = "" if stored["enabled"] else " (disabled)"
    console.print(
        f"online evaluation {stored['id']}: {prompt}@{stored['label'] or '*'} "
        f"at {stored['sample_rate']:g} with {names}{state}"
    )


@app.command("list")
@handle_errors
def list_online(
    prompt: Annotated[str | None, typer.Option("--prompt", help="Only this prompt.")] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List online evaluations."""
    params = {"prompt": prompt} if prompt else {}
    with make_client(url, api_key) as client:
        found = client.request("GET", PATH, params=params).json()
    show(found, as_json, _print_list)


def _print_list(found: list[dict[str, Any]]) -> None:
    rows = (
        (
            str(e["id"]),
            e["prompt"],
            e["label"] or "*",
            f"{e['sample_rate']:g}",
            ", ".join(s["name"] for s in e["scorers"]),
            "yes" if e["enabled"] else "no",
            e["updated_by"],
        )
        for e in found
    )
    print_table(("id", "prompt", "label", "rate", "scorers", "enabled", "updated by"), rows)


@app.command("delete")
@handle_errors
def delete_online(
    evaluation_id: Annotated[int, typer.Argument(help="Online evaluation id.", min=1)],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Stop scoring a prompt's generations (writer; stored scores stay)."""
    with make_client(url, api_key) as client:
        client.request("DELETE", f"{PATH}/{evaluation_id}")
    console.print(f"online evaluation {evaluation_id} removed")
