"""The one prompt renderer, shared by the server, evals, the client and the gateway.

Mustache (logic-less, via pystache) and Jinja2 (sandboxed, every amplifying operation bounded:
prompts.render_sandbox) templates, both strict: a variable the template needs but was not given
is an error, and nothing is HTML-escaped. Every render counts its output against a
`RenderBudget` (prompts.render_budget) as it is produced; the server renders through
prompts.render_pool.render_prompt_async, which also enforces the budget's time limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

import jinja2
import pystache
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jsonschema import Draft202012Validator
from pystache import parser as mustache_parser
from pystache.context import KeyNotFoundError
from pystache.parsed import ParsedTemplate

from prompts.errors import (
    FieldProblem,
    InvalidTemplateError,
    InvalidVariablesError,
    MissingVariablesError,
    RenderError,
)
from prompts.patterns import BoundedValidator, schema_pattern_problem
from prompts.render_budget import DEFAULT_BUDGET, RenderBudget, is_metering, meter, metering
from prompts.render_sandbox import SandboxEnvironment

TemplateFormat = Literal["mustache", "jinja2"]
TEMPLATE_FORMATS: Final = ("mustache", "jinja2")
# What a template's own operations can raise (a list index out of range, a filter given the
# wrong type, ...): the template's fault, so a RenderError rather than a server error.
_RENDER_FAILURES: Final = (
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    jinja2.TemplateError,
)

_KEY_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")


@dataclass(frozen=True)
class Message:
    """One chat message template (or, after rendering, its text)."""

    role: str
    content: str
    name: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the OpenAI message shape."""
        out = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class PromptContent:
    """What a version renders: a text template or chat message templates."""

    kind: Literal["text", "chat"]
    template_format: TemplateFormat = "mustache"
    template: str | None = None
    messages: tuple[Message, ...] = ()
    variables_schema: Mapping[str, Any] | None = None

    def templates(self) -> list[str]:
        """Return every template string in rendering order."""
        if self.kind == "text":
            return [self.template or ""]
        return [m.content for m in self.messages]


@dataclass(frozen=True)
class Rendered:
    """A rendered prompt: ready-to-send messages, plus the text for text prompts."""

    messages: list[dict[str, str]]
    text: str | None = None
    variables: list[str] = field(default_factory=list)


# --- mustache -----------------------------------------------------------------------------


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
class _Mustache:
    parsed: ParsedTemplate
    variables: tuple[str, ...]
    fixed_chars: int  # literal text outside sections: output once per render
    loops: bool  # has a section, which repeats for each item of a list


# partials={} and search_dirs=[]: a template can never read a file.
_MUSTACHE = _MustacheRenderer(
    escape=lambda s: s, missing_tags="strict", partials={}, search_dirs=[]
)


def _check_key(key: str, *, nested: bool) -> str:
    if key == "." and nested:
        return key
    if not _KEY_RE.fullmatch(key):
        raise InvalidTemplateError(
            f"invalid variable name {{{{{key}}}}}: use letters, digits, '_' or '-', "
            "dot-separated, not starting with '_'"
        )
    return key


def _walk_mustache(tree: Iterable[Any], depth: int, found: dict[str, None]) -> None:
    for node in tree:
        if isinstance(node, str):
            continue
        if isinstance(node, mustache_parser._PartialNode):
            raise InvalidTemplateError(f"mustache partials are not allowed: {{{{> {node.key}}}}}")
        if isinstance(node, mustache_parser._EscapeNode | mustache_parser._LiteralNode):
            key = _check_key(node.key, nested=depth > 0)
        elif isinstance(node, mustache_parser._SectionNode):
            key = _check_key(node.key, nested=depth > 0)
            _walk_mustache(node.parsed._parse_tree, depth + 1, found)
        elif isinstance(node, mustache_parser._InvertedNode):
            key = _check_key(node.key, nested=depth > 0)
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
def _parse_mustache(template: str) -> _Mustache:
    try:
        parsed = mustache_parser.parse(template, raise_on_mismatch=True)
        found: dict[str, None] = {}
        _walk_mustache(parsed._parse_tree, 0, found)
    except mustache_parser.ParsingError as exc:
        raise InvalidTemplateError(f"mustache syntax error: {exc}") from None
    except RecursionError:
        raise InvalidTemplateError("mustache sections are nested too deeply") from None
    fixed, loops = _count_text(parsed._parse_tree, inside=False)
    return _Mustache(parsed, tuple(found), fixed, loops)


# --- jinja2 -------------------------------------------------------------------------------


_JINJA = SandboxEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    auto_reload=False,
)

_FORBIDDEN_JINJA_NODES: Final = {
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Include: "include",
    nodes.Extends: "extends",
}


def _check_jinja_ast(ast: nodes.Template) -> None:
    for node_type, what in _FORBIDDEN_JINJA_NODES.items():
        if ast.find(node_type) is not None:
            raise InvalidTemplateError(f"jinja2 '{what}' is not allowed in prompt templates")
    for attr in ast.find_all(nodes.Getattr):
        if attr.attr.startswith("_"):
            raise InvalidTemplateError(f"access to attribute {attr.attr!r} is not allowed")
    for item in ast.find_all(nodes.Getitem):
        if isinstance(item.arg, nodes.Const) and str(item.arg.value).startswith("_"):
            raise InvalidTemplateError(f"access to item {item.arg.value!r} is not allowed")


