"""Render budgets, and the meter that keeps one render inside its budget's size limits.

A `RenderBudget` bounds what one render may produce (`max_chars`) and how long it may take
(`max_seconds`, enforced by the server's prompts.render_pool). While a render runs, a `Meter`
(held in a context variable) counts the output as it is produced and the intermediate values the
template builds; the sandbox's guards (.sandbox, .guards) ask it before any operation that could
build a large value in one C call, so a value over the budget is refused before it exists.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from jinja2.utils import Namespace

from promptlane_client.errors import RenderBudgetError

# Intermediate values a render may build in all, in multiples of its output limit: enough for
# templates that filter their variables a few times over, small enough to bound memory.
WORK_FACTOR: Final = 16
_UNKNOWN_SIZE: Final = 64  # str() of the runtime's own objects (loops, macros, ranges) is short
# Containers at least this long (as text) have their size remembered for the render; smaller
# ones are cheaper to measure again than to keep alive.
_REMEMBER_FROM: Final = 256


@dataclass(frozen=True, slots=True)
class RenderBudget:
    """How many characters one render may produce, and how many seconds it may take."""

    max_chars: int = 1_000_000
    max_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.max_chars < 1 or not self.max_seconds > 0:
            raise ValueError("a render budget needs max_chars >= 1 and max_seconds > 0")

    @property
    def max_work(self) -> int:
        """Return how many characters of intermediate values a render may build in all."""
        return self.max_chars * WORK_FACTOR


DEFAULT_BUDGET: Final = RenderBudget()


def output_error(budget: RenderBudget) -> RenderBudgetError:
    """Return the error for output over `max_chars`."""
    detail = f"the rendered prompt is longer than {budget.max_chars} characters"
    return RenderBudgetError(detail, limit="max_chars")


def value_error(budget: RenderBudget) -> RenderBudgetError:
    """Return the error for one intermediate value over `max_chars`."""
    detail = (
        f"the template builds a value longer than {budget.max_chars} characters "
        "(the render budget's output limit)"
    )
    return RenderBudgetError(detail, limit="max_chars")


def time_error(budget: RenderBudget) -> RenderBudgetError:
    """Return the error for a render that ran past `max_seconds`."""
    return RenderBudgetError(
        f"rendering took longer than {budget.max_seconds} s", limit="max_seconds"
    )


def _children(value: object) -> Iterable[object] | None:
    """Return what str(value) prints of a container's contents, or None for a leaf."""
    if isinstance(value, list | tuple | set | frozenset):
        return value
    if isinstance(value, Mapping):
        return itertools.chain.from_iterable(value.items())
    if isinstance(value, Namespace):
        attrs: dict[str, object] = object.__getattribute__(value, "_Namespace__attrs")
        return itertools.chain.from_iterable(attrs.items())
    if type(value) in _VIEWS:
        return value  # type: ignore[return-value]
    return None


_VIEWS: Final = frozenset({type({}.keys()), type({}.values()), type({}.items())})


class Meter:
    """One render's accounting: output so far, intermediate values built, container sizes."""

    __slots__ = ("_open", "_sizes", "budget", "output", "work")

    def __init__(self, budget: RenderBudget) -> None:
        self.budget = budget
        self.output = 0
        self.work = 0
        # id -> (the container, kept alive so its id is not reused; its str() length)
        self._sizes: dict[int, tuple[object, int]] = {}
        self._open: set[int] = set()

    def emit(self, chars: int) -> None:
        """Count `chars` characters of output; raise once the output passes the limit."""
        self.output += chars
        if self.output > self.budget.max_chars:
            raise output_error(self.budget)

    def allow(self, chars: int) -> None:
        """Refuse, before it is built, a value that would be longer than `max_chars`."""
        if chars > self.budget.max_chars:
            raise value_error(self.budget)

    def built(self, chars: int) -> None:
        """Count an intermediate value of `chars` characters (or items) the template built."""
        self.allow(chars)
        self.work += chars
        if self.work > self.budget.max_work:
            raise RenderBudgetError(
                f"the template builds more than {self.budget.max_work} characters of "
                f"intermediate values ({WORK_FACTOR} times the render budget's output limit)",
                limit="max_chars",
            )

    def built_container(self, value: object) -> None:
        """Refuse a container longer than `max_chars` as text; count its items as work.

        A container that holds one value many times (`[a, a]`, nested) is exponentially longer
        than the steps that built it, and so is the C-level work of printing, comparing or
        hashing it: bounding its length as text bounds them all.
        """
        if self.size(value, self.budget.max_chars) > self.budget.max_chars:
            raise value_error(self.budget)
        if isinstance(value, list | tuple | dict):
            self.built(len(value))

    def size(self, value: object, limit: int) -> int:
        """Return about how long str(value) is; counting stops soon after `limit`."""
        if isinstance(value, str):
            return len(value)
        return self._measure(value, limit)[0]

    def _measure(self, value: object, limit: int) -> tuple[int, bool]:
        """Return (about len(repr(value)), whether that may be cached for the render)."""
        if isinstance(value, str | bytes | bytearray):
            return len(value) + 3, True
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return 24, True
        if isinstance(value, int):
            return value.bit_length() // 3 + 2, True
        children = _children(value)
        if children is None:
            return _UNKNOWN_SIZE, True
        key = id(value)
        cached = self._sizes.get(key)
        if cached is not None:
            return cached[1], True
        if key in self._open:  # a namespace holding itself: repr prints "{...}"
            return 5, False
        return self._measure_children(value, children, limit)

    def _measure_children(
        self, value: object, children: Iterable[object], limit: int
    ) -> tuple[int, bool]:
        key = id(value)
        # Namespaces change as a template runs: neither they nor what holds them are cached.
        total, cacheable = 12, not isinstance(value, Namespace)
        self._open.add(key)
        try:
            for child in children:
                chars, ok = self._measure(child, limit - total)
                total += chars + 2
                cacheable = cacheable and ok
                if total > limit:
                    return total, False
        finally:
            self._open.discard(key)
        if cacheable and total >= _REMEMBER_FROM:
            self._sizes[key] = (value, total)
        return total, cacheable


_METER: ContextVar[Meter | None] = ContextVar("promptlane_render_meter", default=None)


def meter() -> Meter:
    """Return the running render's meter (a fresh default one outside a render)."""
    found = _METER.get()
    return found if found is not None else Meter(DEFAULT_BUDGET)


def is_metering() -> bool:
    """Say whether a render is being counted in this context."""
    return _METER.get() is not None


@contextmanager
def metering(budget: RenderBudget) -> Iterator[Meter]:
    """Count one render against `budget` (in this thread and context)."""
    running = Meter(budget)
    token = _METER.set(running)
    try:
        yield running
    finally:
        _METER.reset(token)
