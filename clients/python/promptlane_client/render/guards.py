"""Guards for what a Jinja2 template can call: str.format, str/bytes methods, filters, globals.

Each guard checks, before the call, that what it would build fits the running render's budget
(.budget): a width, a replacement or a join that would build a value longer than
`max_chars` in one C call is refused before it exists. What calls build is counted as the
render's intermediate work. .sandbox installs the guards.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from string import Formatter
from typing import Any, Final

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter, sync_do_join
from jinja2.sandbox import SandboxedFormatter
from jinja2.utils import generate_lorem_ipsum
from markupsafe import EscapeFormatter, Markup

from promptlane_client.render.budget import meter

MAX_SEQUENCE: Final = 100_000
_HUGE: Final = 10**12  # what a width written with 10+ digits counts as
_PRINTF: Final = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS: Final = re.compile(r"\d+")
# Filters that hand back a value that already exists: nothing new to count.
_SELECTING: Final = frozenset({"first", "last", "random", "default", "d", "attr", "min", "max"})


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 10 else _HUGE


def check_text(value: Any) -> None:
    """Refuse a value whose str() would be longer than the budget allows."""
    if not isinstance(value, str):
        running = meter()
        running.allow(running.size(value, running.budget.max_chars))


def text_of(value: Any) -> str:
    """Return str(value), refusing first a container whose text is over the budget."""
    check_text(value)
    return value if isinstance(value, str) else str(value)


def charge(result: Any) -> None:
    """Count a value the template built (text, or a container by its items)."""
    if isinstance(result, str | bytes):
        meter().built(len(result))
    elif isinstance(result, list | tuple | dict):
        meter().built_container(result)


def printf_bound(fmt: str | bytes, args: Any) -> int:
    """Return an upper bound on len(fmt % args): widths and precisions are taken at their word."""
    running = meter()
    total = len(fmt) + running.size(args, running.budget.max_chars)
    starred = False
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    for width, precision in _PRINTF.findall(text):
        for part in (width, precision):
            starred = starred or part == "*"
            total += _number(part) if part and part != "*" else 0
    if starred:  # `*` takes its width from the arguments: count every integer among them
        values = args if isinstance(args, tuple) else (args,)
        total += sum(abs(v) for v in values if isinstance(v, int))
    return total


# --- str.format ---------------------------------------------------------------------------


class _BoundedFormatter(SandboxedFormatter):
    """The sandbox's str.format, refusing fields whose width or text is over the budget."""

    def __init__(self, env: jinja2.Environment, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self._total = 0

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            check_text(value)  # repr() and ascii() of a container are as long as its str()
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        running = meter()
        width = sum(_number(d) for d in _DIGITS.findall(format_spec))
        running.allow(running.size(value, running.budget.max_chars) + width)
        text = super().format_field(value, format_spec)
        self._total += len(text)
        running.allow(self._total)
        return text


class _BoundedEscapeFormatter(_BoundedFormatter, EscapeFormatter):
    """The bounded formatter for Markup strings (fields are escaped)."""


def format_method(env: jinja2.Environment, method: Any) -> Callable[..., str]:
    """Return a str's `format` or `format_map`, sandboxed and bounded."""
    owner: str = method.__self__
    is_map = method.__name__ == "format_map"

    def format_bounded(*args: Any, **kwargs: Any) -> str:
        if is_map:
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one positional argument")
            kwargs = args[0]
            args = ()
        formatter: Formatter = (
            _BoundedEscapeFormatter(env, escape=owner.escape)
            if isinstance(owner, Markup)
            else _BoundedFormatter(env)
        )
        result = type(owner)(formatter.vformat(owner, args, kwargs))
        charge(result)
        return result

    return format_bounded


# --- str, bytes and int methods -----------------------------------------------------------


def _width(owner: Any, width: Any = 0, *_: Any) -> None:
    if isinstance(width, int):
        meter().allow(width)


def _expandtabs(owner: Any, tabsize: Any = 8) -> None:
    if isinstance(tabsize, int):
        tab = b"\t" if isinstance(owner, bytes) else "\t"
        meter().allow(len(owner) + owner.count(tab) * tabsize)


def replace_bound(s: Any, old: Any, new: Any, count: Any = -1) -> int:
    """Return an upper bound on len(s.replace(old, new, count))."""
    grow = len(new) - len(old)
    if grow <= 0:
        return len(s)
    found = len(s) + 1 if not old else s.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(s) + found * grow


def _replace(owner: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes):
        meter().allow(replace_bound(owner, old, new, count))


def _translate(owner: Any, table: Any) -> None:
    values: Iterable[Any] = ()
    if isinstance(table, Mapping):
        values = table.values()
    elif isinstance(table, list | tuple):
        values = table
    longest = max((len(v) for v in values if isinstance(v, str | bytes)), default=1)
    meter().allow(len(owner) * longest)


def _to_bytes(owner: Any, length: Any = 1, *_: Any, **__: Any) -> None:
    if isinstance(length, int):
        meter().allow(length)


_METHOD_CHECKS: Final[Mapping[str, Callable[..., None]]] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "translate": _translate,
    "to_bytes": _to_bytes,
}


