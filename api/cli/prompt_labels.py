"""`promptlane prompts label | can-promote | history`: label moves, gates and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    WideOption,
    console,
    handle_errors,
    make_client,
    print_table,
    show,
)
from evals.promotion.reports import GateReport
from promptlane_client import APIError

Name = Annotated[str, typer.Argument(help="Prompt name, e.g. support/triage.")]
URL = DEFAULT_URL


@handle_errors
def move_label(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label to move, e.g. staging or production.")],
    version: Annotated[int, typer.Argument(help="Version to point it at.", min=1)],
    reason: Annotated[
        str, typer.Option("--reason", "-m", help="Why (kept in the audit trail).")
    ] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Override a failed promotion gate (needs --reason).")
    ] = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Point a label at a version (a rollback is a move back to an earlier one).

    A move the promotion gate refuses prints the gate report (the problem document with
    --json) and exits 1.
    """
    with make_client(url, api_key) as client:
        try:
            event = client.move_label(name, label, version, reason, force=force)
        except APIError as exc:
            gate = exc.problem.get("gate") if exc.status == 409 else None
            if gate is not None and not as_json:
                _print_gate(f"{name} v{version} → {label}", GateReport.model_validate(gate))
            raise
    show(event, as_json, lambda e: _print_move(name, label, e))


def _print_move(name: str, label: str, event: dict[str, Any]) -> None:
    before = f"v{event['from_version']}" if event["from_version"] else "unset"
    after = f"v{event['to_version']}" if event["to_version"] else "unset"
    console.print(f"{name}: {label} {before} → {after}", markup=False)


@handle_errors
def can_promote(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    version: Annotated[int, typer.Argument(help="Candidate version.", min=1)],
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dry-run a label move: which required suites passed on this version (exit 1 if refused)."""
    with make_client(url, api_key) as client:
        answer = client.check_promotion(name, label, version)
    report = GateReport.model_validate(answer)
    show(answer, as_json, lambda _: _print_gate(f"{name} v{version} → {label}", report))
    if not report.allowed:
        raise typer.Exit(1)


def _print_gate(move: str, report: GateReport) -> None:
    rows = (
        (
            f"{s.suite}:{s.suite_version}",
            str(s.run_id or "-"),
            s.verdict or "-",
            "pass" if s.passed else "FAIL",
            s.detail or "",
        )
        for s in report.suites
    )
    if report.suites:
        print_table(("suite", "run", "verdict", "result", "detail"), rows)
    verdict = "[green]allowed[/]" if report.allowed else "[red]refused[/]"
    console.print(f"{move}: {verdict} ({report.detail})")


@handle_errors
def label_history(
    name: Name,
    label: Annotated[str, typer.Argument(help="Label, e.g. production.")],
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    wide: WideOption = False,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a label's audit trail, newest first, with the evidence of each move."""
    with make_client(url, api_key) as client:
        page = client.label_history(name, label, limit=limit)
    show(page, as_json, lambda p: _print_history(p, wide=wide))


def _evidence(event: dict[str, Any]) -> str:
    """Say in a few words why a move was allowed: its runs, a rollback, a force, or nothing."""
    parts = []
    runs = [str(e["run_id"]) for e in event["evidence"] if e.get("run_id") is not None]
    if runs:
        parts.append(("run " if len(runs) == 1 else "runs ") + ", ".join(runs))
    parts += [f"rollback of #{e['rollback_of']}" for e in event["evidence"] if "rollback_of" in e]
    if event["is_forced"]:
        parts.append("FORCED")
    return "; ".join(parts) or "-"


def _print_history(page: dict[str, Any], *, wide: bool = False) -> None:
    rows = (
        (
            e["created_at"][:16].replace("T", " "),
            f"v{e['from_version']}" if e["from_version"] else "-",
            f"v{e['to_version']}" if e["to_version"] else "unset",
            e["actor"],
            _evidence(e),
            e["reason"],
        )
        for e in page["items"]
    )
    headers = ("at (UTC)", "from", "to", "actor", "evidence", "reason")
    print_table(headers, rows, drop=("actor",), wide=wide)
