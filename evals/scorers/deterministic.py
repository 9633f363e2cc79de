"""Deterministic scorers that compare the output with the expected value or fixed strings.

Shape and budget checks (JSON, length, latency, cost) live in evals.scorers.structure.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator
from rapidfuzz import fuzz

from evals.errors import ScorerError
from evals.scorers.base import (
    BaseScorer,
    Score,
    ScorerParams,
    as_text,
    binary,
    clip,
    need_expected,
)
from evals.scorers.structure import STRUCTURE, parse_json
from promptlane_client.errors import PatternTimeoutError
from promptlane_client.render import patterns

Normalization = Literal["case", "whitespace", "punctuation", "unicode"]
# A decimal number, optionally signed, with optional thousands separators and exponent.
_NUMBER_RE: Final = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def normalize(text: str, steps: Collection[str]) -> str:
    """Apply the normalisation steps in a fixed order: unicode, case, punctuation, whitespace."""
    if "unicode" in steps:
        text = unicodedata.normalize("NFKC", text)
    if "case" in steps:
        text = text.casefold()
    if "punctuation" in steps:
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    if "whitespace" in steps:
        text = " ".join(text.split())
    return text


# --- exact match --------------------------------------------------------------------------


class ExactMatchParams(ScorerParams):
    """Normalisation steps, and which key to compare when `expected` is an object."""

    normalize: list[Normalization] = Field(default_factory=list)
    field: str | None = Field(default=None, min_length=1)


class ExactMatch(BaseScorer[ExactMatchParams]):
    """1.0 when the output equals the expected value (after the chosen normalisation)."""

    kind = "exact_match"
    description = "output equals expected (normalize: case, whitespace, punctuation, unicode)"
    params_model = ExactMatchParams

    def _pick(self, output: str, expected: Any) -> tuple[Any, Any]:
        key = self.params.field
        if key is None:
            return parse_json(output)[1] if not isinstance(expected, str) else None, expected
        if not isinstance(expected, Mapping) or key not in expected:
            raise ScorerError(f"exact_match: expected has no field {key!r}")
        ok, parsed = parse_json(output)
        got = parsed[key] if ok and isinstance(parsed, dict) and key in parsed else None
        return got, expected[key]

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Compare the output (or its JSON field) with the expected value."""
        got, want = self._pick(output, need_expected(expected, self.kind))
        if got is not None and not isinstance(want, str) and got == want:
            return Score(1.0)
        text = output if got is None else as_text(got)
        a, b = (
            normalize(text, self.params.normalize),
            normalize(as_text(want), self.params.normalize),
        )
        return binary(a == b, f"expected {clip(b)!r}, got {clip(a)!r}")


# --- contains -----------------------------------------------------------------------------


class ContainsParams(ScorerParams):
    """The substrings (`value` or `values`; else the item's `expected`) and case handling."""

    value: str | None = Field(default=None, min_length=1)
    values: list[str] | None = Field(default=None, min_length=1)
    ignore_case: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ContainsParams:
        if self.value is not None and self.values is not None:
            raise ValueError("give 'value' or 'values', not both")
        if self.values is not None and not all(self.values):
            raise ValueError("values may not contain empty strings")
        return self


class _Substrings(BaseScorer[ContainsParams]):
    def _needles(self, expected: Any) -> list[str]:
        if self.params.value is not None:
            return [self.params.value]
        if self.params.values is not None:
            return list(self.params.values)
        if isinstance(expected, str) and expected:
            return [expected]
        if isinstance(expected, list) and expected and all(isinstance(v, str) for v in expected):
            return list(expected)
        raise ScorerError(f"{self.kind} needs params value/values or a string (list) expected")

    def _found(self, output: str, expected: Any) -> tuple[list[str], list[str]]:
        needles = self._needles(expected)
        fold = str.casefold if self.params.ignore_case else str
        hay = fold(output)
        found = [n for n in needles if fold(n) in hay]
        return found, [n for n in needles if n not in found]


class Contains(_Substrings):
    """1.0 when the output contains at least one of the substrings."""

    kind = "contains"
    description = "output contains one of the substrings (value/values or expected)"
    params_model = ContainsParams

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Look for any of the substrings."""
        found, missing = self._found(output, expected)
        return binary(bool(found), f"none of {[clip(m, 40) for m in missing]} found")


class ContainsAll(_Substrings):
    """The share of the substrings the output contains (passes only at 1.0 by default)."""

    kind = "contains_all"
    description = "share of the substrings the output contains; passes when it has them all"
    params_model = ContainsParams

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Count the substrings present."""
        found, missing = self._found(output, expected)
        value = len(found) / (len(found) + len(missing))
        return Score(value, f"missing {[clip(m, 40) for m in missing]}" if missing else None)