def guarded_method(method: Any) -> Callable[..., Any]:
    """Return a str, bytes, int or container method that checks its arguments and result."""
    owner, name = method.__self__, method.__name__
    check = _METHOD_CHECKS.get(name)

    def call_bounded(*args: Any, **kwargs: Any) -> Any:
        if name == "join" and args and isinstance(owner, str | bytes):
            items = list(args[0])
            sizes = sum(len(i) for i in items if isinstance(i, str | bytes))
            meter().allow(sizes + len(owner) * max(len(items) - 1, 0))
            args = (items, *args[1:])
        elif check is not None:
            check(owner, *args, **kwargs)
        result = method(*args, **kwargs)
        charge(result)
        return result

    return call_bounded


# --- filters and globals ------------------------------------------------------------------


@jinja2.pass_eval_context
def join_filter(eval_ctx: Any, value: Iterable[Any], d: Any = "", attribute: Any = None) -> str:
    """Jinja2's join, refusing a result over the budget before it is joined."""
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = list(value)
    running = meter()
    limit = running.budget.max_chars
    total = running.size(d, limit) * max(len(items) - 1, 0)
    for item in items:
        total += running.size(item, limit)
        running.allow(total)
    return sync_do_join(eval_ctx, items, d)


@jinja2.pass_environment
def sum_filter(
    env: jinja2.Environment, iterable: Iterable[Any], attribute: Any = None, start: Any = 0
) -> Any:
    """Jinja2's sum; lists and tuples are concatenated one bounded step at a time."""
    if attribute is not None:
        iterable = map(make_attrgetter(env, attribute), iterable)
    items = list(iterable)
    if not isinstance(start, list | tuple) and not any(isinstance(i, list | tuple) for i in items):
        return sum(items, start)  # numbers (and sum()'s own refusal of strings)
    # Sequences: added one at a time, so each step is bounded and can be interrupted.
    total = start
    for item in items:
        total = env.call_binop(None, "+", total, item)  # type: ignore[attr-defined]
    return total


@jinja2.pass_environment
def wordwrap_filter(
    env: jinja2.Environment,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """Jinja2's wordwrap, refusing output over the budget before it is joined."""
    if wrapstring is None:
        wrapstring = env.newline_sequence
    running, total, paragraphs = meter(), 0, []
    for line in s.splitlines():
        lines = textwrap.wrap(
            line,
            width=width,
            expand_tabs=False,
            replace_whitespace=False,
            break_long_words=break_long_words,
            break_on_hyphens=break_on_hyphens,
        )
        total += sum(map(len, lines)) + len(wrapstring) * (len(lines) + 1)
        running.allow(total)
        paragraphs.append(wrapstring.join(lines))
    return wrapstring.join(paragraphs)


def _indent_check(s: Any, width: Any = 4, first: Any = False, blank: Any = False) -> None:
    if isinstance(s, str) and isinstance(width, int | str):
        step = width if isinstance(width, int) else len(width)
        meter().allow(len(s) + 1 + (len(s.splitlines()) + 1) * step)


def _center_check(value: Any, width: Any = 80) -> None:
    check_text(value)
    _width(value, width)


def _replace_check(s: Any, old: Any, new: Any, count: Any = None) -> None:
    meter().allow(
        replace_bound(text_of(s), text_of(old), text_of(new), -1 if count is None else count)
    )


def _format_check(value: Any, *args: Any, **kwargs: Any) -> None:
    meter().allow(printf_bound(text_of(value), kwargs or args))


def _batch_check(value: Any, linecount: Any, fill_with: Any = None) -> None:
    if fill_with is not None and isinstance(linecount, int) and linecount > MAX_SEQUENCE:
        raise SecurityError("batch too long")


def _value_check(value: Any, *_: Any, **__: Any) -> None:
    check_text(value)


def bounded_dumps(obj: Any, **kwargs: Any) -> str:
    """json.dumps for `tojson`, refusing output over the budget as it is encoded."""
    check_text(obj)
    if kwargs.get("indent") is None:
        return json.dumps(obj, **kwargs)
    running, total, chunks = meter(), 0, []
    for chunk in json.JSONEncoder(**kwargs).iterencode(obj):  # indented: encoded in Python
        total += len(chunk)
        running.allow(total)
        chunks.append(chunk)
    return "".join(chunks)


_FILTER_CHECKS: Final[Mapping[str, Callable[..., None]]] = {
    "center": _center_check,
    "indent": _indent_check,
    "replace": _replace_check,
    "format": _format_check,
    "batch": _batch_check,
    "string": _value_check,
    "pprint": _value_check,
}


def guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Return filter `name` checking its arguments first and counting what it builds."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    check = _FILTER_CHECKS.get(name)
    counts = name not in _SELECTING

    @wraps(func)  # keeps `jinja_pass_arg`: the filter still gets its context
    def filter_bounded(*args: Any, **kwargs: Any) -> Any:
        if check is not None:
            check(*args[skip:], **kwargs)
        result = func(*args, **kwargs)
        if counts and (len(args) <= skip or result is not args[skip]):
            charge(result)
        return result

    return filter_bounded


def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja2's lipsum, refusing more text than the budget allows."""
    if isinstance(n, int) and isinstance(max, int):
        meter().allow(n * max * 12)  # words are at most 11 letters and a space
    result: str = generate_lorem_ipsum(n=n, html=html, min=min, max=max)
    charge(result)
    return result


def counted(build: Callable[..., Any]) -> Callable[..., Any]:
    """Return `build` (dict, namespace) refusing a result too long as text."""

    def build_counted(*args: Any, **kwargs: Any) -> Any:
        result = build(*args, **kwargs)
        meter().built_container(result)
        return result

    return build_counted
