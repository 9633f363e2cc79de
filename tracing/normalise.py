r"""Generation rows made storable: the one normaliser every row passes before its INSERT.

Whichever source built a row (the gateway, an eval run, OTLP ingest), what PostgreSQL or SQLite
would refuse is fixed here, by rules read from the table's own metadata:

- NUL characters are removed from every string, JSON included (keys too): PostgreSQL refuses
  them in text, and in JSONB even escaped as `\u0000`;
- strings are cut to their column's declared length (`String(n)`; `Text` is not cut);
- integers are clamped to their column's range, the same on every database (`Integer` is
  32-bit on PostgreSQL, `BigInteger` 64-bit, `SmallInteger` 16-bit);
- non-finite floats become null (JSON has no NaN or Infinity, and one NaN cost would turn
  PostgreSQL's sums into NaN), or 0.0 in a column that takes no null; so does an integer
  beyond any float in a float column;
- JSON nested deeper than `MAX_JSON_DEPTH` is cut there (null); values JSON cannot hold become
  text.

Rows are dicts; the input is never changed. Most rows need no fix, so every check is a cheap
test before any copy.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

import sqlalchemy as sa

from tracing.models import Generation

MAX_JSON_DEPTH: Final = 64
NUL: Final = "\x00"
_BITS: Final = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))  # subclasses first
_JSON_LEAVES: Final = frozenset({int, bool, type(None)})
_FLOAT_MAX: Final = sys.float_info.max


@dataclass(frozen=True, slots=True)
class Columns:
    """What each column of a table accepts, by kind: the normaliser's rules for it."""

    strings: tuple[tuple[str, int | None], ...]  # (name, declared length or None)
    integers: tuple[tuple[str, int, int], ...]  # (name, low, high)
    floats: tuple[tuple[str, float | None], ...]  # (name, what replaces a non-finite value)
    json: tuple[str, ...]


def _kind(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    type_ = column.type
    return type_.impl_instance if isinstance(type_, sa.TypeDecorator) else type_


def columns_of(table: sa.Table) -> Columns:
    """Return the normaliser's rules for `table`, from its column types."""
    strings, integers, floats, json = [], [], [], []
    for column in table.columns:
        kind = _kind(column)
        if isinstance(kind, sa.JSON):
            json.append(column.name)
        elif isinstance(kind, sa.String):
            strings.append((column.name, kind.length))
        elif isinstance(kind, sa.Float):
            floats.append((column.name, None if column.nullable else 0.0))
        elif isinstance(kind, sa.Integer) and not isinstance(kind, sa.Boolean):
            bits = next(b for t, b in _BITS if isinstance(kind, t))
            integers.append((column.name, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    return Columns(tuple(strings), tuple(integers), tuple(floats), tuple(json))


GENERATIONS: Final = columns_of(cast(sa.Table, Generation.__table__))  # type: ignore[attr-defined]


def _text(value: Any, limit: int | None) -> str:
    text = value if type(value) is str else str(value)
    if NUL in text:
        text = text.replace(NUL, "")
    return text[:limit] if limit is not None else text


def _key(key: Any) -> str:
    if type(key) is str and NUL not in key:
        return key
    return _text(key, None)


def _needs_fix(value: Any, depth: int) -> bool:
    """Say whether `value` must change to be stored as JSON (most values need not: no copy)."""
    kind = type(value)
    if kind is str:
        return NUL in value
    if kind in _JSON_LEAVES:
        return False
    if kind is float:
        return not math.isfinite(value)
    if depth >= MAX_JSON_DEPTH:
        return True
    if kind is dict:
        return _keys_need_fix(value) or _items_need_fix(value.values(), depth)
    return kind is not list or _items_need_fix(value, depth)  # tuples, objects: rebuilt


def _keys_need_fix(mapping: dict[Any, Any]) -> bool:
    # A loop, not any(): half the cost on the small dicts most rows hold (no generator).
    for key in mapping:  # noqa: SIM110
        if type(key) is not str or NUL in key:
            return True
    return False


def _items_need_fix(items: Iterable[Any], depth: int) -> bool:
    # Leaves inline: this loop is the cost of a clean row's JSON (a call per item doubles it).
    for item in items:
        kind = type(item)
        if kind is str:
            if NUL in item:
                return True
        elif kind is float:
            if not math.isfinite(item):
                return True
        elif kind not in _JSON_LEAVES and _needs_fix(item, depth + 1):
            return True
    return False


def _json(value: Any, depth: int) -> Any:
    """Return `value` as JSON PostgreSQL's JSONB and SQLite both store."""
    kind = type(value)
    if kind is str:
        return value.replace(NUL, "") if NUL in value else value
    if kind in _JSON_LEAVES:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if depth >= MAX_JSON_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {_key(k): _json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item, depth + 1) for item in value]
    if isinstance(value, bool | int):
        return bool(value) if isinstance(value, bool) else int(value)
    if isinstance(value, float):
        return _json(float(value), depth)
    return _text(value, None)


def _fix_text(row: dict[str, Any], strings: tuple[tuple[str, int | None], ...]) -> None:
    for name, limit in strings:
        value = row.get(name)
        if value is None:
            continue
        if type(value) is not str or NUL in value or (limit is not None and len(value) > limit):
            row[name] = _text(value, limit)


def _fix_numbers(row: dict[str, Any], columns: Columns) -> None:
    for name, low, high in columns.integers:
        value = row.get(name)
        if type(value) is int and not low <= value <= high:
            row[name] = low if value < low else high
    for name, replacement in columns.floats:
        number: Any = row.get(name)
        kind = type(number)
        if (kind is float and not math.isfinite(number)) or (
            kind is int and not -_FLOAT_MAX <= number <= _FLOAT_MAX  # as good as infinite
        ):
            row[name] = replacement


def normalise_row(row: Mapping[str, Any], columns: Columns = GENERATIONS) -> dict[str, Any]:
    """Return a copy of `row` that its table stores as it is on PostgreSQL and SQLite."""
    out = dict(row)
    _fix_text(out, columns.strings)
    _fix_numbers(out, columns)
    for name in columns.json:
        value = out.get(name)
        if value is not None and _needs_fix(value, 0):
            out[name] = _json(value, 0)
    return out
