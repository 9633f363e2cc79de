"""How a judge's answer becomes a score: a number on a scale, or one label out of a fixed set.

Either way the judge answers with a JSON object (Markdown fences and prose around it are
tolerated): `{"score": n, "reason": "..."}` for a scale, `{"verdict": "label", "reason":
"..."}` for labels, each label worth a fixed value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from evals.errors import ScorerError
from evals.scorers.base import strip_fences

_ANSWER_PREVIEW: Final = 200
# A judge answer is short; scanning a runaway answer for a JSON object is bounded.
_MAX_OBJECT_STARTS: Final = 50


class Verdict(Protocol):
    """Reads a judge's answer into a value in [0, 1] and the judge's reason."""

    def read(self, text: str) -> tuple[float, str | None]:
        """Return the value and reason; raise ScorerError when the answer has none."""
        ...


def _first_object(text: str, key: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_MAX_OBJECT_STARTS):
        if start < 0:
            return None
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and key in value:
            return value
        start = text.find("{", start + 1)
    return None


def _reason(found: Mapping[str, Any] | None) -> str | None:
    reason = found.get("reason") if found else None
    return reason if isinstance(reason, str) else None


def parse_verdict(text: str) -> tuple[float, str | None]:
    """Read `{"score": n, "reason": "..."}` from a judge's answer (fences and prose tolerated)."""
    found = _first_object(strip_fences(text.strip()), "score")
    raw = found.get("score") if found else None
    if isinstance(raw, str):
        try:
            raw = float(raw.strip())
        except ValueError:
            raw = None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        preview = text[:_ANSWER_PREVIEW]
        raise ScorerError(f'judge answer has no {{"score": number}} object: {preview!r}')
    return float(raw), _reason(found)


def parse_label(text: str, labels: Mapping[str, Any]) -> tuple[str, str | None]:
    """Read `{"verdict": "label", "reason": "..."}`; the label must be one of `labels`."""
    found = _first_object(strip_fences(text.strip()), "verdict")
    raw = found.get("verdict") if found else None
    if not isinstance(raw, str):
        preview = text[:_ANSWER_PREVIEW]
        raise ScorerError(f'judge answer has no {{"verdict": label}} object: {preview!r}')
    label = raw.strip().lower()
    if label not in labels:
        known = ", ".join(labels)
        raise ScorerError(f"judge verdict {raw[:_ANSWER_PREVIEW]!r} is not one of: {known}")
    return label, _reason(found)


@dataclass(frozen=True)
class ScaleVerdict:
    """A score on `scale`, normalised to [0, 1]; inverted when a high score is bad."""

    scale: tuple[float, float]
    invert: bool = False

    def read(self, text: str) -> tuple[float, str | None]:
        """Return the normalised score and the judge's reason."""
        raw, reason = parse_verdict(text)
        low, high = self.scale
        if not low <= raw <= high:
            raise ScorerError(f"judge score {raw:g} is outside the scale {low:g}..{high:g}")
        value = (raw - low) / (high - low)
        return (1.0 - value if self.invert else value), reason


@dataclass(frozen=True)
class LabelVerdict:
    """One label out of a fixed set, each worth a value; the reason starts with the label."""

    values: Mapping[str, float]

    def read(self, text: str) -> tuple[float, str | None]:
        """Return the label's value and `label: reason`."""
        label, reason = parse_label(text, self.values)
        return self.values[label], f"{label}: {reason}" if reason else label
