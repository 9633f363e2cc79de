"""Strict input models: no control characters, integers the databases hold, no loose coercion.

Every request model derives from `StrictModel`: unknown fields are refused, and no string in
any field (nested dicts and lists included) may hold a C0 control character or DEL, except
tab, newline and carriage return; fields listed in `user_data` (dataset items, render
variables: text taken from elsewhere) refuse only NUL, which PostgreSQL cannot store. The
annotated types below bound integers to what PostgreSQL's `integer` (or `bigint`) holds and
refuse the coercions that would change behaviour (`"yes"` or `1` as a boolean, `false` or
`"0.5"` as a number).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationInfo, field_validator

INT_MAX: Final = 2**31 - 1  # PostgreSQL `integer`
BIGINT_MAX: Final = 2**63 - 1  # PostgreSQL `bigint`, SQLite's INTEGER
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Flag = Annotated[bool, Strict()]
Number = Annotated[float, Strict()]  # an int is a number; a bool or a string is not
Int = Annotated[int, Strict(), Field(ge=-INT_MAX - 1, le=INT_MAX)]
PositiveInt = Annotated[int, Strict(), Field(ge=1, le=INT_MAX)]
BigInt = Annotated[int, Strict(), Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (JSON pointer, text) for every string and key inside `value`."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            here = f"{path}/{key}"
            if isinstance(key, str):
                yield here, key
            yield from _strings(child, here)
    elif isinstance(value, list | tuple):
        for i, child in enumerate(value):
            yield from _strings(child, f"{path}/{i}")


def control_character(value: Any, *, nul_only: bool = False) -> tuple[str, str] | None:
    """Return (where, character) of the first forbidden character in `value`, or None."""
    for where, text in _strings(value, ""):
        if nul_only:
            if "\x00" in text:
                return where, "\x00"
        elif (found := _CONTROL.search(text)) is not None:
            return where, found.group()
    return None


class StrictModel(BaseModel):
    """A request model: unknown fields and control characters are refused."""

    model_config = ConfigDict(extra="forbid")

    # Fields holding text from elsewhere (items, variables): only NUL is refused there.
    user_data: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        found = control_character(value, nul_only=info.field_name in cls.user_data)
        if found is not None:
            where, char = found
            inside = f" at {where[1:]}" if where else ""
            raise ValueError(f"contains the control character U+{ord(char):04X}{inside}")
        return value
