"""What the runner's workers hand its writer: item rows, answers to cache, generations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evals.llm.client import Completion
from evals.runs.generations import ItemKey
from evals.scorers.context import JudgeCall
from prompts.base import utc_now


@dataclass
class Outcome:
    """One processed item: its row, answer to cache, generations (its call, its judges')."""

    row: dict[str, Any]
    fresh: tuple[str, str, Completion] | None = None
    generation: dict[str, Any] | None = None
    judged: list[JudgeCall] = field(default_factory=list)
    judge_generations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Batch:
    """Outcomes gathered since the last write, in the shape the writer inserts them."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    fresh: dict[str, tuple[str, Completion]] = field(default_factory=dict)
    generations: dict[ItemKey, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        """Buffer one outcome's row, fresh answer and generations."""
        row = outcome.row
        self.rows.append(row)
        if outcome.fresh is not None:
            key, model, completion = outcome.fresh
            self.fresh[key] = (model, completion)
        made = [outcome.generation] if outcome.generation is not None else []
        made += outcome.judge_generations
        if made:
            self.generations[(row["variant"], row["position"], row["repeat"])] = made


def item_row(run_id: int, variant: str, position: int, repeat: int) -> dict[str, Any]:
    """Return an item's run_items row before it has an answer (an error until it has)."""
    return {
        "run_id": run_id,
        "variant": variant,
        "position": position,
        "repeat": repeat,
        "status": "error",
        "output": None,
        "error": None,
        "latency_ms": None,
        "cost_usd": None,
        "input_tokens": None,
        "output_tokens": None,
        "scores": {},
        "is_cached": False,
        "trace_id": None,
        "created_at": utc_now(),
    }
