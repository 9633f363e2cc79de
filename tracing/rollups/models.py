"""The rollup tables: counters per time bucket × group, and their histogram bins.

`generation_rollups` has one row per bucket size × bucket × prompt × version × label × model
× source, with counters that add up. Every bucket size in `PERIODS` is kept, so a range is
read from the coarsest buckets that fit inside it: a generation adds to its minute row when it
is written, and to its hour and day rows either then (a minute already folded) or when its
minute is folded into them (`RollupState.folded_until`, tracing/rollups/fold.py).
The key columns take no NULL (a unique key treats NULLs as distinct on both databases, which
would split a group): a generation without a prompt, label or model is stored under '' (0
for the version) and read back as None.

The latency histogram, which every usage report reads, is packed in the row itself
(`latency`, tracing/rollups/packed.py): a report fetches one value per rollup row and merges
them in numpy, instead of a row per bin.

`generation_rollup_bins` holds what does not fit in fixed columns, as narrow integer rows
keyed by (rollup row, series, bin) that add up too: the histograms of input length and of each
score metric (tracing/rollups/histogram.py), read by drift; and in bin `TOTAL` the count and
sum of every value of a series (a score's mean; the calls that raised a safety flag, a flag
having no other bin), read by usage without the histogram. Reads sum them in SQL (`GROUP BY`
the report's groups, series and bin). There is no foreign key: bins are written by the
transaction that holds their rollup row's lock, and a key check per bin would double the
write's index work; `rebuild` clears both tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracing.base import UTCDateTime

MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400
PERIODS: Final = (DAY, HOUR, MINUTE)  # bucket sizes in seconds, coarsest first
FOLDED: Final = (DAY, HOUR)  # sizes written by folding minutes (tracing/rollups/fold.py)
KEY: Final = (
    "period_s",
    "bucket_start",
    "prompt_name",
    "prompt_version",
    "prompt_label",
    "model",
    "source",
)
TOTAL: Final = -(2**31)  # the bin holding a series' count and sum (no histogram bin is this low)
SERIES_CHARS: Final = 200  # a series name: "latency", "input_chars", "score:…", "flag:…"


def _counter(type_: Any = sa.BigInteger) -> Any:
    return Field(default=0, sa_column=sa.Column(type_, nullable=False))


class GenerationRollup(SQLModel, table=True):
    """Counters of the generations of one bucket and group; every field adds up."""

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
    latency: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary))  # None: none


class GenerationRollupBin(SQLModel, table=True):
    """One histogram bin (or flag counter) of one rollup row: a count and a sum that add up."""

    __tablename__ = "generation_rollup_bins"

    rollup_id: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    series: str = Field(sa_column=sa.Column(sa.String(SERIES_CHARS), primary_key=True))
    bin: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    count: int = _counter()
    sum: float = _counter(sa.Float)


class RollupState(SQLModel, table=True):
    """How far minute rollups have been folded into hour and day rollups (one row, id 1).

    A generation whose minute starts before `folded_until` is in its minute, hour and day
    rows; one whose minute starts at or after it only in its minute row, until a fold.
    """

    __tablename__ = "rollup_state"

    id: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    folded_until: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
