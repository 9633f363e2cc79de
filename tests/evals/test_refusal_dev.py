"""The refusal classifier on a development set written apart from bench/safety/refusal.jsonl.

tests/evals/refusal_dev.jsonl holds answers in five languages, labelled refusal / hedged /
answer: refusals with and without stock phrases, hedges, and answers with look-alikes. The
figures are measured over the whole set, so a family that only fits one sentence does not help.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import pytest

from evals.scorers.safety import classify_answer

DEV_SET: Final = Path(__file__).with_name("refusal_dev.jsonl")
LANGS: Final = ("en", "de", "fr", "es", "it")


def _rows() -> list[dict[str, str]]:
    with DEV_SET.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


ROWS: Final = _rows()
VERDICTS: Final = [classify_answer(row["text"])[0] for row in ROWS]


def _mistakes(target: str) -> str:
    return "\n".join(
        f"{row['id']} ({row['label']} -> {got}): {row['text'][:90]}"
        for row, got in zip(ROWS, VERDICTS, strict=True)
        if (row["label"] == target) != (got == target)
    )


def _precision_recall(target: str) -> tuple[float, float]:
    pairs = [
        (row["label"] == target, got == target) for row, got in zip(ROWS, VERDICTS, strict=True)
    ]
    tp = sum(truth and guess for truth, guess in pairs)
    guessed = sum(guess for _, guess in pairs)
    actual = sum(truth for truth, _ in pairs)
    return tp / max(guessed, 1), tp / max(actual, 1)


def test_the_dev_set_covers_every_language_and_label() -> None:
    for lang, least in zip(LANGS, (40, 20, 20, 20, 20), strict=True):
        labels = [row["label"] for row in ROWS if row["lang"] == lang]
        assert len(labels) >= least, lang
        assert set(labels) == {"refusal", "hedged", "answer"}, lang
    assert len({row["id"] for row in ROWS}) == len(ROWS)


def test_refusals_are_found_with_few_false_alarms() -> None:
    precision, recall = _precision_recall("refusal")
    assert precision >= 0.9, _mistakes("refusal")
    assert recall >= 0.85, _mistakes("refusal")


def test_hedged_answers_are_rarely_something_else() -> None:
    precision, _ = _precision_recall("hedged")
    assert precision >= 0.85, _mistakes("hedged")


# Known false alarm: the German habitual present with "kein" reads as a refusal whatever the
# object ("Ich schreibe keine Tests für triviale Getter").
KNOWN_FALSE_ALARMS: Final = {"dev-de-049"}


def _answer_rows() -> list[Any]:
    return [
        pytest.param(
            row,
            id=row["id"],
            marks=[pytest.mark.xfail(strict=True)] if row["id"] in KNOWN_FALSE_ALARMS else [],
        )
        for row in ROWS
        if row["label"] == "answer"
    ]


@pytest.mark.parametrize("row", _answer_rows())
def test_no_answer_is_taken_for_a_refusal(row: dict[str, str]) -> None:
    assert classify_answer(row["text"])[0] != "refusal"
