"""Calls on suites, runs, promotion policies and the audit chain."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from promptlane_client.endpoints._common import given, segment
from promptlane_client.http import Call, read_created, read_list, read_nothing, read_object


def push_suite(text: str) -> Call[tuple[dict[str, Any], bool]]:
    """Store a suite from its YAML (or JSON) text."""
    headers = {"Content-Type": "application/yaml"}
    return Call("POST", "/v1/suites", read_created, content=text.encode(), headers=headers)


def list_suites(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List suites."""
    return Call("GET", "/v1/suites", read_object, params=given(params))


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
    return Call("GET", "/v1/runs", read_object, params=given(params))


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
    return Call("PUT", f"/v1/policies/{segment(label)}", read_object, json=body)


def list_policies() -> Call[list[dict[str, Any]]]:
    """List promotion policies."""
    return Call("GET", "/v1/policies", read_list)


def delete_policy(label: str, prompt: str | None, reason: str) -> Call[None]:
    """Remove a label's promotion policy."""
    params = {"prompt": prompt, "reason": reason} if prompt else {"reason": reason}
    return Call("DELETE", f"/v1/policies/{segment(label)}", read_nothing, params=params)


def policy_history(params: dict[str, Any]) -> Call[dict[str, Any]]:
    """List policy changes."""
    return Call("GET", "/v1/policies/history", read_object, params=params)


def verify_audit() -> Call[dict[str, Any]]:
    """Check the audit chain."""
    return Call("GET", "/v1/audit/verify", read_object)