class NotContains(_Substrings):
    """1.0 when the output contains none of the substrings."""

    kind = "not_contains"
    description = "output contains none of the substrings"
    params_model = ContainsParams

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Fail on any substring present."""
        found, _missing = self._found(output, expected)
        return binary(not found, f"found {[clip(f, 40) for f in found]}")


# --- regex --------------------------------------------------------------------------------


class RegexParams(ScorerParams):
    """The pattern (else the item's `expected`), its flags, and search or full match."""

    pattern: str | None = Field(default=None, min_length=1)
    ignore_case: bool = False
    multiline: bool = False
    dotall: bool = False
    full_match: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                patterns.compile_pattern(value)
            except patterns.PatternError as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class Regex(BaseScorer[RegexParams]):
    """1.0 when the pattern matches the output (searched, or the whole output)."""

    kind = "regex"
    description = "pattern (param or expected) matches the output"
    params_model = RegexParams

    def _compile(self, expected: Any) -> Any:
        p = self.params
        flags = (
            (patterns.IGNORECASE if p.ignore_case else 0)
            | (patterns.MULTILINE if p.multiline else 0)
            | (patterns.DOTALL if p.dotall else 0)
        )
        source = p.pattern if p.pattern is not None else need_expected(expected, self.kind)
        if not isinstance(source, str):
            raise ScorerError("regex: expected must be a pattern string")
        try:
            return patterns.compile_pattern(source, flags)
        except patterns.PatternError as exc:
            raise ScorerError(f"regex: invalid pattern in expected: {exc}") from None

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Match the pattern against the output (within the patterns' time limit)."""
        pattern = self._compile(expected)
        match = patterns.fullmatch if self.params.full_match else patterns.search
        try:
            found = match(pattern, output)
        except PatternTimeoutError as exc:
            raise ScorerError(f"regex: {exc.detail}") from None
        return binary(found is not None, f"no match for /{clip(pattern.pattern, 60)}/")


# --- similarity and numbers ---------------------------------------------------------------

_METHODS: Final = {
    "ratio": fuzz.ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "partial_ratio": fuzz.partial_ratio,
}


class SimilarityParams(ScorerParams):
    """The rapidfuzz method and the normalisation applied to both sides first."""

    method: Literal["ratio", "token_set_ratio", "partial_ratio"] = "ratio"
    normalize: list[Normalization] = Field(default_factory=list)


class Similarity(BaseScorer[SimilarityParams]):
    """String similarity to the expected text in [0, 1] (rapidfuzz)."""

    kind = "similarity"
    description = "rapidfuzz similarity to expected in [0, 1] (ratio, token_set_ratio, ...)"
    params_model = SimilarityParams
    default_threshold = 0.8

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Compare the output with the expected text."""
        steps = self.params.normalize
        want = normalize(as_text(need_expected(expected, self.kind)), steps)
        value = _METHODS[self.params.method](normalize(output, steps), want) / 100.0
        return Score(round(value, 6))


class NumericParams(ScorerParams):
    """Tolerances (both 0: exact) and which number of the output to read."""

    abs_tol: float = Field(default=0.0, ge=0)
    rel_tol: float = Field(default=0.0, ge=0)
    pick: Literal["first", "last"] = "first"


def parse_number(text: str, *, last: bool = False) -> float | None:
    """Return the first (or last) number written in `text`, or None."""
    found = _NUMBER_RE.findall(text)
    if not found:
        return None
    return float((found[-1] if last else found[0]).replace(",", ""))


class Numeric(BaseScorer[NumericParams]):
    """1.0 when the number in the output is within tolerance of the expected number."""

    kind = "numeric"
    description = "number in the output within abs_tol/rel_tol of expected"
    params_model = NumericParams

    async def score(self, *, output: str, expected: Any, **_: Any) -> Score:
        """Read a number from the output and compare."""
        raw = need_expected(expected, self.kind)
        want = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        if isinstance(raw, str):
            want = parse_number(raw)
        if want is None:
            raise ScorerError(f"numeric: expected {clip(as_text(raw), 40)!r} is not a number")
        got = parse_number(output, last=self.params.pick == "last")
        if got is None:
            return Score(0.0, "no number in the output")
        p = self.params
        ok = math.isclose(got, want, rel_tol=p.rel_tol, abs_tol=p.abs_tol)
        return binary(ok, f"got {got:g}, expected {want:g}")


DETERMINISTIC: Final[tuple[type[BaseScorer[Any]], ...]] = (
    ExactMatch,
    Contains,
    ContainsAll,
    NotContains,
    Regex,
    Similarity,
    Numeric,
    *STRUCTURE,
)
