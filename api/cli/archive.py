"""`promptlane prompts|datasets|suites archive|restore` and `promptlane prompts unset`.

Nothing is deleted: an archived prompt, dataset or suite leaves lists and resolution and keeps
its history and runs until it is restored; an unset label keeps its history. All are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import typer

from api.cli._common import (
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    UrlOption,
    console,
    handle_errors,
    make_client,
    print_json,
)

Kind = Literal["prompt", "dataset", "suite"]
Action = Literal["archive", "restore"]
ReasonOpt = Annotated[str, typer.Option("--reason", "-m", help="Why (kept in the audit trail).")]
NameArg = Annotated[str, typer.Argument(help="Its name, e.g. support/triage.")]
URL = DEFAULT_URL
_HELP: dict[Action, str] = {
    "archive": "Archive a {kind}: gone from lists and {use}, history and runs kept (audited).",
    "restore": "Restore an archived {kind} exactly as it was (audited).",
}
_USE: dict[Kind, str] = {
    "prompt": "resolution",
    "dataset": "new suites and runs",
    "suite": "new runs",
}


def _command(kind: Kind, action: Action) -> Callable[..., None]:
    @handle_errors
    def command(
        name: NameArg,
        reason: ReasonOpt = "",
        url: UrlOption = URL,
        api_key: ApiKeyOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with make_client(url, api_key) as client:
            call = client.archive if action == "archive" else client.restore
            event = call(kind, name, reason)
        if as_json:
            print_json(event)
            return
        done = "archived" if action == "archive" else "restored"
        hint = f"; `promptlane {kind}s restore {name}` brings it back" if done == "archived" else ""
        console.print(
            f"{done} {kind} {name} (audit #{event['seq']}){hint}", markup=False, soft_wrap=True
        )

    command.__doc__ = _HELP[action].format(kind=kind, use=_USE[kind])
    return command


@handle_errors
def unset_label(
    name: Annotated[str, typer.Argument(help="Prompt name, e.g. support/triage.")],
    label: Annotated[str, typer.Argument(help="Label to unset, e.g. staging.")],
    reason: ReasonOpt = "",
    url: UrlOption = URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unset a label (protected or gated labels need an admin key); the unset is audited."""
    with make_client(url, api_key) as client:
        event = client.unset_label(name, label, reason)
    if as_json:
        print_json(event)
        return
    console.print(
        f"{name}: {label} v{event['from_version']} → unset (audit #{event['seq']})",
        markup=False,
        soft_wrap=True,
    )


def register(*, prompts: typer.Typer, datasets: typer.Typer, suites: typer.Typer) -> None:
    """Add the archive, restore and unset commands to their groups."""
    groups: dict[Kind, typer.Typer] = {"prompt": prompts, "dataset": datasets, "suite": suites}
    for kind, group in groups.items():
        for action in ("archive", "restore"):
            group.command(action)(_command(kind, action))
    prompts.command("unset")(unset_label)
