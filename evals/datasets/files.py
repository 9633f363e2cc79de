"""Dataset files: parse JSON, JSONL and CSV into items, reporting every bad row at once.

CSV columns: `input.<var>` (or a bare `<var>`) are input variables, kept as text; `expected`
and `metadata.<key>` cells are JSON-decoded when they parse as JSON, else kept as text;
`contexts` is a JSON list of strings. Empty `expected`, `contexts` and `metadata.*` cells are
left out.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import ValidationError

from evals.errors import InvalidDatasetError
from evals.schemas import DatasetItemIn, DatasetVersionCreate
from promptlane_client.errors import FieldProblem

Format = Literal["json", "jsonl", "csv"]

_LISTED: Final = 20
_RESERVED_BARE: Final = frozenset({"input", "metadata"})


@dataclass(frozen=True)
class DatasetLimits:
    """Size limits on uploaded datasets."""

    max_items: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    max_problems: int = 1_000  # listed in one error; every bad row is still counted


@dataclass
class _Problems:
    """Collects the problems of every bad row; raises them together."""

    limits: DatasetLimits
    by_line: bool
    rows: dict[int, None] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, row: int, pointer: str, detail: str) -> None:
        self.rows[row] = None
        if len(self.problems) < self.limits.max_problems:
            self.problems.append(FieldProblem(pointer=pointer, detail=detail))

    def add_validation(self, row: int, pointer: str, exc: ValidationError) -> None:
        for error in exc.errors():
            path = "/".join(str(part) for part in error["loc"])
            if self.by_line:
                self.add(row, pointer, f"{path or 'item'}: {error['msg']}")
            else:
                self.add(row, f"{pointer}/{path}" if path else pointer, error["msg"])

    def raise_if_any(self) -> None:
        if not self.rows:
            return
        rows = list(self.rows)
        listed = ", ".join(str(r) for r in rows[:_LISTED])
        if len(rows) > _LISTED:
            listed += f" and {len(rows) - _LISTED} more"
        many = len(rows) > 1
        if self.by_line:
            what = f"bad row{'s' if many else ''} on line{'s' if many else ''} {listed}"
        else:
            what = f"bad item{'s' if many else ''} at index{'es' if many else ''} {listed}"
        detail = f"{len(rows)} {what}; nothing was stored"
        raise InvalidDatasetError(detail, errors=self.problems)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of the range of a float")
    return value


def _loads(text: str) -> Any:
    """Decode strict JSON (NaN and Infinity refused: they cannot be stored as JSON)."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite)


def _decode(data: bytes | str, limits: DatasetLimits) -> str:
    if len(data) > limits.max_bytes:
        raise InvalidDatasetError(f"the dataset is larger than {limits.max_bytes} bytes")
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = FieldProblem(pointer=f"line {line}", detail="not valid UTF-8")
        raise InvalidDatasetError(
            f"line {line} is not valid UTF-8; nothing was stored", errors=[problem]
        ) from None


def _too_many(limits: DatasetLimits, pointer: str) -> InvalidDatasetError:
    problem = FieldProblem(pointer=pointer, detail=f"item {limits.max_items + 1}")
    return InvalidDatasetError(f"more than {limits.max_items} items", errors=[problem])


def _item(raw: Any, row: int, pointer: str, problems: _Problems) -> DatasetItemIn | None:
    if not isinstance(raw, dict):
        problems.add(row, pointer, "expected an object with input, expected, contexts, metadata")
        return None
    try:
        return DatasetItemIn.model_validate(raw)
    except ValidationError as exc:
        problems.add_validation(row, pointer, exc)
        return None


# --- JSON ----------------------------------------------------------------------------------


def _load_json(text: str) -> Any:
    try:
        return _loads(text)
    except json.JSONDecodeError as exc:
        problem = FieldProblem(pointer=f"line {exc.lineno}", detail=exc.msg)
        raise InvalidDatasetError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            errors=[problem],
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidDatasetError(f"not valid JSON: {exc}") from None


def _json_items(doc: Any, limits: DatasetLimits) -> list[DatasetItemIn]:
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        rows, prefix = doc["items"], "#/items"
    elif isinstance(doc, list):
        rows, prefix = doc, "#"
    else:
        raise InvalidDatasetError('expected a JSON list of items or {"items": [...]}')
    if len(rows) > limits.max_items:
        raise _too_many(limits, f"{prefix}/{limits.max_items}")
    problems = _Problems(limits, by_line=False)
    items = [_item(raw, i, f"{prefix}/{i}", problems) for i, raw in enumerate(rows)]
    problems.raise_if_any()
    return [item for item in items if item is not None]


# --- JSONL ---------------------------------------------------------------------------------


def _jsonl_items(text: str, limits: DatasetLimits) -> list[DatasetItemIn]:
    problems = _Problems(limits, by_line=True)
    items: list[DatasetItemIn] = []
    count = 0
    # Split on "\n" only: str.splitlines() would also split inside strings at U+2028 etc.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        count += 1
        if count > limits.max_items:
            raise _too_many(limits, f"line {number}")
        try:
            raw = _loads(line)
        except json.JSONDecodeError as exc:
            problems.add(
                number, f"line {number}", f"not valid JSON: {exc.msg} (column {exc.colno})"
            )
            continue
        except (ValueError, RecursionError) as exc:
            problems.add(number, f"line {number}", f"not valid JSON: {exc}")
            continue
        item = _item(raw, number, f"line {number}", problems)
        if item is not None:
            items.append(item)
    problems.raise_if_any()
    return items


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    kind: str  # input, expected, contexts or metadata
    key: str = ""
    typed: bool = False  # `:json`: the cell is JSON, not text
    header: str = ""


