"""What every area's calls share: path segments, dropped empty parameters, selectors."""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import quote

from promptlane_client.http import prompt_path

Selector = str | int
Archivable = Literal["prompt", "dataset", "suite"]
COLLECTIONS: Final = {"prompt": "/v1/prompts/", "dataset": "/v1/datasets/", "suite": "/v1/suites/"}
DATASET_MEDIA: Final = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
}
UPLOAD_TIMEOUT: Final = 120.0


def given(params: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters that were given (None: not sent)."""
    return {k: v for k, v in params.items() if v is not None}


def segment(value: str) -> str:
    """Quote one path segment ('/' included)."""
    return quote(value, safe="")


def label_path(name: str, label: str) -> str:
    """Return a label's path."""
    return f"{prompt_path(name)}/labels/{segment(label)}"


def dataset_path(name: str) -> str:
    """Return a dataset's path (its name's '/' kept)."""
    return "/v1/datasets/" + quote(name, safe="/")


def selected(label: str | None, version: int | None) -> dict[str, Any]:
    """Return the query selecting a label or a version."""
    return given({"label": label, "version": version})
