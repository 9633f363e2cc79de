"""Canonical JSON and content hashes: the identity of what gets evaluated and promoted.

The server hashes what it stores with it, and the client a fallback prompt's content.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialise `value` deterministically (sorted keys, no whitespace, UTF-8 kept)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(value: Any) -> str:
    """Return the sha256 hex digest of `value`'s canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def version_content(
    *,
    kind: str,
    template: str | None,
    messages: list[dict[str, Any]] | None,
    template_format: str,
    variables_schema: dict[str, Any] | None,
    config: dict[str, Any],
) -> dict[str, Any]:
    """Return the fields that make up a version's content (commit message and author excluded)."""
    return {
        "kind": kind,
        "template": template,
        "messages": messages,
        "template_format": template_format,
        "variables_schema": variables_schema,
        "config": config,
    }


def content_hash(content: dict[str, Any]) -> str:
    """Return the content hash of a version's content."""
    return sha256_hex(content)
