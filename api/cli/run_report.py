"""How `eval show --failed`, `eval compare` and the JUnit report describe a run's items.

A failed item is told the way one debugs it: its input, the expected value, the output, and
each failing score with its reason (or the error that kept it from being scored). Long values
are shortened to `CLIP` characters unless `--wide` asks for them whole (`--json` always has
them whole).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from api.cli._common import console, plural, print_table
from evals.reports import ItemDelta, RunComparison, RunItemRead, ScoreEntry

CLIP: Final = 300


def fmt(value: Any) -> str:
    """Return a number (4 significant digits) or a value as a table cell; None is `-`."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def as_json(value: Any) -> str:
    """Return `value` as compact JSON (so the string "788" and the number 788 differ)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def clip(text: str, *, wide: bool) -> str:
    """Return `text` shortened to CLIP characters unless `wide`."""
    if wide or len(text) <= CLIP:
        return text
    return text[: CLIP - 1] + f"… ({len(text):,} characters; --wide shows all)"


def score_lines(item: RunItemRead) -> list[tuple[str, str]]:
    """Return (metric, what went wrong) for each failing score of an item, reasons included."""
    lines = []
    for name, score in item.failed_scores().items():
        if isinstance(score, ScoreEntry):
            text = fmt(score.value) + (f" {score.unit}" if score.unit else "") + " (failed)"
            if score.reason:
                text += f": {score.reason}"
        else:
            text = f"could not score: {score.error}"
        lines.append((name, text))
    return lines


def item_fields(item: RunItemRead, *, wide: bool) -> list[tuple[str, str]]:
    """Return an item's input, expected, output and failing scores (or error) as fields."""
    fields = [
        ("input", clip(as_json(item.input), wide=wide)),
        ("expected", clip(as_json(item.expected), wide=wide)),
    ]
    if item.error:
        return [*fields, ("error", item.error)]
    fields.append(("output", clip(item.output or "", wide=wide)))
    return fields + score_lines(item)


def item_heading(item: RunItemRead) -> str:
    """Return `refund-2 (item 3, repeat 0)`, or `item 3, repeat 0` without an id."""
    where = f"item {item.position}, repeat {item.repeat}"
    return f"{item.item_id} ({where})" if item.item_id else where


def print_failed_items(items: Sequence[RunItemRead], total: int, *, wide: bool) -> None:
    """Print each failed item as a block of fields; say so when there are none."""
    if not total:
        console.print("no failed items")
        return
    shown = f"; showing the first {len(items)} (--limit N shows more)" if len(items) < total else ""
    console.print(f"\n{plural(total, 'failed result')}{shown}:")
    for item in items:
        console.print(f"\n[bold]{item_heading(item)}[/]")
        fields = item_fields(item, wide=wide)
        width = max(len(name) for name, _ in fields)
        for name, text in fields:
            lines = text.splitlines() or [""]
            console.print(f"  {name:<{width}}  {lines[0]}", markup=False)
            for line in lines[1:]:
                console.print(f"  {'':<{width}}  {line}", markup=False)


def changed_scores(items: Sequence[ItemDelta]) -> list[tuple[ItemDelta, str, Any]]:
    """Return (item, metric, delta) for every score that changed, the lowest delta first."""
    changed = [
        (item, metric, delta)
        for item in items
        for metric, delta in item.metrics.items()
        if delta.delta not in (0, None) or (delta.a is None) != (delta.b is None)
    ]
    return sorted(changed, key=lambda c: c[2].delta if c[2].delta is not None else 0.0)


def print_comparison(
    a: int, b: int, comparison: RunComparison, *, limit: int, wide: bool = False
) -> None:
    """Print the per-metric means of both runs, then the changed item scores, worst first."""
    rows = ((name, fmt(d.a), fmt(d.b), fmt(d.delta)) for name, d in comparison.metrics.items())
    print_table(("metric", f"run {a}", f"run {b}", "delta"), rows, numeric=("delta",))
    if not comparison.same_dataset:
        console.print(
            f"runs {a} and {b} used different dataset versions: items are matched by position"
        )
    total = len(comparison.items)
    console.print(f"{comparison.changed_items} of {plural(total, 'item')} changed (b minus a)")
    changed = changed_scores(comparison.items)
    if not changed or limit == 0:
        return
    table = (
        (item.label(), metric, fmt(d.a), fmt(d.b), fmt(d.delta))
        for item, metric, d in changed[:limit]
    )
    print_table(
        ("item", "metric", f"run {a}", f"run {b}", "delta"),
        table,
        numeric=(f"run {a}", f"run {b}", "delta"),
        wide=wide,
    )
    if len(changed) > limit:
        console.print(
            f"the {limit} lowest of {len(changed)} changed scores (--limit N or --json for all)"
        )
