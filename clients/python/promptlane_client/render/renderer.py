"""The one prompt renderer, shared by the server, evals, the client and the gateway.

Mustache (logic-less, via pystache: promptlane_client.render.mustache) and Jinja2 (sandboxed,
every amplifying operation bounded: .jinja, .sandbox, .guards) templates, both strict: a
variable the template needs but was not given is an error, and nothing is HTML-escaped. Every
render counts its output against a `RenderBudget` (.budget) as it is produced; the server
renders through prompts.render_pool.render_prompt_async, which also enforces its time limit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

import jinja2
from jinja2.exceptions import SecurityError
from pystache.context import KeyNotFoundError

from promptlane_client.errors import (
    FieldProblem,
    InvalidTemplateError,
    InvalidVariablesError,
    MissingVariablesError,
    RenderError,
)
from promptlane_client.render.budget import DEFAULT_BUDGET, RenderBudget, is_metering, metering
from promptlane_client.render.content import Message, PromptContent, Rendered
from promptlane_client.render.jinja import jinja_required, parse_jinja, render_jinja
from promptlane_client.render.mustache import parse_mustache, render_mustache
from promptlane_client.render.patterns import bounded_validator, schema_pattern_problem

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


def template_variables(template: str, template_format: str) -> list[str]:
    """Check a template and return the top-level variables it needs, in first-use order."""
    if template_format == "mustache":
        return list(parse_mustache(template).variables)
    if template_format == "jinja2":
        return list(parse_jinja(template)[1])
    raise InvalidTemplateError(f"unknown template format {template_format!r}")


def is_linear(content: PromptContent) -> bool:
    """Say whether rendering `content` is linear in its size (mustache without sections)."""
    if content.template_format != "mustache":
        return False
    return not any(parse_mustache(t).loops for t in content.templates())


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
            return render_mustache(template, variables)
        return render_jinja(template, variables)
    except KeyNotFoundError as exc:
        raise RenderError(f"variable not found while rendering: {exc}") from None
    except SecurityError as exc:
        raise RenderError(f"template refused by the sandbox: {exc}") from None
    except jinja2.UndefinedError as exc:
        hint = " (an optional variable needs `| default(...)` or `is defined`)"
        raise RenderError(f"undefined value while rendering: {exc.message}{hint}") from None
    except RecursionError:
        raise RenderError("the template recurses or nests too deeply") from None
    except _RENDER_FAILURES as exc:
        raise RenderError(f"template failed to render: {exc}") from None


def required_variables(content: PromptContent) -> list[str]:
    """Return the variables a render cannot do without, in first-use order.

    Every mustache variable, and every Jinja2 variable used unguarded (.jinja says which uses
    are guarded), unless the variables schema lists it in `properties` and leaves it out of
    `required`.
    """
    optional = schema_optional(content.variables_schema)
    found: dict[str, None] = {}
    for template in content.templates():
        if content.template_format == "jinja2":
            names: Sequence[str] = jinja_required(template)
        else:
            names = template_variables(template, content.template_format)
        for name in names:
            if name not in optional:
                found.setdefault(name, None)
    return list(found)


def schema_optional(schema: Mapping[str, Any] | None) -> frozenset[str]:
    """Return the variables a schema declares in `properties` but does not require."""
    properties = (schema or {}).get("properties")
    if not isinstance(properties, Mapping):
        return frozenset()
    required = (schema or {}).get("required")
    required_names = set(required) if isinstance(required, list) else set()
    return frozenset(name for name in properties if name not in required_names)


def with_defaults(content: PromptContent, variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """Fill the optional variables left out: the schema's `default`, else (mustache) empty.

    A Jinja2 template handles an optional variable itself (`default`, `is defined`); a
    mustache variable left out renders as empty and its sections are skipped, as in the spec.
    """
    schema = content.variables_schema or {}
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    missing = [n for n in sorted(schema_optional(content.variables_schema)) if n not in variables]
    if not missing or not isinstance(properties, Mapping):
        return variables
    filled = dict(variables)
    for name in missing:
        prop = properties.get(name)
        if isinstance(prop, Mapping) and "default" in prop:
            filled[name] = copy.deepcopy(prop["default"])
        elif content.template_format == "mustache":
            filled[name] = ""
    return filled


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
    return bounded_validator(schema)


def check_variables_schema(schema: Mapping[str, Any]) -> None:
    """Raise InvalidTemplateError unless `schema` is a valid JSON Schema for variables."""
    from jsonschema import Draft202012Validator  # the server's check: the client never runs it

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
    missing = [name for name in required_variables(content) if name not in variables]
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
    the server's prompts.render_pool.render_prompt_async.
    """
    needed = validate_variables(content, variables)
    variables = with_defaults(content, variables)
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
