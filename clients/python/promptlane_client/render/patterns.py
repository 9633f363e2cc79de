"""Regular expressions that users write, matched within a time limit.

A writer's pattern (a `regex` scorer, an injection marker, a JSON Schema `pattern` in a
variables schema or a `json_schema` scorer) meets text it did not choose: a model's answer, a
caller's variables. Python's `re` has no bound on backtracking (`(a+)+$` against forty `a`s
and a `b` runs for hours) and holds the GIL while it runs, so no watchdog could stop it. The
`regex` package matches the same syntax and takes a timeout: a search that runs out of time
raises PatternTimeoutError, which callers turn into a clear refusal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, Final

import regex

from promptlane_client.errors import PatternTimeoutError

SEARCH_SECONDS: Final = 0.1  # a real pattern on a real text takes microseconds
IGNORECASE: Final = int(regex.IGNORECASE)
MULTILINE: Final = int(regex.MULTILINE)
DOTALL: Final = int(regex.DOTALL)
PatternError = regex.error


@lru_cache(maxsize=1024)
def compile_pattern(source: str, flags: int = 0) -> regex.Pattern[str]:
    """Compile a user's pattern (raises PatternError when it is not one)."""
    return regex.compile(source, flags | regex.VERSION0)


def _timed_out(pattern: regex.Pattern[str]) -> PatternTimeoutError:
    shown = pattern.pattern if len(pattern.pattern) <= 60 else pattern.pattern[:57] + "..."
    return PatternTimeoutError(
        f"the pattern /{shown}/ took longer than {SEARCH_SECONDS} s on its text: "
        "simplify it (nested repetition such as (a+)+ backtracks without end)"
    )


def search(pattern: regex.Pattern[str], text: str) -> regex.Match[str] | None:
    """Search `text`; raise PatternTimeoutError when it takes too long."""
    try:
        return pattern.search(text, timeout=SEARCH_SECONDS)
    except TimeoutError:
        raise _timed_out(pattern) from None


def fullmatch(pattern: regex.Pattern[str], text: str) -> regex.Match[str] | None:
    """Match the whole of `text`; raise PatternTimeoutError when it takes too long."""
    try:
        return pattern.fullmatch(text, timeout=SEARCH_SECONDS)
    except TimeoutError:
        raise _timed_out(pattern) from None


# --- JSON Schema ----------------------------------------------------------------------------


def _pattern(
    validator: Any, source: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    from jsonschema import ValidationError  # loaded already: a validator is calling

    if not validator.is_type(instance, "string"):
        return
    try:
        found = search(compile_pattern(source), instance)
    except PatternError:
        yield ValidationError(f"{source!r} is not a regular expression")
        return
    if found is None:
        yield ValidationError(f"{instance!r} does not match {source!r}")


def _schemas(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for child in node.values():
            yield from _schemas(child)
    elif isinstance(node, list):
        for child in node:
            yield from _schemas(child)


def schema_pattern_problem(schema: Mapping[str, Any]) -> str | None:
    """Say why a schema's patterns cannot be used (None: they can)."""
    for node in _schemas(schema):
        if "patternProperties" in node:
            # Its keys are matched by jsonschema's own `re` searches, without a time limit.
            return "patternProperties is not supported: use properties or propertyNames"
        source = node.get("pattern")
        if isinstance(source, str):
            try:
                compile_pattern(source)
            except PatternError as exc:
                return f"pattern {source!r} is not a regular expression: {exc}"
    return None


@lru_cache(maxsize=1)
def _bounded_validator_class() -> Any:
    # jsonschema is imported on first use: the client pays for it only when a version has a
    # variables schema (importing it costs about a quarter of the client's import time).
    from jsonschema import Draft202012Validator, validators

    extend: Any = validators.extend
    return extend(Draft202012Validator, {"pattern": _pattern})


def bounded_validator(schema: Mapping[str, Any]) -> Any:
    """Return a Draft 2020-12 validator whose `pattern` keyword is matched within the time limit.

    `pattern` is the only keyword left that runs a user's regex on instance data once
    patternProperties is refused (schema_pattern_problem).
    """
    return _bounded_validator_class()(schema)
