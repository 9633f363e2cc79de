"""Mustache templates (logic-less, via pystache): strict, unescaped, counted as they render.

Partials are refused (a template never reads a file); literal text inside sections is wrapped
so every repetition counts against the running render's budget (promptlane_client.render.budget).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pystache
from pystache import parser as mustache_parser
from pystache.parsed import ParsedTemplate

from promptlane_client.errors import InvalidTemplateError
from promptlane_client.render.budget import meter
from promptlane_client.render.content import check_key


class _MustacheRenderer(pystache.Renderer):  # type: ignore[misc]
    """pystache with JSON-style coercion of non-string values, counting what it interpolates."""

    def str_coerce(self, val: Any) -> str:
        if val is None:
            return ""
        if isinstance(val, bool):
            return "true" if val else "false"
        if isinstance(val, dict | list):
            return json.dumps(val, ensure_ascii=False)
        return str(val)

    # Counted before pystache joins the parts: `{{a}}{{a}}...` with a long `a` is refused
    # before the joined text exists.
    def _to_unicode_hard(self, s: Any) -> str:
        text = str(super()._to_unicode_hard(s))
        meter().emit(len(text))
        return text

    def _escape_to_unicode(self, s: Any) -> str:
        text = str(super()._escape_to_unicode(s))
        meter().emit(len(text))
        return text


class _Text:
    """Literal text inside a section: counted each time the section repeats it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, engine: Any, context: Any) -> str:
        meter().emit(len(self.text))
        return self.text


@dataclass(frozen=True)
class Mustache:
    """A parsed, checked mustache template."""

    parsed: ParsedTemplate
    variables: tuple[str, ...]
    fixed_chars: int  # literal text outside sections: output once per render
    loops: bool  # has a section, which repeats for each item of a list


# partials={} and search_dirs=[]: a template can never read a file.
_MUSTACHE = _MustacheRenderer(
    escape=lambda s: s, missing_tags="strict", partials={}, search_dirs=[]
)


def _walk_mustache(tree: Iterable[Any], depth: int, found: dict[str, None]) -> None:
    for node in tree:
        if isinstance(node, str):
            continue
        if isinstance(node, mustache_parser._PartialNode):
            raise InvalidTemplateError(f"mustache partials are not allowed: {{{{> {node.key}}}}}")
        if isinstance(node, mustache_parser._EscapeNode | mustache_parser._LiteralNode):
            key = check_key(node.key, nested=depth > 0)
        elif isinstance(node, mustache_parser._SectionNode):
            key = check_key(node.key, nested=depth > 0)
            _walk_mustache(node.parsed._parse_tree, depth + 1, found)
        elif isinstance(node, mustache_parser._InvertedNode):
            key = check_key(node.key, nested=depth > 0)
            _walk_mustache(node.parsed_section._parse_tree, depth + 1, found)
        else:  # comments and delimiter changes
            continue
        if depth == 0:
            found.setdefault(key.split(".", 1)[0], None)


def _count_text(tree: list[Any], *, inside: bool) -> tuple[int, bool]:
    """Wrap literal text inside sections; return (top-level text length, has a section)."""
    fixed, loops = 0, False
    for index, node in enumerate(tree):
        if isinstance(node, str):
            if inside:
                tree[index] = _Text(node)
            else:
                fixed += len(node)
        elif isinstance(node, mustache_parser._SectionNode):
            loops = True
            _count_text(node.parsed._parse_tree, inside=True)
        elif isinstance(node, mustache_parser._InvertedNode):
            loops = _count_text(node.parsed_section._parse_tree, inside=True)[1] or loops
    return fixed, loops


@lru_cache(maxsize=2048)
def parse_mustache(template: str) -> Mustache:
    """Parse and check a mustache template (cached)."""
    try:
        parsed = mustache_parser.parse(template, raise_on_mismatch=True)
        found: dict[str, None] = {}
        _walk_mustache(parsed._parse_tree, 0, found)
    except mustache_parser.ParsingError as exc:
        raise InvalidTemplateError(f"mustache syntax error: {exc}") from None
    except RecursionError:
        raise InvalidTemplateError("mustache sections are nested too deeply") from None
    fixed, loops = _count_text(parsed._parse_tree, inside=False)
    return Mustache(parsed, tuple(found), fixed, loops)


def render_mustache(template: str, variables: Mapping[str, Any]) -> str:
    """Render a mustache template inside a running render (its budget counts the output)."""
    compiled = parse_mustache(template)
    meter().emit(compiled.fixed_chars)
    return str(_MUSTACHE.render(compiled.parsed, dict(variables)))
