"""Calls on datasets: uploads, versions, diffs, curation from recorded calls."""

from __future__ import annotations

from typing import Any

from promptlane_client.endpoints._common import DATASET_MEDIA, UPLOAD_TIMEOUT, dataset_path, given
from promptlane_client.http import Call, read_created, read_object


def push_dataset(
    name: str, content: bytes, fmt: str, message: str, description: str | None
) -> Call[tuple[dict[str, Any], bool]]:
    """Upload a JSON, JSONL or CSV document as a dataset version (uploads get 120 s at least)."""
    return Call(
        "POST",
        dataset_path(name) + "/versions",
        read_created,
        content=content,
        headers={"Content-Type": DATASET_MEDIA[fmt]},
        params=given({"message": message, "description": description}),
        min_timeout=UPLOAD_TIMEOUT,
    )


def publish_dataset(name: str, body: dict[str, Any]) -> Call[tuple[dict[str, Any], bool]]:
    """Publish a dataset version from items."""
    return Call("POST", dataset_path(name) + "/versions", read_created, json=body)


def list_datasets(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List datasets."""
    return Call("GET", "/v1/datasets", read_object, params=given(params))


def list_dataset_versions(name: str, limit: int, offset: int) -> Call[dict[str, Any]]:
    """List a dataset's versions."""
    params = {"limit": limit, "offset": offset}
    return Call("GET", dataset_path(name) + "/versions", read_object, params=params)


def get_dataset(
    name: str, version: int | None, items: bool, limit: int | None, offset: int
) -> Call[dict[str, Any]]:
    """Read a dataset version (default: the latest), with its items if asked."""
    path = dataset_path(name)
    if version is not None:
        path += f"/versions/{version}"
    params = {"items": items, "offset": offset, **given({"limit": limit})}
    return Call("GET", path, read_object, params=params)


def diff_datasets(
    name: str, from_version: int, to_version: int, limit: int
) -> Call[dict[str, Any]]:
    """Compare two versions of a dataset."""
    params = {"from": from_version, "to": to_version, "limit": limit}
    return Call("GET", dataset_path(name) + "/diff", read_object, params=params)


def add_from_generations(name: str, selection: dict[str, Any]) -> Call[dict[str, Any]]:
    """Add recorded calls to a dataset as a new version (a thousand calls get 120 s at least)."""
    return Call(
        "POST",
        dataset_path(name) + "/versions/from-generations",
        read_object,
        json=given(selection),
        min_timeout=UPLOAD_TIMEOUT,
    )
