"""Admin calls: API keys and connections."""

from __future__ import annotations

from typing import Any

from promptlane_client.endpoints._common import segment
from promptlane_client.http import Call, read_list, read_nothing, read_object


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
    return Call("GET", f"/v1/connections/{segment(name)}", read_object)


def update_connection(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Change a connection."""
    return Call("PATCH", f"/v1/connections/{segment(name)}", read_object, json=body)


def delete_connection(name: str) -> Call[None]:
    """Delete a connection."""
    return Call("DELETE", f"/v1/connections/{segment(name)}", read_nothing)
