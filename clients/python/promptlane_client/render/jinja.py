"""Jinja2 templates, in the sandbox (promptlane_client.render.sandbox): strict, unescaped.

Imports, includes, extends and any `_`-prefixed attribute or item are refused when the
template is checked; everything else runs under the sandbox's budget checks.

A variable is optional when every use of it is guarded: given a default
(`{{ x | default("y") }}`), tested for definedness (`x is defined`, `x is undefined`), or
inside the branch such a test guards (`{% if x is defined %}…{% endif %}`, `{{ x if x is
defined else "y" }}`, the `else` of `x is undefined`). Any other use makes it required.
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


_DEFAULT_FILTERS: Final = frozenset({"default", "d"})
_DEFINEDNESS_TESTS: Final = {"defined": True, "undefined": False}


def _definedness(test: nodes.Node) -> dict[str, bool]:
    """Names `test` checks for definedness: name -> True for `is defined`, False for undefined.

    Only what holds when the whole test is true counts: a bare test, or the terms of an `and`.
    """
    if (
        isinstance(test, nodes.Test)
        and isinstance(test.node, nodes.Name)
        and test.name in _DEFINEDNESS_TESTS
    ):
        return {test.node.name: _DEFINEDNESS_TESTS[test.name]}
    if isinstance(test, nodes.And):
        return {**_definedness(test.left), **_definedness(test.right)}
    return {}


def _is_guard(node: nodes.Node) -> bool:
    """Say whether `node` is `name | default(...)` or `name is [un]defined` on a bare name."""
    return (
        isinstance(node, nodes.Filter | nodes.Test)
        and isinstance(node.node, nodes.Name)
        and (node.name in _DEFAULT_FILTERS or node.name in _DEFINEDNESS_TESTS)
    )


def _unguarded_names(node: nodes.Node, guarded: frozenset[str], found: set[str]) -> None:
    """Collect the names loaded in `node` outside a default, a definedness test or its branch."""
    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name not in guarded:
            found.add(node.name)
        return
    if _is_guard(node):
        assert isinstance(node, nodes.Filter | nodes.Test)
        for child in (*node.args, *(kw.value for kw in node.kwargs)):
            _unguarded_names(child, guarded, found)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                _unguarded_names(extra, guarded, found)
        return
    if isinstance(node, nodes.If | nodes.CondExpr):
        _guarded_branches(node, guarded, found)
        return
    for inner in node.iter_child_nodes():
        _unguarded_names(inner, guarded, found)


def _guarded_branches(
    node: nodes.If | nodes.CondExpr, guarded: frozenset[str], found: set[str]
) -> None:
    checks = _definedness(node.test)
    _unguarded_names(node.test, guarded, found)
    when_true = guarded | {name for name, defined in checks.items() if defined}
    when_false = guarded | {name for name, defined in checks.items() if not defined}
    if isinstance(node, nodes.CondExpr):
        _unguarded_names(node.expr1, when_true, found)
        if node.expr2 is not None:
            _unguarded_names(node.expr2, when_false, found)
        return
    for child in node.body:
        _unguarded_names(child, when_true, found)
    for branch in node.elif_:  # an elif runs only when the first test was false
        _guarded_branches(branch, when_false, found)
    for child in node.else_:
        _unguarded_names(child, when_false, found)


@lru_cache(maxsize=2048)
def jinja_required(template: str) -> tuple[str, ...]:
    """Return the top-level variables a Jinja2 template cannot render without."""
    names = parse_jinja(template)[1]
    found: set[str] = set()
    _unguarded_names(_JINJA.parse(template), frozenset(), found)
    return tuple(name for name in names if name in found)


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