_TYPE_SUFFIX: Final = ":json"


def _column(name: str) -> _Column | str:
    """Return the column a header cell declares, or what is wrong with it."""
    base, colon, kind = name.rpartition(":")
    typed = bool(colon)
    if typed and f":{kind}" != _TYPE_SUFFIX:
        return f"column {name!r}: unknown type {kind!r} (the one type is {_TYPE_SUFFIX})"
    if not typed:
        base = name
    if base in ("expected", "contexts"):
        return _Column(base, "", typed or base == "contexts", name)
    prefix, dot, key = base.partition(".")
    if dot and prefix in _RESERVED_BARE:
        return (
            _Column(prefix, key, typed, name)
            if key
            else f"column {name!r} needs a name after the dot"
        )
    if base in _RESERVED_BARE:
        return f"column {name!r} is ambiguous: use {base}.<name> columns"
    return _Column("input", base, typed, name) if base else "a column has no name"


def _columns(header: list[str]) -> list[_Column]:
    columns: list[_Column] = []
    problems = []
    for cell in header:
        column = _column(cell.strip())
        if isinstance(column, str):
            problems.append(column)
        elif any((c.kind, c.key) == (column.kind, column.key) for c in columns):
            problems.append(f"column {cell.strip()!r} appears twice")
        else:
            columns.append(column)
    if problems:
        raise InvalidDatasetError(
            f"bad CSV header on line 1: {'; '.join(problems)}; nothing was stored",
            errors=[FieldProblem(pointer="line 1", detail=p) for p in problems],
        )
    return columns


def _cell_value(column: _Column, cell: str) -> Any:
    if not column.typed:
        return cell
    try:
        return _loads(cell)
    except (ValueError, RecursionError):
        what = "a JSON list of strings" if column.kind == "contexts" else "JSON"
        raise ValueError(f"column {column.header!r}: the cell is not {what}") from None


def _csv_raw(columns: list[_Column], row: list[str]) -> dict[str, Any]:
    """Return the item a record describes; raise ValueError naming a typed cell that is not JSON."""
    raw: dict[str, Any] = {"input": {}, "metadata": {}}
    for column, cell in zip(columns, row, strict=True):
        if column.kind == "input":
            raw["input"][column.key] = _cell_value(column, cell)
        elif cell.strip() == "":
            continue
        elif column.kind == "metadata":
            raw["metadata"][column.key] = _cell_value(column, cell)
        else:
            raw[column.kind] = _cell_value(column, cell)
    return raw


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) of each non-blank record after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        problem = FieldProblem(pointer=f"line {start}", detail=str(exc))
        raise InvalidDatasetError(
            f"bad CSV on line {start}: {exc}; nothing was stored", errors=[problem]
        ) from None


def _csv_items(text: str, limits: DatasetLimits) -> list[DatasetItemIn]:
    rows = _csv_rows(text)
    first = next(rows, None)
    if first is None:
        raise InvalidDatasetError("the CSV has no header row")
    columns = _columns(first[1])
    problems = _Problems(limits, by_line=True)
    items: list[DatasetItemIn] = []
    for count, (number, row) in enumerate(rows, start=1):
        if count > limits.max_items:
            raise _too_many(limits, f"line {number}")
        if len(row) != len(columns):
            detail = f"{len(row)} cell(s), but the header has {len(columns)} column(s)"
            problems.add(number, f"line {number}", detail)
            continue
        try:
            raw = _csv_raw(columns, row)
        except ValueError as exc:
            problems.add(number, f"line {number}", str(exc))
            continue
        item = _item(raw, number, f"line {number}", problems)
        if item is not None:
            items.append(item)
    problems.raise_if_any()
    return items


# --- entry points --------------------------------------------------------------------------


def parse_items(
    data: bytes | str, *, fmt: Format, limits: DatasetLimits = DatasetLimits()
) -> list[DatasetItemIn]:
    """Parse a JSON, JSONL or CSV document into items; raise naming every bad row."""
    text = _decode(data, limits)
    if fmt == "json":
        items = _json_items(_load_json(text), limits)
    elif fmt == "jsonl":
        items = _jsonl_items(text, limits)
    else:
        items = _csv_items(text, limits)
    if not items:
        raise InvalidDatasetError("the dataset has no items")
    return items


def parse_version(
    data: bytes | str,
    *,
    fmt: Format,
    message: str = "",
    description: str | None = None,
    limits: DatasetLimits = DatasetLimits(),
) -> DatasetVersionCreate:
    """Parse an upload into a version; a JSON object's `message`/`description` win."""
    fields: dict[str, Any] = {"message": message, "description": description}
    if fmt == "json":
        doc = _load_json(_decode(data, limits))
        items = _json_items(doc, limits)
        if isinstance(doc, dict):
            fields.update({k: v for k, v in doc.items() if k != "items"})
    else:
        items = parse_items(data, fmt=fmt, limits=limits)
    try:
        return DatasetVersionCreate.model_validate({**fields, "items": items})
    except ValidationError as exc:
        problems = [
            FieldProblem(pointer="#/" + "/".join(map(str, e["loc"])), detail=e["msg"])
            for e in exc.errors()
        ]
        first = problems[0]
        raise InvalidDatasetError(f"{first.pointer}: {first.detail}", errors=problems) from None
