"""`promptlane demo`: the gate story end to end, offline, against a running server."""

from __future__ import annotations

from typing import Any, Final

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
)
from api.cli._typer import Cli
from api.cli.evals import _follow, print_run
from api.cli.redteam import redteam
from evals.reports import RunRead, Verdict
from promptlane_client import APIError, Client

PROMPT: Final = "demo/support-triage"
DATASET: Final = "demo/support-tickets"
SUITE: Final = "demo/triage-quality"
URL = DEFAULT_URL

TICKETS: Final = [
    ("I was charged twice for my subscription this month.", "billing"),
    ("The app crashes when I upload a photo.", "technical"),
    ("How do I change the email on my account?", "account"),
    ("Can I get a refund for last month's invoice?", "billing"),
    ("The export button does nothing in Firefox.", "technical"),
    ("Please delete my account and all my data.", "account"),
    ("My card was declined but the money left my bank.", "billing"),
    ("Sync has been stuck at 99% since yesterday.", "technical"),
]

SYSTEM: Final = (
    "You triage support tickets for {{company}}. Answer with exactly one word: "
    "billing, technical or account."
)

SUITE_YAML: Final = f"""\
name: {SUITE}
description: Triage answers must be the right category, and never leak personal data.
dataset: {DATASET}
scorers:
  - name: correct
    type: exact_match
    params: {{normalize: [case, whitespace, punctuation]}}
  - name: no_pii
    type: pii
gates:
  - {{metric: correct, aggregate: mean, op: ">=", value: 0.9}}
  - {{metric: no_pii, aggregate: min, op: ">=", value: 1.0}}
  - {{metric: "*", aggregate: error_rate, op: "<=", value: 0.0}}
concurrency: 4
"""


def _version(model: str, message: str) -> dict[str, Any]:
    return {
        "kind": "chat",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "{{ticket}}"},
        ],
        "config": {"model": model, "temperature": 0, "offline": {"latency_ms": 20}},
        "message": message,
    }


def _dataset() -> dict[str, Any]:
    items = [
        {
            "input": {"company": "Acme", "ticket": ticket},
            "expected": category,
            "metadata": {"answer": category},
        }
        for ticket, category in TICKETS
    ]
    return {"items": items, "message": "demo tickets"}


def _run(client: Client, version: int) -> RunRead:
    run = RunRead.model_validate(
        client.start_run({"suite": SUITE, "prompt": PROMPT, "version": version})
    )
    console.print(f"\n[bold]Running {SUITE} on {PROMPT} v{version}[/] (run {run.id})")
    finished = RunRead.model_validate(_follow(client, run, quiet=False))
    print_run(finished)
    return finished


def _status(created: bool, version: int) -> str:
    return f"v{version}, new" if created else f"v{version}, unchanged since an earlier run"


def _promote(client: Client, version: int) -> bool:
    current = {label["name"]: label for label in client.list_labels(PROMPT)}.get("production")
    if current is not None and current["version"] == version:
        console.print(
            f"production of {PROMPT} already points at v{version} "
            f"(moved by {current['updated_by']} at {current['updated_at'][:19]}): nothing to move"
        )
        return True
    try:
        event = client.move_label(PROMPT, "production", version, f"demo: promote v{version}")
    except APIError as exc:
        if exc.status != 409:
            raise
        console.print(f"[red]Promotion of v{version} refused[/] (HTTP 409): {exc.detail}")
        return False
    console.print(
        f"[green]Promoted[/] {PROMPT}: production → v{event['to_version']} "
        f"(evidence: runs {[e.get('run_id') for e in event['evidence']]})"
    )
    return True


app = Cli(
    help="Offline demos on a running server: without a command the gate story; "
    "`redteam` attacks a model with the red-team starter suite."
)


@app.callback(invoke_without_command=True)
def demo_root(ctx: typer.Context, url: UrlOption = URL, api_key: ApiKeyOption = None) -> None:
    """Show the gate story (a failing version refused, a fixed one shipped); `redteam` attacks."""
    if ctx.invoked_subcommand is None:
        demo(url, api_key)


app.command("redteam")(redteam)


@handle_errors
def demo(url: UrlOption = URL, api_key: ApiKeyOption = None) -> None:
    """Show the gate story on a running server: a failing version is refused, a fixed one ships."""
    with make_client(url, api_key) as client:
        published = client.request("POST", f"/v1/datasets/{DATASET}/versions", json=_dataset())
        dataset = published.json()
        suite, suite_created = client.push_suite(SUITE_YAML)
        # v1 is misconfigured: its model echoes the ticket instead of classifying it.
        bad, bad_created = client.publish_version(PROMPT, _version("offline/echo", "first try"))
        client.put_policy(
            "production",
            {"required_suites": [SUITE], "prompt": PROMPT, "reason": "demo: gate production"},
        )
        console.print(
            f"Dataset {DATASET} ({len(TICKETS)} tickets; "
            f"{_status(published.status_code == 201, dataset['version'])}), "
            f"suite {SUITE} ({_status(suite_created, suite['version'])}), "
            f"and a policy: production of {PROMPT} needs {SUITE} to pass."
        )
        console.print(f"{PROMPT} v{bad['version']}: {_status(bad_created, bad['version'])}")
        _run(client, bad["version"])
        _promote(client, bad["version"])
        # v2 fixes the model config; the offline scripted model answers like a good model.
        good, good_created = client.publish_version(
            PROMPT, _version("offline/scripted", "fix the model")
        )
        console.print(f"{PROMPT} v{good['version']}: {_status(good_created, good['version'])}")
        run = _run(client, good["version"])
        if run.verdict is Verdict.PASSED:
            _promote(client, good["version"])
    console.print(
        "\nWhere to look:\n"
        f"  promptlane prompts history {PROMPT} production   # the audit trail, with evidence\n"
        f"  promptlane eval show {run.id} --failed             # the passing run\n"
        f"  promptlane stats {PROMPT}   # calls, tokens, cost, latency, scores per version\n"
        "      (offline models bill fictional prices: 1e-7 USD per input token, 2e-7 per output)\n"
        f"  promptlane prompts can-promote {PROMPT} production {bad['version']}\n"
        f"  curl -H 'Authorization: Bearer <key>' {url}/v1/prompts/{PROMPT}"
    )
    if run.verdict is not Verdict.PASSED:
        raise typer.Exit(1)
