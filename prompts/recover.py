"""Recover a version's input variables from the messages it rendered (the renderer, inverted).

Only mustache templates without sections are inverted: each message's template is literal text
around `{{name}}` / `{{{name}}}` slots (nothing is escaped, so both render the value as it is),
and a name used twice must take the same value everywhere. A recovery is kept only when the
text splits one way alone and rendering the version again with it reproduces the stored
messages exactly (roles, names and text); anything else (Jinja2, sections, dotted names, more
or fewer messages than the version renders, a split that is ambiguous) gives a reason instead.
The search is bounded (`MAX_STEPS`) whatever the text, so a recovery never runs long.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pystache import parser as mustache_parser

from promptlane_client.errors import TemplateError
from promptlane_client.render import PromptContent, content_variables, render_prompt
from promptlane_client.render.mustache import parse_mustache

MAX_STEPS: Final = 20_000  # split points tried in one recovery
_SLOTS: Final = (mustache_parser._EscapeNode, mustache_parser._LiteralNode)


@dataclass(frozen=True)
class Recovery:
    """What recovering one call's variables found: the variables, or why there are none."""

    variables: dict[str, Any] | None
    reason: str | None = None


class _UnrecoverableError(Exception):
    """A recovery that cannot be made (its message is the reason)."""


@dataclass(frozen=True)
class _Pattern:
    """One message's template as literal text around variable slots (one more literal)."""

    literals: tuple[str, ...]
    names: tuple[str, ...]


def _pattern(template: str) -> _Pattern:
    literals, names, text = [], [], ""
    for node in parse_mustache(template).parsed._parse_tree:
        if isinstance(node, str):
            text += node
        elif isinstance(node, _SLOTS):
            if "." in node.key:
                raise _UnrecoverableError(f"the template uses a dotted name {{{{{node.key}}}}}")
            literals.append(text)
            names.append(node.key)
            text = ""
        elif isinstance(node, mustache_parser._CommentNode | mustache_parser._ChangeNode):
            continue
        else:  # sections and inverted sections (partials are refused when published)
            raise _UnrecoverableError("the template has sections, which cannot be inverted")
    literals.append(text)
    return _Pattern(tuple(literals), tuple(names))


def _texts(content: PromptContent, messages: Sequence[Any]) -> list[str]:
    """Check the stored messages against the version's, in number and roles; return the texts."""
    if not all(isinstance(m, Mapping) and isinstance(m.get("content"), str) for m in messages):
        raise _UnrecoverableError("the stored messages are not all text messages")
    roles = ["user"] if content.kind == "text" else [m.role for m in content.messages]
    if len(messages) > len(roles):
        extra = len(messages) - len(roles)
        raise _UnrecoverableError(f"the call sent {extra} message(s) after the version's own")
    if len(messages) < len(roles):
        raise _UnrecoverableError(
            f"the call sent {len(messages)} message(s); the version renders {len(roles)}"
        )
    for i, (message, role) in enumerate(zip(messages, roles, strict=True)):
        if message.get("role") != role:
            raise _UnrecoverableError(
                f"message {i} is a {message.get('role')!r} message, not {role!r}"
            )
    return [str(m["content"]) for m in messages]


Span = tuple[int, int, int]  # (message, start, end) of a value in the stored texts


