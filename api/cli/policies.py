"""`promptlane policies`: the suite versions a label requires, and their audited history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
    print_table,
    show,
)
from api.cli._typer import Cli
from evals.promotion.reports import PolicyEventRead, PolicyRead

app = Cli(
    help="Promotion policies: the suite versions a label requires (admins pin them).",
    no_args_is_help=True,
)
URL = DEFAULT_URL
ReasonOption = Annotated[
    str, typer.Option("--reason", "-m", help="Why: recorded in the audit trail.")
]


def _pins(policy: PolicyRead) -> str:
    return ", ".join(
        f"{p.suite}:{p.version} (dataset {p.dataset}:{p.dataset_version})" for p in policy.pins
    )


@app.command("set")
@handle_errors
def set_policy(
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    suites: Annotated[
        list[str],
        typer.Option(
            "--suite",
            "-s",
            help="A required suite, NAME or NAME:VERSION (repeat the option). A bare name keeps "
            "the version already pinned, or pins the suite's current version.",
        ),
    ],
    prompt: Annotated[str | None, typer.Option("--prompt", help="Only for this prompt.")] = None,
    max_age: Annotated[
        int | None, typer.Option("--max-age", help="Seconds a passing run stays valid.", min=60)
    ] = None,
    force_role: Annotated[
        str, typer.Option("--force-role", help="Who may force: admin or writer.")
    ] = "admin",
    auto_rollback: Annotated[
        bool,
        typer.Option(
            "--auto-rollback/--no-auto-rollback",
            help="When a monitor fires on LABEL, move it back to the last version that passed "
            "its gate (a gated move, never forced).",
        ),
    ] = False,
    reason: ReasonOption = "",
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pin the suite versions whose passing runs LABEL requires (admin; audited)."""
    body = {
        "required_suites": suites,
        "prompt": prompt,
        "max_age_seconds": max_age,
        "force_role": force_role,
        "auto_rollback": auto_rollback,
        "reason": reason,
    }
    with make_client(url, api_key) as client:
        stored = client.put_policy(label, body)
    show(stored, as_json, lambda _: _print_policy(label, PolicyRead.model_validate(stored)))


def _print_policy(label: str, policy: PolicyRead) -> None:
    console.print(f"{label} ({policy.prompt or 'every prompt'}) requires: {_pins(policy)}")
    if policy.auto_rollback:
        console.print("  auto-rollback: a monitor firing moves it back to its last good version")


@app.command("list")
@handle_errors
def list_policies(
    url: UrlOption = URL, api_key: ApiKeyOption = None, as_json: JsonOption = False
) -> None:
    """List promotion policies with their pinned suite versions."""
    with make_client(url, api_key) as client:
        policies = client.list_policies()
    show(policies, as_json, _print_policies)


def _print_policies(policies: list[dict[str, Any]]) -> None:
    rows = (
        (
            p.label,
            p.prompt or "*",
            _pins(p),
            str(p.max_age_seconds or "-"),
            p.force_role,
            p.updated_by,
        )
        for p in map(PolicyRead.model_validate, policies)
    )
    headers = ("label", "prompt", "pinned suites", "max age", "force role", "updated by")
    print_table(headers, rows)


@app.command("history")
@handle_errors
def policy_history(
    label: Annotated[str | None, typer.Argument(help="Only this label's policies.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=200)] = 50,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show policy changes, newest first: who, why, when, and what was pinned."""
    params: dict[str, Any] = {"limit": limit}
    if label:
        params["label"] = label
    with make_client(url, api_key) as client:
        page = client.policy_history(**params)
    show(page, as_json, _print_history)


def _print_history(page: dict[str, Any]) -> None:
    rows = (
        (
            str(e.seq),
            e.created_at.isoformat()[:19],
            e.action,
            e.label,
            e.prompt or "*",
            _pins(e.policy) if e.policy else "-",
            f"{e.actor} ({e.actor_role})",
            e.reason,
        )
        for e in map(PolicyEventRead.model_validate, page["items"])
    )
    print_table(("seq", "when", "action", "label", "prompt", "pins", "actor", "reason"), rows)


@app.command("delete")
@handle_errors
def delete_policy(
    label: Annotated[str, typer.Argument(help="Label.")],
    prompt: Annotated[str | None, typer.Option("--prompt", help="The prompt-scoped one.")] = None,
    reason: ReasonOption = "",
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
) -> None:
    """Remove a label's policy (admin; audited)."""
    with make_client(url, api_key) as client:
        client.delete_policy(label, prompt, reason)
    console.print(f"policy for {label} removed")
