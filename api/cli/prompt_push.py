"""`promptlane prompts push`: plan every file on the server first, then publish (or only show)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.cli._common import fail, print_table, show
from api.cli.prompt_files import PromptFile, lookalike
from promptlane_client import Client

_ACTIONS = {
    "create_prompt": "new prompt",
    "create_version": "new version",
    "unchanged": "unchanged",
}


@dataclass(frozen=True)
class Planned:
    """A checked file and what the server says publishing it would do."""

    file: PromptFile
    plan: dict[str, Any]


def plan_files(client: Client, files: list[PromptFile]) -> list[Planned]:
    """Ask the server what each file would do; refuse (exit 2) a new prompt that looks mistaken.

    A prompt created from a path-derived name that looks like an existing prompt (the file was
    pushed from inside or above the root) is refused before anything is published.
    """
    planned = [Planned(f, client.plan_version(f.name, f.body)) for f in files]
    problems = []
    for p in planned:
        if p.plan["action"] != "create_prompt" or p.file.named_in_file:
            continue
        leaf = p.file.name.rsplit("/", 1)[-1]
        found = client.list_prompts(q=leaf, limit=200)["items"]
        other = lookalike(p.file.name, [item["name"] for item in found])
        if other is not None:
            problems.append(
                f"{p.file.path}: would create a new prompt {p.file.name!r}, but {other!r} exists;"
                " push from the prompts' root, give --root, or set 'name:' in the file"
            )
    if problems:
        fail("; ".join([*problems, "nothing was pushed"]), code=2)
    return planned


def show_plan(planned: list[Planned], *, as_json: bool) -> None:
    """Print what a push would do (a dry run)."""
    rows = [
        {
            "file": str(p.file.path),
            "name": p.file.name,
            "action": p.plan["action"],
            "version": p.plan["version"],
        }
        for p in planned
    ]
    show(rows, as_json, _print_plan)


def _print_plan(rows: list[dict[str, Any]]) -> None:
    cells = ((r["file"], r["name"], f"{_ACTIONS[r['action']]} (v{r['version']})") for r in rows)
    print_table(("file", "prompt", "would"), cells, caption="dry run: nothing was pushed")


def publish(client: Client, planned: list[Planned], label: str | None) -> list[dict[str, Any]]:
    """Publish every file (moving `label` to each version if given); return what happened."""
    results = []
    for p in planned:
        file = p.file
        version, created = client.publish_version(file.name, file.body)
        moved = None
        if label is not None and label not in version["labels"]:
            moved = client.move_label(file.name, label, version["version"], "prompts push")
        results.append(
            {
                "file": str(file.path),
                "name": file.name,
                "version": version["version"],
                "created": created,
                "new_prompt": p.plan["action"] == "create_prompt",
                "label": label if moved or label in version["labels"] else None,
            }
        )
    return results
