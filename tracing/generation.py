"""The one constructor of `generations` rows, typed: every source builds its row as a GenerationRow.

The gateway and eval runs describe the model calls they make (`evals/runs/generations.py`),
OTLP ingest the GenAI spans it receives (`tracing/rows.py`); each builds a `GenerationRow`,
whose fields are the table's columns but the id (a test holds them equal), and inserts its
`as_insert()` through `tracing.inserts.insert_rows`, which normalises every row alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NamedTuple

Source = Literal["run", "gateway", "ingest"]


class GenerationRow(NamedTuple):
    """One LLM call as a `generations` row: every column but the id.

    Immutable and cheap to build (a tuple: ingest builds hundreds per request); the JSON
    columns and `created_at` have no default, so no two rows ever share a list or a dict.
    """

    trace_id: str
    span_id: str
    source: Source
    started_at: datetime
    created_at: datetime
    finish_reasons: list[str]
    scores: dict[str, float]
    safety_flags: list[str]
    attributes: dict[str, Any]
    parent_span_id: str | None = None
    service_name: str | None = None
    operation: str | None = None
    provider: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    model: str | None = None  # normalised: filled by insert_rows when not given
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_label: str | None = None
    content_hash: str | None = None
    run_id: int | None = None
    duration_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    is_error: bool = False
    error_type: str | None = None
    input_chars: int | None = None
    input_messages: list[dict[str, Any]] | None = None
    output_text: str | None = None
    online_eval: str | None = None
    response_id: str | None = None
    is_duplicate: bool = False

    def as_insert(self) -> dict[str, Any]:
        """Return the row as `insert_rows` takes it: a new dict, column name to value."""
        return self._asdict()
