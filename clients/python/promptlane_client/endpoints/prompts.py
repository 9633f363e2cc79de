"""Calls on prompts: resolve, render, versions, labels, archiving, promotion checks."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import httpx

from promptlane_client.endpoints._common import (
    COLLECTIONS,
    Archivable,
    Selector,
    given,
    label_path,
    selected,
)
from promptlane_client.http import (
    Call,
    prompt_path,
    read_created,
    read_list,
    read_object,
    read_response,
)


def resolve(name: str, sel: Selector, etag: str | None) -> Call[httpx.Response]:
    """Ask for the version a cache selector names (a conditional GET given an ETag)."""
    params = {"version": sel} if isinstance(sel, int) else {"label": sel}
    headers = {"If-None-Match": etag} if etag else {}
    return Call("GET", prompt_path(name), read_response, params=params, headers=headers)


def resolve_prompt(name: str, label: str | None, version: int | None) -> Call[dict[str, Any]]:
    """Ask for the version a label or number selects (the server defaults to production)."""
    return Call("GET", prompt_path(name), read_object, params=selected(label, version))


def render_prompt(
    name: str, variables: dict[str, Any], label: str | None, version: int | None
) -> Call[dict[str, Any]]:
    """Render a version server-side."""
    body = {"variables": variables, **selected(label, version)}
    return Call("POST", prompt_path(name) + "/render", read_object, json=body)


def list_prompts(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List prompts."""
    return Call("GET", "/v1/prompts", read_object, params=given(params))


def plan_version(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Say what publishing a version would do (a dry run)."""
    return Call("POST", prompt_path(name) + "/versions/plan", read_object, json=body)


def publish_version(name: str, body: dict[str, Any]) -> Call[tuple[dict[str, Any], bool]]:
    """Publish a version."""
    return Call("POST", prompt_path(name) + "/versions", read_created, json=body)


def list_versions(name: str, limit: int, offset: int) -> Call[dict[str, Any]]:
    """List a prompt's versions."""
    params = {"limit": limit, "offset": offset}
    return Call("GET", prompt_path(name) + "/versions", read_object, params=params)


def diff_versions(name: str, from_version: int, to_version: int) -> Call[dict[str, Any]]:
    """Compare two versions."""
    params = {"from": from_version, "to": to_version}
    return Call("GET", prompt_path(name) + "/diff", read_object, params=params)


def move_label(
    name: str, label: str, version: int, reason: str, force: bool
) -> Call[dict[str, Any]]:
    """Point a label at a version."""
    body = {"version": version, "reason": reason, "force": force}
    return Call("PUT", label_path(name, label), read_object, json=body)


def list_labels(name: str) -> Call[list[dict[str, Any]]]:
    """List a prompt's labels."""
    return Call("GET", prompt_path(name) + "/labels", read_list)


def label_history(name: str, label: str, limit: int, offset: int) -> Call[dict[str, Any]]:
    """Read a label's audit trail."""
    params = {"limit": limit, "offset": offset}
    return Call("GET", label_path(name, label) + "/history", read_object, params=params)


def unset_label(name: str, label: str, reason: str) -> Call[dict[str, Any]]:
    """Unset a label."""
    params = {"reason": reason} if reason else {}
    return Call("DELETE", label_path(name, label), read_object, params=params)


def set_archived(
    kind: Archivable, name: str, action: Literal["archive", "restore"], reason: str
) -> Call[dict[str, Any]]:
    """Archive or restore a prompt, dataset or suite."""
    if kind not in COLLECTIONS:
        raise ValueError(f"cannot archive a {kind!r}: give prompt, dataset or suite")
    path = f"{COLLECTIONS[kind]}{quote(name, safe='/')}/{action}"
    return Call("POST", path, read_object, json={"reason": reason})


def check_promotion(name: str, label: str, version: int) -> Call[dict[str, Any]]:
    """Dry-run a label move."""
    params = {"version": version}
    return Call("GET", label_path(name, label) + "/check", read_object, params=params)
