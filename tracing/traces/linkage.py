"""Which prompt version a span belongs to: the conventions a link is read from, and the rule.

A span *carries a link* when it names a prompt (or an eval run) in one of these conventions,
read in this order; the first that names one wins, whole (fields are never mixed across them):

1. `promptlane.prompt.name|version|label|content_hash` and `promptlane.run.id` attributes
   (the client's `Prompt.metadata`, its `linked()` block, the LangChain handler);
2. Traceloop association properties with the same names after the prefix:
   `traceloop.association.properties.promptlane.prompt.name`, … (OpenLLMetry's
   `Traceloop.set_association_properties(prompt.metadata)`);
3. OpenInference `metadata` (a JSON object, as `using_metadata(prompt.metadata)` writes it)
   holding the same `promptlane.*` keys;
4. OpenInference `llm.prompt_template.version` holding a promptlane reference
   `name@version` or `name@label` (`using_prompt_template(version=prompt.ref)`); a bare
   version names no prompt and links nothing;
5. the GenAI conventions' `gen_ai.prompt.name` (a name alone: no version).

The rule (`nearest`): a span's link is its own, else its nearest ancestor's in the same trace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from tracing import semconv

Key = tuple[str, str]  # (trace id, span id)

TRACELOOP_PREFIX: Final = "traceloop.association.properties."
OPENINFERENCE_METADATA: Final = "metadata"
OPENINFERENCE_TEMPLATE_VERSION: Final = "llm.prompt_template.version"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
MAX_DEPTH: Final = 64  # ancestors followed at most (a cycle of hostile parent ids ends too)
INT32_MAX: Final = 2**31 - 1
_REF: Final = re.compile(r"(?P<name>[^@\s]{1,200})@(?P<ref>[0-9]{1,10}|[A-Za-z0-9._-]{1,64})")
_LIMITS: Final = {"prompt_name": 200, "prompt_label": 64, "content_hash": 64}
COLUMNS: Final = ("prompt_name", "prompt_version", "prompt_label", "content_hash", "run_id")


@dataclass(frozen=True, slots=True)
class Link:
    """The prompt version (or eval run) a span or generation belongs to."""

    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_label: str | None = None
    content_hash: str | None = None
    run_id: int | None = None

    def columns(self) -> dict[str, Any]:
        """Return the link as the generations / spans columns it is stored in."""
        return {name: getattr(self, name) for name in COLUMNS}

    @classmethod
    def of_columns(cls, row: Mapping[str, Any] | sa.RowMapping) -> Link | None:
        """Return the link stored in a row's columns, or None if the row has none."""
        link = cls(**{name: row.get(name) for name in COLUMNS})
        return link if link.prompt_name is not None or link.run_id is not None else None


NO_LINK: Final = Link()


def _text(value: Any, column: str) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").strip()[: _LIMITS[column]]
    return text or None


def _int(value: Any) -> int | None:
    digits = isinstance(value, str) and value.isdecimal() and len(value) <= 10
    if digits or (isinstance(value, float) and value.is_integer()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= INT32_MAX else None


def _from_keys(get: Callable[[str], Any]) -> Link | None:
    link = Link(
        prompt_name=_text(get(semconv.PROMPT_NAME), "prompt_name"),
        prompt_version=_int(get(semconv.PROMPT_VERSION)),
        prompt_label=_text(get(semconv.PROMPT_LABEL), "prompt_label"),
        content_hash=_text(get(semconv.PROMPT_CONTENT_HASH), "content_hash"),
        run_id=_int(get(semconv.RUN_ID)),
    )
    return link if link.prompt_name is not None or link.run_id is not None else None


def _from_metadata(value: Any) -> Link | None:
    if isinstance(value, str):
        if "promptlane." not in value:
            return None  # the common case: metadata of something else, not parsed
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return _from_keys(value.get) if isinstance(value, dict) else None


def parse_ref(value: Any) -> Link | None:
    """Return the link a `name@version` or `name@label` reference names, else None."""
    match = _REF.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    name, ref = match["name"], match["ref"]
    if ref.isdecimal():
        version = _int(ref)
        return Link(prompt_name=name, prompt_version=version) if version is not None else None
    return Link(prompt_name=name, prompt_label=ref)


def link_of(attributes: Mapping[str, Any]) -> Link | None:
    """Return the link a span's attributes carry in the first convention that has one."""
    return (
        _from_keys(attributes.get)
        or _from_keys(lambda key: attributes.get(TRACELOOP_PREFIX + key))
        or _from_metadata(attributes.get(OPENINFERENCE_METADATA))
        or parse_ref(attributes.get(OPENINFERENCE_TEMPLATE_VERSION))
        or _gen_ai(attributes.get(GEN_AI_PROMPT_NAME))
    )


def _gen_ai(value: Any) -> Link | None:
    name = _text(value, "prompt_name")
    return Link(prompt_name=name) if name is not None else None


@dataclass(frozen=True, slots=True)
class Node:
    """What linkage needs of a span: its parent and the link it carries itself."""

    parent_span_id: str | None
    link: Link | None


def nearest(key: Key, nodes: Mapping[Key, Node]) -> tuple[Link | None, Key | None]:
    """Return the link of `key`'s span or its nearest ancestor among `nodes`.

    When the chain reaches a parent not in `nodes` before any link, return (None, that
    parent's key): the caller may look it up and ask again.
    """
    node = nodes[key]
    for _ in range(MAX_DEPTH):
        if node.link is not None:
            return node.link, None
        if node.parent_span_id is None:
            return None, None
        parent = (key[0], node.parent_span_id)
        found = nodes.get(parent)
        if found is None:
            return None, parent
        node = found
    return None, None
