"""What the safety scorers share: which side of a call they scan, and the strings in an input."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

Where = Literal["output", "input"]
WHERE: Final[tuple[Where, ...]] = ("output", "input")


def strings(value: Any) -> Iterator[str]:
    """Yield every string in a JSON-like value (an item's input), depth first.

    A chat message is read for its content only, and a system message not at all: the
    system prompt is the application's own text (online evaluation passes a call's messages
    as its input), not something sent to it.
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        if isinstance(value.get("role"), str):
            if value["role"] != "system":
                yield from strings(value.get("content"))
            return
        for child in value.values():
            yield from strings(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from strings(child)
