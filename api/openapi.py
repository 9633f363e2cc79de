"""Helpers for request bodies that FastAPI cannot describe from a signature."""

from __future__ import annotations

from typing import Any


def inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON schema with its `$defs` inlined (they are not OpenAPI components)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: dict[str, Any] = walk(schema)
    return inlined
