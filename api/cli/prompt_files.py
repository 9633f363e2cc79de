"""Prompts as code: load and check YAML/JSON prompt files before anything is sent.

A file's prompt name is its `name:` field; without one, its path below the root, without the
suffix (`<root>/support/triage.yaml` is `support/triage`). The root is `--root`, else the
directory pushed; a single file without `name:` needs `--root`, so a name never depends on
which path happened to be typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from promptlane_client.errors import TemplateError
from promptlane_client.render import PromptContent, content_variables, messages_from_dicts
from prompts.schemas import VersionCreate, name_problem

SUFFIXES = (".yaml", ".yml", ".json")


class PromptFileError(Exception):
    """A prompt file that cannot be pushed; the message names the file and the field."""


@dataclass(frozen=True)
class PromptFile:
    """One checked prompt file: its path, prompt name and version body."""

    path: Path
    name: str
    body: dict[str, Any]
    named_in_file: bool = False  # the name came from `name:`, not from the path


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptFileError(f"{path}: cannot read: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        where = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        raise PromptFileError(f"{path}: not valid YAML: {where}{exc.problem}") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise PromptFileError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "file"
    return f"{where}: {error['msg']}"


def check_file(path: Path, root: Path | None) -> PromptFile:
    """Parse and validate one file with the server's own schema and renderer."""
    data = _read(path)
    if not isinstance(data, dict):
        raise PromptFileError(f"{path}: expected a mapping with 'template' or 'messages'")
    data = dict(data)
    name = data.pop("name", None)
    named_in_file = name is not None
    if name is None:
        name = _name_from_path(path, root)
    if not isinstance(name, str) or (problem := name_problem(name)):
        raise PromptFileError(
            f"{path}: {problem if isinstance(name, str) else 'name must be text'}"
        )
    try:
        version = VersionCreate.model_validate(data)
    except ValidationError as exc:
        raise PromptFileError(f"{path}: {_first_error(exc)}") from None
    content = PromptContent(
        kind=version.kind or "text",
        template_format=version.template_format,
        template=version.template,
        messages=messages_from_dicts([m.model_dump() for m in version.messages or []]),
    )
    try:
        content_variables(content)
    except TemplateError as exc:
        raise PromptFileError(f"{path}: {exc.detail}") from None
    return PromptFile(path, name, version.model_dump(mode="json", exclude_none=True), named_in_file)


def _name_from_path(path: Path, root: Path | None) -> str:
    if root is None:
        raise PromptFileError(
            f"{path}: no 'name:' in the file: add one, or push with --root DIR "
            "(the name is then the path below DIR, e.g. support/triage)"
        )
    try:
        base = path.resolve().relative_to(root.resolve())
    except ValueError:
        raise PromptFileError(f"{path}: not inside the root {root}") from None
    return base.with_suffix("").as_posix()


def load_prompt_files(target: Path, root: Path | None = None) -> list[PromptFile]:
    """Check every prompt file at `target` (a file or a directory); raise on the first bad one.

    Names without `name:` are paths below `root` (default: `target` when it is a directory).
    """
    if root is not None and not root.is_dir():
        raise PromptFileError(f"{root}: the root is not a directory")
    if target.is_file():
        return [check_file(target, root)]
    if not target.is_dir():
        raise PromptFileError(f"{target}: no such file or directory")
    paths = sorted(p for p in target.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    if not paths:
        raise PromptFileError(f"{target}: no .yaml, .yml or .json files")
    files = [check_file(p, root or target) for p in paths]
    seen: dict[str, Path] = {}
    for file in files:
        if file.name in seen:
            raise PromptFileError(f"{file.path}: prompt {file.name!r} is also in {seen[file.name]}")
        seen[file.name] = file.path
    return files


def lookalike(name: str, existing: list[str]) -> str | None:
    """Return an existing prompt a new, path-derived `name` was probably meant to be.

    `triage` (pushed from inside `support/`) and `my-prompts/support/triage` (pushed from
    above the root) both look like an existing `support/triage`.
    """
    for other in existing:
        if other != name and (other.endswith("/" + name) or name.endswith("/" + other)):
            return other
    return None
