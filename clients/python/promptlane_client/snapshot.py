"""Prompt snapshots (`promptlane prompts snapshot > prompts.lock`): boot with no server at all.

A snapshot is JSON: `{"format": 1, "created_at", "server", "prompts": [{"name", "label",
"etag", "version": <the resolve endpoint's JSON>}]}`. A client seeded from one serves those
versions (by label, and by their version numbers) as stale entries, so they revalidate
against the server as soon as it answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from promptlane_client.errors import SnapshotError
from promptlane_client.http import prompt_path
from promptlane_client.prompt import Prompt

if TYPE_CHECKING:
    from promptlane_client.cache import Selector
    from promptlane_client.client import Client

FORMAT: Final = 1
LATEST: Final = "latest"
_PAGE: Final = 200


def _prompt_names(client: Client, labels: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield every prompt's name with the labels to snapshot for it."""
    offset = 0
    while True:
        page = client.list_prompts(limit=_PAGE, offset=offset)
        for item in page["items"]:
            available = set(item["labels"])
            if item.get("latest_version") is not None:
                available.add(LATEST)
            wanted = (
                [label for label in labels if label in available]
                if labels
                else sorted(item["labels"])
            )
            if wanted:
                yield item["name"], wanted
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return


def build_snapshot(client: Client, *, labels: Sequence[str] = ()) -> dict[str, Any]:
    """Resolve every prompt's labels (all its labels, or only `labels`) into a snapshot."""
    records: list[dict[str, Any]] = []
    for name, wanted in _prompt_names(client, labels):
        for label in wanted:
            response = client.request("GET", prompt_path(name), params={"label": label})
            records.append(
                {
                    "name": name,
                    "label": label,
                    "etag": response.headers.get("etag"),
                    "version": response.json(),
                }
            )
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server": client.url,
        "prompts": records,
    }


def read_snapshot(path: str | Path) -> list[tuple[str, Selector, Prompt, str | None]]:
    """Return a snapshot's entries: each label's prompt, and the same under its version."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read prompt snapshot {str(path)!r}: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"{str(path)!r} is not a promptlane snapshot (format {FORMAT})")
    entries: list[tuple[str, Selector, Prompt, str | None]] = []
    by_version: list[tuple[str, Selector, Prompt, str | None]] = []
    try:
        for record in document["prompts"]:
            name, label, etag = str(record["name"]), str(record["label"]), record.get("etag")
            prompt = Prompt.from_resolved(record["version"], label=label)
            entries.append((name, label, prompt, etag))
            by_version.append((name, prompt.version, Prompt.from_resolved(record["version"]), etag))
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{str(path)!r}: malformed snapshot entry ({exc!r})") from None
    return entries + by_version