@lru_cache(maxsize=2048)
def _parse_jinja(template: str) -> tuple[jinja2.Template, tuple[str, ...]]:
    try:
        ast = _JINJA.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidTemplateError(
            f"jinja2 syntax error on line {exc.lineno}: {exc.message}"
        ) from None
    _check_jinja_ast(ast)
    names = tuple(sorted(meta.find_undeclared_variables(ast)))
    for name in names:
        _check_key(name, nested=False)
    return _JINJA.from_string(ast), names


# --- public API ---------------------------------------------------------------------------


def template_variables(template: str, template_format: str) -> list[str]:
    """Check a template and return the top-level variables it needs, in first-use order."""
    if template_format == "mustache":
        return list(_parse_mustache(template).variables)
    if template_format == "jinja2":
        return list(_parse_jinja(template)[1])
    raise InvalidTemplateError(f"unknown template format {template_format!r}")


def is_linear(content: PromptContent) -> bool:
    """Say whether rendering `content` is linear in its size (mustache without sections)."""
    if content.template_format != "mustache":
        return False
    return not any(_parse_mustache(t).loops for t in content.templates())


def _render_mustache(template: str, variables: Mapping[str, Any]) -> str:
    compiled = _parse_mustache(template)
    meter().emit(compiled.fixed_chars)
    return str(_MUSTACHE.render(compiled.parsed, dict(variables)))


def _render_jinja(template: str, variables: Mapping[str, Any]) -> str:
    compiled, _ = _parse_jinja(template)
    running, parts = meter(), []
    for chunk in compiled.generate(dict(variables)):  # stop as soon as the output is too long
        running.emit(len(chunk))
        parts.append(chunk)
    return "".join(parts)


def render_template(
    template: str,
    template_format: str,
    variables: Mapping[str, Any],
    budget: RenderBudget = DEFAULT_BUDGET,
) -> str:
    """Render one template strictly; the caller has checked that required variables exist.

    Inside `render_prompt` the template counts against the prompt's budget; on its own,
    against `budget`.
    """
    if not is_metering():
        with metering(budget):
            return render_template(template, template_format, variables)
    try:
        if template_format == "mustache":
            return _render_mustache(template, variables)
        return _render_jinja(template, variables)
    except KeyNotFoundError as exc:
        raise RenderError(f"variable not found while rendering: {exc}") from None
    except SecurityError as exc:
        raise RenderError(f"template refused by the sandbox: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"undefined value while rendering: {exc.message}") from None
    except RecursionError:
        raise RenderError("the template recurses or nests too deeply") from None
    except _RENDER_FAILURES as exc:
        raise RenderError(f"template failed to render: {exc}") from None


def content_variables(content: PromptContent) -> list[str]:
    """Return the variables a prompt's templates need, in first-use order."""
    found: dict[str, None] = {}
    for template in content.templates():
        for name in template_variables(template, content.template_format):
            found.setdefault(name, None)
    return list(found)


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    problem = schema_pattern_problem(schema)
    if problem is not None:  # stored before patterns were checked at publish time
        raise InvalidVariablesError(f"the version's variables_schema cannot be used: {problem}")
    return BoundedValidator(schema)


def check_variables_schema(schema: Mapping[str, Any]) -> None:
    """Raise InvalidTemplateError unless `schema` is a valid JSON Schema for variables."""
    errors = list(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema))
    if errors:
        problems = [_schema_problem("#/variables_schema", e) for e in errors]
        raise InvalidTemplateError("variables_schema is not a valid JSON Schema", errors=problems)


def _schema_problem(prefix: str, error: Any) -> FieldProblem:
    path = "".join(f"/{p}" for p in error.absolute_path)
    return FieldProblem(prefix + path, str(error.message))


def validate_variables(content: PromptContent, variables: Mapping[str, Any]) -> list[str]:
    """Check `variables` against what the content needs; return the needed names."""
    needed = content_variables(content)
    missing = [name for name in needed if name not in variables]
    if missing:
        raise MissingVariablesError(missing)
    if content.variables_schema:
        schema_json = json.dumps(content.variables_schema, sort_keys=True)
        errors = sorted(_validator(schema_json).iter_errors(dict(variables)), key=str)
        if errors:
            raise InvalidVariablesError(
                "variables do not match the version's schema",
                errors=[_schema_problem("#/variables", e) for e in errors],
            )
    return needed


def render_prompt(
    content: PromptContent, variables: Mapping[str, Any], budget: RenderBudget = DEFAULT_BUDGET
) -> Rendered:
    """Render a prompt's content into ready-to-send messages, within `budget`'s output limit.

    The output limit counts every message; the time limit is enforced only by
    prompts.render_pool.render_prompt_async (the server's entry point).
    """
    needed = validate_variables(content, variables)
    fmt = content.template_format
    with metering(budget):
        if content.kind == "text":
            text = render_template(content.template or "", fmt, variables)
            return Rendered(
                messages=[{"role": "user", "content": text}], text=text, variables=needed
            )
        messages = [
            Message(m.role, render_template(m.content, fmt, variables), m.name).as_dict()
            for m in content.messages
        ]
    return Rendered(messages=messages, variables=needed)


def messages_from_dicts(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Message, ...]:
    """Build Message templates from stored dicts."""
    return tuple(Message(str(m["role"]), str(m["content"]), m.get("name")) for m in raw or ())
