"""`promptlane audit`: check the audit trail of labels and policies."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    err_console,
    handle_errors,
    make_client,
    show,
)
from api.cli._typer import Cli
from evals.promotion.reports import AuditProblem, AuditReport

app = Cli(help="The audit trail: a hash chain of label moves and unsets, policy changes, archives.")
URL = DEFAULT_URL


def _print(report: AuditReport, problems: list[AuditProblem]) -> None:
    console.print(
        f"checked {report.events} audit events ({report.policy_events} policy "
        f"changes, {report.label_moves} label moves: {report.gated_moves} gated, "
        f"{report.rollbacks} rollbacks, {report.forced_moves} forced, "
        f"{report.ungated_moves} with no policy in force; {report.label_unsets} unsets, "
        f"{report.archive_events} archives and restores)"
    )
    console.print(f"head: {report.head_seq} {report.head_hash}")
    for p in problems:
        where = " ".join(str(v) for v in (p.prompt, p.label) if v)
        err_console.print(
            f"gap at {p.seq} ({p.kind}{', ' + where if where else ''}): {p.detail}",
            markup=False,
        )
    console.print("ok" if not problems else f"{len(problems)} problem(s)")


@app.command("verify")
@handle_errors
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head hash recorded earlier: fail unless the chain still has it.",
        ),
    ] = None,
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the chain and that every gated move cites runs matching the pins then in force.

    Exits 1 on any gap (an edited, missing or reordered event, or a move without evidence).
    """
    with make_client(url, api_key) as client:
        answer = client.verify_audit()
    report = AuditReport.model_validate(answer)
    problems = list(report.problems)
    if expect_head and expect_head != report.head_hash:
        problems.append(AuditProblem(seq=report.head_seq, kind="chain", detail="head differs"))
    # Unset members stay out: the server's problems print as it sent them.
    shown = [p.model_dump(mode="json", exclude_unset=True) for p in problems]
    show(
        {**answer, "ok": not problems, "problems": shown},
        as_json,
        lambda _: _print(report, problems),
    )
    if problems:
        raise typer.Exit(1)
