"""Request/response models of online evaluations (scoring sampled production generations)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from evals.schemas import ScorerSpec
from prompts.schemas import label_problem, name_problem
from tracing.validation import Flag, Number, StrictModel


class OnlineEvaluationPut(StrictModel):
    """Create or replace the online evaluation of a prompt, for one label or any label."""

    prompt: str = Field(max_length=200, description="Prompt name")
    label: str | None = Field(
        default=None, description="Only generations made through this label; null: any label"
    )
    sample_rate: Number = Field(ge=0, le=1, description="Share of generations scored, 0..1")
    scorers: list[ScorerSpec] = Field(min_length=1, max_length=32)
    enabled: Flag = True

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        problem = None if value is None else label_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("scorers")
    @classmethod
    def _unique(cls, value: list[ScorerSpec]) -> list[ScorerSpec]:
        names = [spec.name for spec in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"scorer names must be unique; repeated: {', '.join(repeated)}")
        return value


class OnlineEvaluationRead(BaseModel):
    """A stored online evaluation."""

    id: int
    prompt: str
    label: str | None = Field(description="null: generations of any label")
    sample_rate: float
    scorers: list[ScorerSpec]
    enabled: bool
    updated_by: str
    created_at: datetime
    updated_at: datetime
