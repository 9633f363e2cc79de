"""bench/safety.py runs on the labelled data in bench/safety/, and that data is well formed.

The figures are checked for shape and range, and against issue 16's targets where a scorer
meets them: PII per text on the covered kinds, precision >= 0.95 and recall >= 0.92; refusals
precision >= 0.90 and recall >= 0.85, in every language; the injection tripwire precision
>= 0.90 at recall >= 0.60. The held-out set (bench/safety/heldout) is measured too, for shape:
its figures are reported in docs/benchmarks.md, not held to the targets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "safety"
PII_KINDS = {"email", "phone", "card", "iban", "ssn", "ip", "date_of_birth"}
PII_KINDS |= {"national_id", "passport", "person", "address"}
FIELDS: dict[str, dict[str, type]] = {
    "pii": {"id": str, "lang": str, "text": str, "kinds": list, "hard": bool},
    "injection": {"id": str, "lang": str, "text": str, "attack": bool, "category": str},
    "refusal": {"id": str, "lang": str, "text": str, "label": str},
}
CATEGORIES = {"override", "roleplay", "extraction", "indirect", "obfuscated", "multilingual"}
CATEGORIES |= {"benign", "hard_negative"}
PREFIX = {"pii": "pii", "injection": "inj", "refusal": "ref"}


def records(name: str) -> list[dict[str, Any]]:
    path = DATA / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_data_files_that_exist_are_well_formed(name: str) -> None:
    rows = records(name)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert set(FIELDS[name]) <= set(row) <= set(FIELDS[name]) | {"note"}, row["id"]
        for field, kind in FIELDS[name].items():
            assert isinstance(row[field], kind), (row["id"], field)
        assert row["id"].startswith(f"{PREFIX[name]}-{row['lang']}-"), row["id"]
        assert row["text"].strip(), row["id"]
    if name == "injection":
        assert {row["category"] for row in rows} <= CATEGORIES
    if name == "refusal":
        assert {row["label"] for row in rows} <= {"refusal", "hedged", "answer"}


def test_the_pii_data_is_large_multilingual_and_labelled_with_known_kinds() -> None:
    rows = records("pii")
    assert len(rows) >= 300
    assert len({row["lang"] for row in rows}) >= 5
    for row in rows:
        assert set(row["kinds"]) <= PII_KINDS, row["id"]
        assert len(row["kinds"]) == len(set(row["kinds"])), row["id"]
    assert {kind for row in rows for kind in row["kinds"]} == PII_KINDS
    negatives = sum(1 for row in rows if not row["kinds"])
    assert negatives >= 0.35 * len(rows)


def _figures(tree: Any) -> Iterator[dict[str, Any]]:
    if isinstance(tree, dict):
        if "precision" in tree:
            yield tree
        for child in tree.values():
            yield from _figures(child)


def test_the_benchmark_prints_precision_and_recall_in_range() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "safety.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    present = [name for name in FIELDS if (DATA / f"{name}.jsonl").exists()]
    assert sorted(report["missing"]) == sorted(
        f"bench/safety/{name}.jsonl" for name in FIELDS if name not in present
    )
    for name in present:
        assert report[f"{name}_texts"] == len(records(name))
        assert report[name]["scorers"]
    pii = report["pii"]["scorers"]["pii"]
    # Without a spaCy model, names and addresses are not covered (and say so).
    assert {kind for kind, f in pii["per_kind"].items() if not f["covered"]} == {
        "person",
        "address",
    }
    assert pii["per_lang"].keys() == {row["lang"] for row in records("pii")}
    for overall in (pii["overall_any_kind"], pii["overall_covered_kinds"]):
        assert isinstance(overall["precision"], float)
        assert isinstance(overall["recall"], float)
    covered = pii["overall_covered_kinds"]
    assert covered["precision"] >= 0.95
    assert covered["recall"] >= 0.92
    injection = report["injection"]["scorers"]["prompt_injection"]["overall"]
    assert injection["precision"] >= 0.90
    assert injection["recall"] >= 0.60
    refusal = report["refusal"]["scorers"]["classify_answer (refusal)"]
    for figures in (refusal["overall"], *refusal["per_lang"].values()):
        assert figures["precision"] >= 0.90
        assert figures["recall"] >= 0.85
    assert report["pii"]["scorers"]["presidio_patterns"]["overall_covered_kinds"]["n"] == len(
        records("pii")
    )
    figures = list(_figures(report))
    assert figures
    for f in figures:
        assert f["tp"] + f["fn"] == f["positives"] <= f["n"]
        for key in ("precision", "recall"):
            assert f[key] is None or 0.0 <= f[key] <= 1.0


def test_the_held_out_set_is_measured_the_same_way() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "safety.py"),
            "--json",
            "--data",
            str(DATA / "heldout"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["missing"] == []
    for name in FIELDS:
        text = (DATA / "heldout" / f"{name}.jsonl").read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines()]
        assert report[f"{name}_texts"] == len(rows)
        assert {row["lang"] for row in rows} == {"en", "de", "fr", "es", "it"}
    for f in _figures(report):
        assert f["tp"] + f["fn"] == f["positives"] <= f["n"]
