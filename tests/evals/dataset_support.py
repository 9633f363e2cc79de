"""Dataset tests' item rows and version bodies."""

from __future__ import annotations

from typing import Any

from evals.schemas import DatasetVersionCreate


def rows(n: int = 3, **extra: Any) -> list[dict[str, Any]]:
    return [{"input": {"q": f"question {i}"}, "expected": f"answer {i}", **extra} for i in range(n)]


def version(items: list[dict[str, Any]], **fields: Any) -> DatasetVersionCreate:
    return DatasetVersionCreate.model_validate({"items": items, **fields})
