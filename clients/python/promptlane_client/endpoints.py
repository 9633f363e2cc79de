"""Every REST call the clients make, as an unsent `Call`: path, query, body, how to read it.

Client and AsyncClient send these and nothing else, so a call is built one way whichever
client sends it.
"""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from promptlane_client.http import (
    Call,
    prompt_path,
    read_created,
    read_list,
    read_nothing,
    read_object,
    read_response,
)

Selector = str | int
Archivable = Literal["prompt", "dataset", "suite"]
_COLLECTIONS: Final = {"prompt": "/v1/prompts/", "dataset": "/v1/datasets/", "suite": "/v1/suites/"}
_DATASET_MEDIA: Final = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
}
_UPLOAD_TIMEOUT: Final = 120.0


def _given(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _segment(value: str) -> str:
    return quote(value, safe="")


def _label_path(name: str, label: str) -> str:
    return f"{prompt_path(name)}/labels/{_segment(label)}"


def _dataset_path(name: str) -> str:
    return "/v1/datasets/" + quote(name, safe="/")


def _selected(label: str | None, version: int | None) -> dict[str, Any]:
    return _given({"label": label, "version": version})


# --- prompts ---------------------------------------------------------------------------------


def resolve(name: str, sel: Selector, etag: str | None) -> Call[httpx.Response]:
    """Ask for the version a cache selector names (a conditional GET given an ETag)."""
    params = {"version": sel} if isinstance(sel, int) else {"label": sel}
    headers = {"If-None-Match": etag} if etag else {}
    return Call("GET", prompt_path(name), read_response, params=params, headers=headers)


def resolve_prompt(name: str, label: str | None, version: int | None) -> Call[dict[str, Any]]:
    """Ask for the version a label or number selects (the server defaults to production)."""
    return Call("GET", prompt_path(name), read_object, params=_selected(label, version))


def render_prompt(
    name: str, variables: dict[str, Any], label: str | None, version: int | None
) -> Call[dict[str, Any]]:
    """Render a version server-side."""
    body = {"variables": variables, **_selected(label, version)}
    return Call("POST", prompt_path(name) + "/render", read_object, json=body)


def list_prompts(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List prompts."""
    return Call("GET", "/v1/prompts", read_object, params=_given(params))


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
    return Call("PUT", _label_path(name, label), read_object, json=body)


def list_labels(name: str) -> Call[list[dict[str, Any]]]:
    """List a prompt's labels."""
    return Call("GET", prompt_path(name) + "/labels", read_list)


def label_history(name: str, label: str, limit: int, offset: int) -> Call[dict[str, Any]]:
    """Read a label's audit trail."""
    params = {"limit": limit, "offset": offset}
    return Call("GET", _label_path(name, label) + "/history", read_object, params=params)


def unset_label(name: str, label: str, reason: str) -> Call[dict[str, Any]]:
    """Unset a label."""
    params = {"reason": reason} if reason else {}
    return Call("DELETE", _label_path(name, label), read_object, params=params)


def set_archived(
    kind: Archivable, name: str, action: Literal["archive", "restore"], reason: str
) -> Call[dict[str, Any]]:
    """Archive or restore a prompt, dataset or suite."""
    if kind not in _COLLECTIONS:
        raise ValueError(f"cannot archive a {kind!r}: give prompt, dataset or suite")
    path = f"{_COLLECTIONS[kind]}{quote(name, safe='/')}/{action}"
    return Call("POST", path, read_object, json={"reason": reason})


def check_promotion(name: str, label: str, version: int) -> Call[dict[str, Any]]:
    """Dry-run a label move."""
    params = {"version": version}
    return Call("GET", _label_path(name, label) + "/check", read_object, params=params)


# --- suites, runs, policies, audit ----------------------------------------------------------


def push_suite(text: str) -> Call[tuple[dict[str, Any], bool]]:
    """Store a suite from its YAML (or JSON) text."""
    headers = {"Content-Type": "application/yaml"}
    return Call("POST", "/v1/suites", read_created, content=text.encode(), headers=headers)


def list_suites(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List suites."""
    return Call("GET", "/v1/suites", read_object, params=_given(params))


def get_suite(name: str, version: int | None) -> Call[dict[str, Any]]:
    """Read a suite's newest version, or the given one."""
    path = f"/v1/suites/{quote(name, safe='/')}"
    if version is not None:
        path += f"/versions/{version}"
    return Call("GET", path, read_object)


def start_run(body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Queue a run."""
    return Call("POST", "/v1/runs", read_object, json=body)


def get_run(run_id: int) -> Call[dict[str, Any]]:
    """Read a run."""
    return Call("GET", f"/v1/runs/{run_id}", read_object)


def run_events_path(run_id: int) -> str:
    """Return the path of a run's server-sent progress events."""
    return f"/v1/runs/{run_id}/events"


def list_runs(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List runs."""
    return Call("GET", "/v1/runs", read_object, params=_given(params))


def run_items(run_id: int, params: dict[str, Any]) -> Call[dict[str, Any]]:
    """Read a page of a run's item results."""
    return Call("GET", f"/v1/runs/{run_id}/items", read_object, params=params)


def cancel_run(run_id: int) -> Call[dict[str, Any]]:
    """Ask a run to stop."""
    return Call("POST", f"/v1/runs/{run_id}/cancel", read_object)


def resume_run(run_id: int) -> Call[dict[str, Any]]:
    """Resume a run."""
    return Call("POST", f"/v1/runs/{run_id}/resume", read_object)


def compare_runs(a: int, b: int) -> Call[dict[str, Any]]:
    """Compare two runs."""
    return Call("GET", "/v1/runs/compare", read_object, params={"a": a, "b": b})


def put_policy(label: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Set a label's promotion policy."""
    return Call("PUT", f"/v1/policies/{_segment(label)}", read_object, json=body)


def list_policies() -> Call[list[dict[str, Any]]]:
    """List promotion policies."""
    return Call("GET", "/v1/policies", read_list)


def delete_policy(label: str, prompt: str | None, reason: str) -> Call[None]:
    """Remove a label's promotion policy."""
    params = {"prompt": prompt, "reason": reason} if prompt else {"reason": reason}
    return Call("DELETE", f"/v1/policies/{_segment(label)}", read_nothing, params=params)


def policy_history(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List policy changes."""
    return Call("GET", "/v1/policies/history", read_object, params=params)


def verify_audit() -> Call[dict[str, Any]]:
    """Check the audit chain."""
    return Call("GET", "/v1/audit/verify", read_object)


# --- keys and connections ------------------------------------------------------------------


def create_key(name: str, role: str) -> Call[dict[str, Any]]:
    """Create an API key."""
    return Call("POST", "/v1/keys", read_object, json={"name": name, "role": role})


def list_keys() -> Call[list[dict[str, Any]]]:
    """List API keys."""
    return Call("GET", "/v1/keys", read_list)


def revoke_key(key_id: int) -> Call[dict[str, Any]]:
    """Revoke an API key."""
    return Call("POST", f"/v1/keys/{key_id}/revoke", read_object)


def create_connection(body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Create a provider connection."""
    return Call("POST", "/v1/connections", read_object, json=body)


def list_connections() -> Call[list[dict[str, Any]]]:
    """List connections."""
    return Call("GET", "/v1/connections", read_list)


def get_connection(name: str) -> Call[dict[str, Any]]:
    """Read one connection."""
    return Call("GET", f"/v1/connections/{_segment(name)}", read_object)


def update_connection(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Change a connection."""
    return Call("PATCH", f"/v1/connections/{_segment(name)}", read_object, json=body)


def delete_connection(name: str) -> Call[None]:
    """Delete a connection."""
    return Call("DELETE", f"/v1/connections/{_segment(name)}", read_nothing)


# --- webhooks (admin) ----------------------------------------------------------------------


def _hook(name: str, rest: str = "") -> str:
    return f"/v1/webhooks/{_segment(name)}{rest}"


def create_webhook(body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Register a webhook endpoint (the answer holds its secret, once)."""
    return Call("POST", "/v1/webhooks", read_object, json=body)


def list_webhooks() -> Call[list[dict[str, Any]]]:
    """List webhook endpoints."""
    return Call("GET", "/v1/webhooks", read_list)


def get_webhook(name: str) -> Call[dict[str, Any]]:
    """Read one webhook endpoint."""
    return Call("GET", _hook(name), read_object)


def update_webhook(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Change a webhook endpoint (`is_paused: false` resumes it)."""
    return Call("PATCH", _hook(name), read_object, json=body)


def delete_webhook(name: str) -> Call[None]:
    """Delete a webhook endpoint."""
    return Call("DELETE", _hook(name), read_nothing)


def webhook_action(name: str, action: Literal["rotate-secret", "test"]) -> Call[dict[str, Any]]:
    """Rotate an endpoint's secret, or queue a test event to it."""
    return Call("POST", _hook(name, f"/{action}"), read_object)


def webhook_deliveries(name: str, params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List an endpoint's deliveries."""
    return Call("GET", _hook(name, "/deliveries"), read_object, params=_given(params))


def webhook_delivery(name: str, delivery_id: int, *, redeliver: bool) -> Call[dict[str, Any]]:
    """Read a delivery with its attempts, or send it again."""
    path = _hook(name, f"/deliveries/{delivery_id}")
    if redeliver:
        return Call("POST", path + "/redeliver", read_object)
    return Call("GET", path, read_object)


# --- datasets ------------------------------------------------------------------------------


def push_dataset(
    name: str, content: bytes, fmt: str, message: str, description: str | None
) -> Call[tuple[dict[str, Any], bool]]:
    """Upload a JSON, JSONL or CSV document as a dataset version (uploads get 120 s at least)."""
    return Call(
        "POST",
        _dataset_path(name) + "/versions",
        read_created,
        content=content,
        headers={"Content-Type": _DATASET_MEDIA[fmt]},
        params=_given({"message": message, "description": description}),
        min_timeout=_UPLOAD_TIMEOUT,
    )


def publish_dataset(name: str, body: dict[str, Any]) -> Call[tuple[dict[str, Any], bool]]:
    """Publish a dataset version from items."""
    return Call("POST", _dataset_path(name) + "/versions", read_created, json=body)


def list_datasets(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List datasets."""
    return Call("GET", "/v1/datasets", read_object, params=_given(params))


def list_dataset_versions(name: str, limit: int, offset: int) -> Call[dict[str, Any]]:
    """List a dataset's versions."""
    params = {"limit": limit, "offset": offset}
    return Call("GET", _dataset_path(name) + "/versions", read_object, params=params)


def get_dataset(
    name: str, version: int | None, items: bool, limit: int | None, offset: int
) -> Call[dict[str, Any]]:
    """Read a dataset version (default: the latest), with its items if asked."""
    path = _dataset_path(name)
    if version is not None:
        path += f"/versions/{version}"
    params = {"items": items, "offset": offset, **_given({"limit": limit})}
    return Call("GET", path, read_object, params=params)


def diff_datasets(
    name: str, from_version: int, to_version: int, limit: int
) -> Call[dict[str, Any]]:
    """Compare two versions of a dataset."""
    params = {"from": from_version, "to": to_version, "limit": limit}
    return Call("GET", _dataset_path(name) + "/diff", read_object, params=params)


def add_from_generations(name: str, selection: dict[str, Any]) -> Call[dict[str, Any]]:
    """Add recorded calls to a dataset as a new version (a thousand calls get 120 s at least)."""
    return Call(
        "POST",
        _dataset_path(name) + "/versions/from-generations",
        read_object,
        json=_given(selection),
        min_timeout=_UPLOAD_TIMEOUT,
    )
