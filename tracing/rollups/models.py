"""The rollup table: one row per time bucket × prompt × version × label × model × source.

Every bucket size in `PERIODS` is kept (a generation adds to one row of each), so a range is
read from the coarsest buckets that fit inside it. The key columns take no NULL (a unique key
treats NULLs as distinct on both databases, which would split a group): a generation without a
prompt, label or model is stored under '' (0 for the version) and read back as None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracing.base import JSONType, UTCDateTime

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400
PERIODS: Final = (DAY, HOUR, MINUTE)  # bucket sizes in seconds, coarsest first
KEY: Final = (
    "period_s",
    "bucket_start",
    "prompt_name",
    "prompt_version",
    "prompt_label",
    "model",
    "source",
)


def _counter(type_: Any = sa.BigInteger) -> Any:
    return Field(default=0, sa_column=sa.Column(type_, nullable=False))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(JSONType, nullable=False))


class GenerationRollup(SQLModel, table=True):
    """Aggregates of the generations of one bucket and group; every field adds up."""

    __tablename__ = "generation_rollups"
    __table_args__ = (
        sa.UniqueConstraint(*KEY, name="uq_generation_rollups_key"),
        sa.Index("ix_generation_rollups_prompt", "prompt_name", "period_s", "bucket_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period_s: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    bucket_start: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    prompt_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    prompt_version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    prompt_label: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    model: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    calls: int = _counter()
    errors: int = _counter()
    input_tokens: int = _counter()
    output_tokens: int = _counter()
    cost_usd: float = _counter(sa.Float)
    # Histograms (tracing/rollups/histogram.py) and counters, JSON maps merged by addition.
    latency_ms: dict[str, float] = _json()
    input_chars: dict[str, float] = _json()
    scores: dict[str, float] = _json()  # "<metric>\x1f<bin>" histograms, one per metric
    flags: dict[str, float] = _json()  # flag → calls that raised it
