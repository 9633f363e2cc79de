"""Differences between two prompt versions: text as a unified diff, config field by field."""

from __future__ import annotations

import difflib
from typing import Any

from promptlane_client.params import public_config
from prompts.models import PromptVersion
from prompts.schemas import FieldChange


def _as_text(version: PromptVersion) -> list[str]:
    if version.kind == "text":
        return (version.template or "").splitlines(keepends=True)
    lines: list[str] = []
    for message in version.messages or []:
        name = f" ({message['name']})" if message.get("name") else ""
        lines.append(f"[{message['role']}{name}]\n")
        lines.extend(
            line if line.endswith("\n") else line + "\n"
            for line in str(message["content"]).splitlines()
        )
    return lines


def template_diff(a: PromptVersion, b: PromptVersion) -> str:
    """Return a unified diff of the two versions' templates (messages shown as blocks)."""
    lines = difflib.unified_diff(
        _as_text(a), _as_text(b), fromfile=f"v{a.version}", tofile=f"v{b.version}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value
    return out


def field_changes(before: dict[str, Any], after: dict[str, Any], prefix: str) -> list[FieldChange]:
    """Compare two nested dicts leaf by leaf (lists compare whole)."""
    a = _flatten(before, prefix, {})
    b = _flatten(after, prefix, {})
    changes: list[FieldChange] = []
    for path in sorted(a.keys() | b.keys()):
        if path not in b:
            changes.append(FieldChange(path=path, change="removed", before=a[path]))
        elif path not in a:
            changes.append(FieldChange(path=path, change="added", after=b[path]))
        elif a[path] != b[path]:
            changes.append(FieldChange(path=path, change="changed", before=a[path], after=b[path]))
    return changes


def version_changes(a: PromptVersion, b: PromptVersion) -> list[FieldChange]:
    """Return the non-template fields that differ, config first."""
    changes = field_changes(public_config(a.config), public_config(b.config), "config")
    for attr in ("kind", "template_format"):
        if getattr(a, attr) != getattr(b, attr):
            changes.append(
                FieldChange(
                    path=attr, change="changed", before=getattr(a, attr), after=getattr(b, attr)
                )
            )
    changes.extend(
        field_changes(a.variables_schema or {}, b.variables_schema or {}, "variables_schema")
    )
    return changes
