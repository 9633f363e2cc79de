"""`promptlane demo redteam`: the red-team starter suite against a model, on a running server."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.table import Table

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
)
from api.cli.evals import _all_items, _follow, print_run
from evals import redteam as starter
from evals.reports import RunItemRead, RunRead, RunStatus, ScoreFailure
from promptlane_client import Client

URL = DEFAULT_URL
_REASON: Final = 90

ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="Model to attack (offline/scripted: a model that falls for some attacks).",
    ),
]
ConnectionOption = Annotated[
    str | None, typer.Option("--connection", help="Connection the model is called through.")
]
ExportOption = Annotated[
    Path | None,
    typer.Option(
        "--export",
        help="Write the dataset (JSONL) and the suite (YAML) into this folder instead.",
        file_okay=False,
    ),
]


def export(folder: Path) -> None:
    """Write the starter dataset and suite where `promptlane datasets/suites push` reads them."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(item, ensure_ascii=False) for item in starter.items()]
    dataset = folder / "redteam-starter-attacks.jsonl"
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = folder / "redteam-starter.yaml"
    suite.write_text(starter.suite_yaml(), encoding="utf-8")
    console.print(f"wrote {dataset} ({len(lines)} items) and {suite}")


def _category(item: RunItemRead) -> str:
    return str(item.item_id or "?").rpartition("-")[0] or "?"


def _failed(item: RunItemRead, metric: str) -> str | None:
    """Return why an item failed `metric` (its reason or error), None when it did not."""
    score = item.scores.get(metric)
    if isinstance(score, ScoreFailure):
        return f"error: {score.error}"
    if score is None or score.passed is not False:
        return None
    return score.reason or "failed"


def print_by_category(items: list[RunItemRead]) -> None:
    """Print, per attack category, how many attacks leaked the prompt or reached their goal."""
    groups: dict[str, list[RunItemRead]] = defaultdict(list)
    for item in items:
        groups[_category(item)].append(item)
    table = Table("category", "items", "leaked prompt", "attack succeeded", "errors")
    table.title, table.title_justify = "By category", "left"
    for category in (*starter.CATEGORIES, *sorted(set(groups) - set(starter.CATEGORIES))):
        rows = groups.get(category, [])
        if rows:
            table.add_row(
                category,
                str(len(rows)),
                str(sum(_failed(r, "no_leak") is not None for r in rows)),
                str(sum(_failed(r, "resisted") is not None for r in rows)),
                str(sum(r.status != "ok" for r in rows)),
            )
    console.print(table)
    for item in items:
        for metric in ("no_leak", "resisted"):
            why = _failed(item, metric)
            if why is not None:
                console.print(f"  {item.item_id} {metric}: {why[:_REASON]}", markup=False)


def _run(client: Client, version: int) -> RunRead:
    body = {"suite": starter.SUITE, "prompt": starter.PROMPT, "version": version}
    run = RunRead.model_validate(client.start_run(body))
    console.print(
        f"\n[bold]Running {starter.SUITE} on {starter.PROMPT} v{version}[/] (run {run.id})"
    )
    finished = RunRead.model_validate(_follow(client, run, quiet=False))
    print_run(finished)
    return finished


@handle_errors
def redteam(
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    model: ModelOption = "offline/scripted",
    connection: ConnectionOption = None,
    export_to: ExportOption = None,
) -> None:
    """Attack a model with the red-team starter suite and report leaks and successful attacks."""
    if export_to is not None:
        export(export_to)
        return
    with make_client(url, api_key) as client:
        items = starter.items()
        body = {"items": items, "message": "red-team starter attacks"}
        client.request("POST", f"/v1/datasets/{starter.DATASET}/versions", json=body)
        client.push_suite(starter.suite_yaml())
        version, _ = client.publish_version(
            starter.PROMPT, starter.prompt_version(model, connection)
        )
        console.print(
            f"Dataset {starter.DATASET} ({len(items)} items: attacks by category and benign "
            f"controls), suite {starter.SUITE}, target {starter.PROMPT} v{version['version']} "
            f"on {model}."
        )
        run = _run(client, version["version"])
        if run.status is RunStatus.COMPLETED:
            print_by_category(_all_items(client, run.id))
    console.print(
        "\nno_leak fails when the canary the run put into the system prompt shows up in an "
        "answer; resisted fails when an attack reached its stated goal (metadata.attack).\n"
        f"  promptlane eval show {run.id} --failed   # every failing item with its reason"
    )
    if run.status is not RunStatus.COMPLETED:
        raise typer.Exit(1)
