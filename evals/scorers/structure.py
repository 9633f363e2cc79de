"""Deterministic checks of an output's shape and the call's budget: JSON, length, latency, cost."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from jsonschema import Draft202012Validator, SchemaError
from jsonschema.exceptions import best_match
from pydantic import Field, field_validator, model_validator

from evals.errors import ScorerError
from evals.scorers.base import (
    BaseScorer,
    Score,
    ScorerParams,
    binary,
    call_stats,
    clip,
    strip_fences,
)
from promptlane_client.errors import PatternTimeoutError
from promptlane_client.render.patterns import bounded_validator, schema_pattern_problem


def parse_json(text: str) -> tuple[bool, Any]:
    """Return (True, value) when `text` is JSON, else (False, None)."""
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


# --- JSON ---------------------------------------------------------------------------------


class JsonValidParams(ScorerParams):
    """Whether a Markdown code fence around the JSON is tolerated."""

    strip_fences: bool = False


class JsonValid(BaseScorer[JsonValidParams]):
    """1.0 when the output parses as JSON."""

    kind = "json_valid"
    description = "output parses as JSON"
    params_model = JsonValidParams

    async def score(self, *, output: str, **_: Any) -> Score:
        """Parse the output."""
        text = strip_fences(output) if self.params.strip_fences else output
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return Score(0.0, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return Score(1.0)


class JsonSchemaParams(JsonValidParams):
    """The JSON Schema (Draft 2020-12) the output must satisfy."""

    json_schema: dict[str, Any] = Field(alias="schema")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        problem = schema_pattern_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class JsonSchema(BaseScorer[JsonSchemaParams]):
    """1.0 when the output is JSON valid against the schema; the reason names the first error."""

    kind = "json_schema"
    description = "output is JSON valid against `schema` (Draft 2020-12)"
    params_model = JsonSchemaParams

    def __init__(self, name: str, params: JsonSchemaParams) -> None:
        """Compile the schema once."""
        super().__init__(name, params)
        self._validator = bounded_validator(params.json_schema)

    async def score(self, *, output: str, **_: Any) -> Score:
        """Parse the output and validate it."""
        text = strip_fences(output) if self.params.strip_fences else output
        ok, value = parse_json(text)
        if not ok:
            return Score(0.0, "not JSON")
        try:
            error = best_match(self._validator.iter_errors(value))
        except PatternTimeoutError as exc:
            raise ScorerError(f"json_schema: {exc.detail}") from None
        if error is None:
            return Score(1.0)
        return Score(0.0, f"{error.json_path}: {clip(error.message, 160)}")


# --- bounds -------------------------------------------------------------------------------


class LengthParams(ScorerParams):
    """Bounds on characters and/or words (at least one)."""

    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=0)
    min_words: int | None = Field(default=None, ge=0)
    max_words: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> LengthParams:
        pairs = {
            "chars": (self.min_chars, self.max_chars),
            "words": (self.min_words, self.max_words),
        }
        if all(lo is None and hi is None for lo, hi in pairs.values()):
            raise ValueError("give at least one of min_chars, max_chars, min_words, max_words")
        for unit, (lo, hi) in pairs.items():
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"min_{unit} is larger than max_{unit}")
        return self


def _bound_problems(count: int, unit: str, lo: int | None, hi: int | None) -> list[str]:
    problems = []
    if lo is not None and count < lo:
        problems.append(f"{count} {unit} < min {lo}")
    if hi is not None and count > hi:
        problems.append(f"{count} {unit} > max {hi}")
    return problems


class Length(BaseScorer[LengthParams]):
    """1.0 when the output's length is within the bounds."""

    kind = "length"
    description = "output length within min/max chars and/or words"
    params_model = LengthParams

    async def score(self, *, output: str, **_: Any) -> Score:
        """Count characters and words."""
        p = self.params
        problems = _bound_problems(len(output), "chars", p.min_chars, p.max_chars)
        problems += _bound_problems(len(output.split()), "words", p.min_words, p.max_words)
        return binary(not problems, "; ".join(problems))


class LatencyParams(ScorerParams):
    """The latency bound in milliseconds."""

    max_ms: float = Field(gt=0)


class Latency(BaseScorer[LatencyParams]):
    """The call's latency in ms; passes when it is at most `max_ms`."""

    kind = "latency"
    description = "call latency in ms; passes at or under max_ms"
    params_model = LatencyParams

    async def score(self, *, metadata: Mapping[str, Any], **_: Any) -> Score:
        """Read the latency the runner measured."""
        value = call_stats(metadata, "latency_ms", self.kind)
        ok = value <= self.params.max_ms
        reason = None if ok else f"{value:.0f} ms > max {self.params.max_ms:g} ms"
        return Score(value, reason, unit="ms", passed=ok)


class CostParams(ScorerParams):
    """The cost bound in US dollars."""

    max_usd: float = Field(ge=0)


class Cost(BaseScorer[CostParams]):
    """The call's cost in USD; passes when it is at most `max_usd`."""

    kind = "cost"
    description = "call cost in USD; passes at or under max_usd"
    params_model = CostParams

    async def score(self, *, metadata: Mapping[str, Any], **_: Any) -> Score:
        """Read the cost the runner computed."""
        value = call_stats(metadata, "cost_usd", self.kind)
        ok = value <= self.params.max_usd
        reason = None if ok else f"${value:.6f} > max ${self.params.max_usd:g}"
        return Score(value, reason, unit="usd", passed=ok)


STRUCTURE: Final[tuple[type[BaseScorer[Any]], ...]] = (JsonValid, JsonSchema, Length, Latency, Cost)
