"""The labelled safety benchmark data (bench/safety/): both files follow the format."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SAFETY = Path(__file__).resolve().parents[2] / "bench" / "safety"
LANGUAGES = {"en", "de", "fr", "es", "it"}
ATTACK_CATEGORIES = {"override", "roleplay", "extraction", "indirect", "obfuscated", "multilingual"}
BENIGN_CATEGORIES = {"benign", "hard_negative"}
REFUSAL_LABELS = {"refusal", "hedged", "answer"}


@dataclass(frozen=True)
class Spec:
    prefix: str
    required: dict[str, type]


INJECTION = Spec("inj", {"id": str, "lang": str, "text": str, "attack": bool, "category": str})
REFUSAL = Spec("ref", {"id": str, "lang": str, "text": str, "label": str})


def load(name: str) -> list[dict[str, Any]]:
    """Read one JSONL file of the benchmark; every non-empty line must be a JSON object."""
    rows = []
    for number, line in enumerate((SAFETY / name).read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{name}:{number}: empty line"
        row = json.loads(line)
        assert isinstance(row, dict), f"{name}:{number}: not a JSON object"
        rows.append(row)
    return rows


def row_problems(row: dict[str, Any], spec: Spec) -> list[str]:
    """Say what is wrong with one row's fields (types, id layout, values)."""
    where = str(row.get("id", "?"))
    missing = set(spec.required) - set(row)
    extra = set(row) - set(spec.required) - {"note"}
    if missing or extra:
        return [f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}"]
    found = [
        f"{where}: {key} is not {kind.__name__}"
        for key, kind in {**spec.required, "note": str}.items()
        if key in row and type(row[key]) is not kind
    ]
    if found:
        return found
    if not re.fullmatch(rf"{spec.prefix}-{re.escape(row['lang'])}-\d{{3}}", row["id"]):
        found.append(f"{where}: id does not read {spec.prefix}-{row['lang']}-nnn")
    if not re.fullmatch(r"[a-z]{2}", row["lang"]):
        found.append(f"{where}: lang {row['lang']!r} is not a two-letter code")
    if not row["text"].strip():
        found.append(f"{where}: empty text")
    if spec is INJECTION:
        category = row["category"]
        if category not in ATTACK_CATEGORIES | BENIGN_CATEGORIES:
            found.append(f"{where}: unknown category {category!r}")
        elif row["attack"] != (category in ATTACK_CATEGORIES):
            found.append(f"{where}: attack={row['attack']} contradicts category {category!r}")
    elif row["label"] not in REFUSAL_LABELS:
        found.append(f"{where}: unknown label {row['label']!r}")
    return found


def problems(rows: list[dict[str, Any]], spec: Spec) -> list[str]:
    """Say what is wrong with a whole file: each row, then duplicate ids and texts."""
    found = [problem for row in rows for problem in row_problems(row, spec)]
    for field in ("id", "text"):
        counts = Counter(str(row.get(field)) for row in rows)
        found += [f"duplicate {field}: {value!r}" for value, n in counts.items() if n > 1]
    return found


@pytest.fixture(scope="module")
def injection() -> list[dict[str, Any]]:
    return load("injection.jsonl")


@pytest.fixture(scope="module")
def refusal() -> list[dict[str, Any]]:
    return load("refusal.jsonl")


def test_injection_rows_follow_the_format(injection: list[dict[str, Any]]) -> None:
    assert problems(injection, INJECTION) == []


def test_refusal_rows_follow_the_format(refusal: list[dict[str, Any]]) -> None:
    assert problems(refusal, REFUSAL) == []


def test_injection_covers_languages_categories_and_hard_negatives(
    injection: list[dict[str, Any]],
) -> None:
    assert len(injection) >= 200
    assert {row["lang"] for row in injection} >= LANGUAGES
    assert {row["category"] for row in injection if row["attack"]} == ATTACK_CATEGORIES
    for lang in LANGUAGES:
        categories = {row["category"] for row in injection if row["lang"] == lang}
        assert categories >= {"override", "multilingual", "benign", "hard_negative"}, lang
    benign = sum(not row["attack"] for row in injection) / len(injection)
    assert 0.35 <= benign <= 0.55
    by_lang = Counter(row["lang"] for row in injection)
    assert by_lang.most_common(1)[0][0] == "en"


def test_refusal_covers_languages_and_labels(refusal: list[dict[str, Any]]) -> None:
    assert len(refusal) >= 120
    assert {row["lang"] for row in refusal} >= LANGUAGES
    for lang in LANGUAGES:
        assert {row["label"] for row in refusal if row["lang"] == lang} == REFUSAL_LABELS, lang


def test_the_checks_catch_bad_rows() -> None:
    good = {"id": "inj-en-001", "lang": "en", "text": "hi", "attack": False, "category": "benign"}
    assert problems([good], INJECTION) == []
    assert problems([good, {**good, "text": "other"}], INJECTION) == ["duplicate id: 'inj-en-001'"]
    bad = [
        {**good, "id": "inj-de-001"},
        {**good, "attack": "no"},
        {**good, "attack": True},
        {**good, "category": "jailbreak"},
        {**good, "lang": "english", "id": "inj-english-001"},
        {**good, "score": 1},
        {"id": "ref-en-001", "lang": "en", "text": "No.", "label": "declined"},
    ]
    for row in bad[:-1]:
        assert len(row_problems(row, INJECTION)) == 1, row
    assert row_problems(bad[-1], REFUSAL) == ["ref-en-001: unknown label 'declined'"]