class _Search:
    """Every way (up to two) of splitting the texts into the patterns' literals and values.

    Values are kept as spans of the texts while searching, so a split point costs no copy.
    """

    def __init__(self, problems: list[tuple[str, _Pattern]]) -> None:
        self.problems = problems
        self.steps = 0
        self.found: list[dict[str, Span]] = []
        self._positions: dict[tuple[int, str], list[int]] = {}

    def run(self) -> dict[str, str]:
        """Return the one split; refuse when there is none or more than one."""
        self._message(0, {})
        if not self.found:
            raise _UnrecoverableError("the stored text does not match the version's template")
        if len(self.found) > 1:
            raise _UnrecoverableError("the stored text splits into the variables more than one way")
        return {name: self._text(span) for name, span in self.found[0].items()}

    def _text(self, span: Span) -> str:
        return self.problems[span[0]][0][span[1] : span[2]]

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _UnrecoverableError(
                "the stored text splits into the variables too many ways to tell"
            )

    def _message(self, m: int, values: dict[str, Span]) -> None:
        if m == len(self.problems):
            self.found.append(dict(values))
            return
        text, pattern = self.problems[m]
        if text.startswith(pattern.literals[0]):
            self._slot(m, 0, len(pattern.literals[0]), values)

    def _slot(self, m: int, i: int, pos: int, values: dict[str, Span]) -> None:
        text, pattern = self.problems[m]
        if i == len(pattern.names):
            if pos == len(text):
                self._message(m + 1, values)
            return
        name, after = pattern.names[i], pattern.literals[i + 1]
        known = values.get(name)
        if known is not None:  # a name used before takes the same value
            end = pos + known[2] - known[1]
            self._tick()
            if text.startswith(after, end) and text.startswith(self._text(known), pos):
                self._slot(m, i + 1, end + len(after), values)
            return
        for end in self._ends(m, i, pos):
            self._tick()
            values[name] = (m, pos, end)
            self._slot(m, i + 1, end + len(after), values)
            del values[name]
            if len(self.found) > 1:
                return

    def _ends(self, m: int, i: int, pos: int) -> Iterator[int]:
        """Yield where slot `i`'s value may end: where the literal after it can start."""
        text, pattern = self.problems[m]
        after = pattern.literals[i + 1]
        if i + 1 == len(pattern.names):  # the last slot: its literal ends the text
            end = len(text) - len(after)
            if end >= pos and text.endswith(after):
                yield end
            return
        if not after:
            yield from range(pos, len(text) + 1)
            return
        found = self._occurrences(m, after)
        yield from found[bisect.bisect_left(found, pos) :]

    def _occurrences(self, m: int, literal: str) -> list[int]:
        key = (m, literal)
        if key not in self._positions:
            text = self.problems[m][0]
            found: list[int] = []
            at = text.find(literal)
            while at != -1 and len(found) <= MAX_STEPS:  # more than that cannot all be tried
                found.append(at)
                at = text.find(literal, at + 1)
            self._positions[key] = found
        return self._positions[key]


def _typed(content: PromptContent, values: Mapping[str, str]) -> dict[str, Any]:
    """Return the values the schema types as non-strings parsed as JSON (when they parse)."""
    properties = (content.variables_schema or {}).get("properties")
    typed: dict[str, Any] = dict(values)
    for name, value in values.items():
        prop = properties.get(name) if isinstance(properties, Mapping) else None
        kind = prop.get("type") if isinstance(prop, Mapping) else None
        kinds = kind if isinstance(kind, list) else [kind]
        if kind is None or "string" in kinds:
            continue
        try:
            typed[name] = json.loads(value)
        except ValueError:
            continue
    return typed


def _check(content: PromptContent, variables: dict[str, Any], messages: Sequence[Any]) -> None:
    """Refuse unless rendering `content` with `variables` gives exactly `messages`."""
    try:
        rendered = render_prompt(content, variables)
    except TemplateError as exc:
        raise _UnrecoverableError(f"the recovered variables do not render: {exc}") from None
    if rendered.messages != [dict(m) for m in messages]:
        raise _UnrecoverableError(
            "rendering the recovered variables does not reproduce the stored messages"
        )


def _recover(content: PromptContent, messages: Sequence[Any]) -> dict[str, Any]:
    if content.template_format != "mustache":
        raise _UnrecoverableError("only mustache templates are inverted, not Jinja2")
    texts = _texts(content, messages)
    patterns = [_pattern(t) for t in content.templates()]
    values = _Search(list(zip(texts, patterns, strict=True))).run()
    ordered: dict[str, Any] = {name: values[name] for name in content_variables(content)}
    try:
        _check(content, ordered, messages)
    except _UnrecoverableError:
        typed = _typed(content, ordered)
        if typed == ordered:
            raise
        _check(content, typed, messages)
        return typed
    return ordered


def recover(content: PromptContent, messages: Sequence[Any]) -> Recovery:
    """Recover the variables that rendered `messages` from `content`, or say why not."""
    try:
        return Recovery(_recover(content, messages))
    except _UnrecoverableError as exc:
        return Recovery(None, str(exc))
    except TemplateError as exc:  # a stored template that no longer parses
        return Recovery(None, f"the version's template cannot be read: {exc}")
    except RecursionError:
        return Recovery(None, "the template has too many variables to invert")


def recover_variables(content: PromptContent, messages: Sequence[Any]) -> dict[str, Any] | None:
    """Return the variables that rendered `messages` from `content`, or None if unsure."""
    return recover(content, messages).variables
