"""The one prompt renderer, shared by the server, evals, the client and the gateway.

Mustache (logic-less, via pystache) and Jinja2 (sandboxed) templates, both strict: a variable
the template needs but was not given is an error, and nothing is HTML-escaped.
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
from jinja2.sandbox import ImmutableSandboxedEnvironment
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

TemplateFormat = Literal["mustache", "jinja2"]
TEMPLATE_FORMATS: Final = ("mustache", "jinja2")

_KEY_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")
_MAX_SEQUENCE: Final = 100_000
_MAX_EXPONENT: Final = 1_000


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
    """pystache with JSON-style coercion of non-string values."""

    def str_coerce(self, val: Any) -> str:
        if val is None:
            return ""
        if isinstance(val, bool):
            return "true" if val else "false"
        if isinstance(val, dict | list):
            return json.dumps(val, ensure_ascii=False)
        return str(val)


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


@lru_cache(maxsize=2048)
def _parse_mustache(template: str) -> tuple[ParsedTemplate, tuple[str, ...]]:
    try:
        parsed = mustache_parser.parse(template, raise_on_mismatch=True)
    except mustache_parser.ParsingError as exc:
        raise InvalidTemplateError(f"mustache syntax error: {exc}") from None
    found: dict[str, None] = {}
    _walk_mustache(parsed._parse_tree, 0, found)
    return parsed, tuple(found)


# --- jinja2 -------------------------------------------------------------------------------


class _SandboxEnvironment(ImmutableSandboxedEnvironment):
    """Sandboxed Jinja2 that also bounds `*` and `**`, so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > _MAX_EXPONENT:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
                if sized and len(seq) * n > _MAX_SEQUENCE:
                    raise SecurityError("repeated sequence too long")
        return super().call_binop(context, operator, left, right)


_JINJA = _SandboxEnvironment(
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
        return list(_parse_mustache(template)[1])
    if template_format == "jinja2":
        return list(_parse_jinja(template)[1])
    raise InvalidTemplateError(f"unknown template format {template_format!r}")


def render_template(template: str, template_format: str, variables: Mapping[str, Any]) -> str:
    """Render one template strictly; the caller has checked that required variables exist."""
    try:
        if template_format == "mustache":
            parsed, _ = _parse_mustache(template)
            return str(_MUSTACHE.render(parsed, dict(variables)))
        compiled, _ = _parse_jinja(template)
        return compiled.render(dict(variables))
    except KeyNotFoundError as exc:
        raise RenderError(f"variable not found while rendering: {exc}") from None
    except SecurityError as exc:
        raise RenderError(f"template refused by the sandbox: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"undefined value while rendering: {exc.message}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RenderError(f"template failed to render: {exc}") from None


def content_variables(content: PromptContent) -> list[str]:
    """Return the variables a prompt's templates need, in first-use order."""
    found: dict[str, None] = {}
    for template in content.templates():
        for name in template_variables(template, content.template_format):
            found.setdefault(name, None)
    return list(found)


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


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


def render_prompt(content: PromptContent, variables: Mapping[str, Any]) -> Rendered:
    """Render a prompt's content into ready-to-send messages."""
    needed = validate_variables(content, variables)
    fmt = content.template_format
    if content.kind == "text":
        text = render_template(content.template or "", fmt, variables)
        return Rendered(messages=[{"role": "user", "content": text}], text=text, variables=needed)
    messages = [
        Message(m.role, render_template(m.content, fmt, variables), m.name).as_dict()
        for m in content.messages
    ]
    return Rendered(messages=messages, variables=needed)


def messages_from_dicts(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Message, ...]:
    """Build Message templates from stored dicts."""
    return tuple(Message(str(m["role"]), str(m["content"]), m.get("name")) for m in raw or ())
