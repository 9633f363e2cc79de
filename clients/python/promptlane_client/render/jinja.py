"""Jinja2 templates, in the sandbox (promptlane_client.render.sandbox): strict, unescaped.

Imports, includes, extends and any `_`-prefixed attribute or item are refused when the
template is checked; everything else runs under the sandbox's budget checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

import jinja2
from jinja2 import meta, nodes

from promptlane_client.errors import InvalidTemplateError
from promptlane_client.render.budget import meter
from promptlane_client.render.content import check_key
from promptlane_client.render.sandbox import SandboxEnvironment

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
def parse_jinja(template: str) -> tuple[jinja2.Template, tuple[str, ...]]:
    """Parse and check a Jinja2 template (cached); return it and its top-level variables."""
    try:
        ast = _JINJA.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidTemplateError(
            f"jinja2 syntax error on line {exc.lineno}: {exc.message}"
        ) from None
    _check_jinja_ast(ast)
    names = tuple(sorted(meta.find_undeclared_variables(ast)))
    for name in names:
        check_key(name, nested=False)
    return _JINJA.from_string(ast), names


def render_jinja(template: str, variables: Mapping[str, Any]) -> str:
    """Render a Jinja2 template inside a running render, stopping once it is over budget."""
    compiled, _ = parse_jinja(template)
    running, parts = meter(), []
    for chunk in compiled.generate(dict(variables)):  # stop as soon as the output is too long
        running.emit(len(chunk))
        parts.append(chunk)
    return "".join(parts)
