"""The sandboxed Jinja2 environment prompt templates run in, with every amplifier bounded.

On top of Jinja2's immutable sandbox: operators that can build a value much larger than their
inputs in one C call (`*`, `**`, `+`, `%`, `~`, list/tuple/dict literals sharing references)
are checked against the running render's budget (.budget) before they run, as
are methods, filters and globals (.guards); what they build is counted, so memory
stays bounded within a render's time limit. Nothing is evaluated at compile time
(`optimized=False`, a finalize that needs the context): every check runs within a budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import BuiltinMethodType, MethodType
from typing import Any, Final

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from promptlane_client.render.budget import meter
from promptlane_client.render.guards import (
    MAX_SEQUENCE,
    bounded_dumps,
    charge,
    check_text,
    counted,
    format_method,
    guarded_filter,
    guarded_method,
    join_filter,
    lipsum,
    printf_bound,
    sum_filter,
    wordwrap_filter,
)

_MAX_EXPONENT: Final = 1_000
_MAX_INT_BITS: Final = 100_000  # far past what str() prints (4300 digits); keeps C work short
_GUARDED_OWNERS: Final = (str, bytes, int, list, tuple, dict)


class _CodeGenerator(CodeGenerator):
    """Routes `~` and list, tuple and dict literals through the environment's checks."""

    # Jinja2's visitor names (visit_<Node>) are not ours to choose.
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        self.write("environment.join_values(context.eval_ctx, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:  # noqa: N802
        self.write("environment.built(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:  # noqa: N802
        if node.ctx != "load":  # an assignment target: `for a, b in ...`
            super().visit_Tuple(node, frame)
            return
        self.write("environment.built(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:  # noqa: N802
        self.write("environment.built(")
        super().visit_Dict(node, frame)
        self.write(")")


@jinja2.pass_eval_context
def _finalize(eval_ctx: Any, value: Any) -> Any:
    if type(value) is not str:
        check_text(value)  # str() of a container sharing references can be exponential
    return value


def _power(left: Any, right: Any) -> None:
    if isinstance(right, int):
        base = abs(left) if isinstance(left, int) else 0
        if abs(right) > _MAX_EXPONENT or (base > 1 and base.bit_length() * right > _MAX_INT_BITS):
            raise SecurityError("exponent too large")


def _product(left: Any, right: Any) -> None:
    for seq, n in ((left, right), (right, left)):
        sized = isinstance(seq, str | bytes | list | tuple) and isinstance(n, int)
        if sized and len(seq) * n > MAX_SEQUENCE:
            raise SecurityError("repeated sequence too long")
    both_ints = isinstance(left, int) and isinstance(right, int)
    if both_ints and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
        raise SecurityError("product too large")


def _plus(left: Any, right: Any) -> None:
    if type(left) is type(right) and isinstance(left, str | bytes):
        meter().allow(len(left) + len(right))
    elif (
        isinstance(left, list | tuple)
        and isinstance(right, list | tuple)
        and len(left) + len(right) > MAX_SEQUENCE
    ):
        raise SecurityError("concatenated sequence too long")


def _modulo(left: Any, right: Any) -> None:
    if isinstance(left, str | bytes):  # printf-style formatting, not a remainder
        meter().allow(printf_bound(left, right))


_BINOP_CHECKS: Final[dict[str, Callable[[Any, Any], None]]] = {
    "**": _power,
    "*": _product,
    "+": _plus,
    "%": _modulo,
}


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with every amplifying operation bounded by the budget."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _CodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(optimized=False, finalize=_finalize, **options)
        self.filters.update(join=join_filter, sum=sum_filter, wordwrap=wordwrap_filter)
        self.filters = {name: guarded_filter(name, f) for name, f in self.filters.items()}
        self.globals.update(lipsum=lipsum, dict=counted(dict), namespace=counted(Namespace))
        self.policies["json.dumps_function"] = bounded_dumps
        self.concat = self._concat  # type: ignore[method-assign]  # block sets, macros

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _BINOP_CHECKS[operator](left, right)
        result = self.binop_table[operator](left, right)
        charge(result)
        return result

    def getitem(self, obj: Any, argument: Any) -> Any:
        result = super().getitem(obj, argument)
        if type(argument) is slice:
            charge(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., Any] | None:
        if not isinstance(value, MethodType | BuiltinMethodType):
            return None
        owner = getattr(value, "__self__", None)
        # Class methods too: `{}.fromkeys(keys, value)` repeats `value` like `[value] * n`.
        is_class = isinstance(owner, type) and issubclass(owner, _GUARDED_OWNERS)
        if not (is_class or isinstance(owner, _GUARDED_OWNERS)):
            return None
        if not self.is_safe_attribute(owner, value.__name__, value):
            return None  # the sandbox refuses it, as it would have
        if value.__name__ in ("format", "format_map") and isinstance(owner, str):
            return format_method(self, value)
        return guarded_method(value)

    def join_values(self, eval_ctx: Any, values: tuple[Any, ...]) -> str:
        """Join the operands of `~`, refusing a result over the budget before it is built."""
        running = meter()
        limit = running.budget.max_chars
        running.allow(sum(running.size(v, limit) for v in values))
        result: str = (markup_join if eval_ctx.autoescape else str_join)(values)
        running.built(len(result))
        return result

    def built(self, value: Any) -> Any:
        """Count a list, tuple or dict literal, refusing one that is too long as text."""
        meter().built_container(value)
        return value

    def _concat(self, parts: Iterable[str]) -> str:
        running, total, kept = meter(), 0, []
        for part in parts:
            total += len(part)
            running.allow(total)
            kept.append(part)
        running.built(total)
        return "".join(kept)
