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
    print_json,
)

app = typer.Typer(help="The audit trail: a hash chain of label moves and policy changes.")
URL = DEFAULT_URL


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
        report = client.verify_audit()
    problems = list(report["problems"])
    if expect_head and expect_head != report["head_hash"]:
        problems.append({"seq": report["head_seq"], "kind": "chain", "detail": "head differs"})
    if as_json:
        print_json({**report, "ok": not problems, "problems": problems})
    else:
        console.print(
            f"checked {report['events']} audit events ({report['policy_events']} policy "
            f"changes, {report['label_moves']} label moves: {report['gated_moves']} gated, "
            f"{report['rollbacks']} rollbacks, {report['forced_moves']} forced, "
            f"{report['ungated_moves']} with no policy in force)"
        )
        console.print(f"head: {report['head_seq']} {report['head_hash']}")
        for p in problems:
            where = " ".join(str(p.get(k)) for k in ("prompt", "label") if p.get(k))
            err_console.print(
                f"gap at {p['seq']} ({p['kind']}{', ' + where if where else ''}): {p['detail']}",
                markup=False,
            )
        console.print("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)
