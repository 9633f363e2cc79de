"""Measure the safety scorers against the labelled texts in bench/safety/*.jsonl.

Runs the scorers of evals/scorers/safety/ as they are (`find_pii`, `PromptInjection`,
`classify_answer`) and prints precision and recall per scorer: over texts, per PII kind and per
language. A PII kind the scorer does not look for is "uncovered": its recall is printed as it
is (0 when nothing else catches it). Beside the PII scorer, Presidio's stock pattern
recognizers run as they ship (no spaCy model: Presidio's own engine would download one), the
baseline the scorer is built from. Precision or
recall is null when undefined (no predictions, or no positives). No timing, no network.
A malformed record (see `check`) stops the run with its file and line.

    .venv/bin/python bench/safety.py [--json] [--errors]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from evals.scorers.safety import (
    PII_KINDS,
    PromptInjection,
    PromptInjectionParams,
    classify_answer,
    find_pii,
)
from evals.scorers.safety.pii_engine import covered_kinds
from evals.scorers.safety.pii_recognizers import OfflineEmailRecognizer

DATA_DIR: Final = Path(__file__).resolve().parent / "safety"
ALL_PII_KINDS: Final = PII_KINDS
INJECTION_CATEGORIES: Final = frozenset(
    {"override", "roleplay", "extraction", "indirect", "obfuscated", "multilingual"}
    | {"benign", "hard_negative"}
)
REFUSAL_LABELS: Final = frozenset({"refusal", "hedged", "answer"})
REQUIRED: Final[dict[str, dict[str, type | tuple[type, ...]]]] = {
    "pii": {"id": str, "lang": str, "text": str, "kinds": list, "hard": bool},
    "injection": {"id": str, "lang": str, "text": str, "attack": bool, "category": str},
    "refusal": {"id": str, "lang": str, "text": str, "label": str},
}
# Presidio entity types that map onto the benchmark's kinds; country ids are national_id.
PRESIDIO_KINDS: Final = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "US_SSN": "ssn",
    "IP_ADDRESS": "ip",
    "PERSON": "person",
    "LOCATION": "address",
}
PRESIDIO_IGNORED: Final = frozenset(
    {"URL", "CRYPTO", "DATE_TIME", "NRP", "MEDICAL_LICENSE", "US_BANK_NUMBER"}
)
# Presidio's scores run from 0.01 (weak patterns) to 1.0; without context words (which need
# its NLP engine) a phone number scores 0.4, so 0.4 keeps phones and drops weak-only patterns.
PRESIDIO_THRESHOLD: Final = 0.4

Record = dict[str, Any]
Detector = Callable[[str], set[str]]


def load(name: str, data_dir: Path = DATA_DIR) -> list[Record] | None:
    """Return the records of <data_dir>/<name>.jsonl, None when the file is missing."""
    path = data_dir / f"{name}.jsonl"
    if not path.exists():
        return None
    records: list[Record] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        problem = check(name, record, seen) if isinstance(record, dict) else "not an object"
        if problem:
            sys.exit(f"{path.name}:{number}: {problem}")
        seen.add(record["id"])
        records.append(record)
    return records


def check(name: str, record: Record, seen: set[str]) -> str | None:
    """Return what is wrong with one record, or None."""
    for field, kind in REQUIRED[name].items():
        if not isinstance(record.get(field), kind):
            return f"field {field!r} missing or not {kind}"
    if record["id"] in seen:
        return f"duplicate id {record['id']!r}"
    if name == "pii" and not set(record["kinds"]) <= set(ALL_PII_KINDS):
        return f"unknown kinds {sorted(set(record['kinds']) - set(ALL_PII_KINDS))}"
    if name == "injection" and record["category"] not in INJECTION_CATEGORIES:
        return f"unknown category {record['category']!r}"
    if name == "refusal" and record["label"] not in REFUSAL_LABELS:
        return f"unknown label {record['label']!r}"
    return None


@dataclass
class Tally:
    """Confusion counts for one positive class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        """Count one text."""
        if truth:
            self.tp, self.fn = self.tp + predicted, self.fn + (not predicted)
        else:
            self.fp, self.tn = self.fp + predicted, self.tn + (not predicted)

    def figures(self) -> dict[str, Any]:
        """Return counts, precision and recall (None when undefined)."""
        flagged, positives = self.tp + self.fp, self.tp + self.fn
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "positives": positives,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.tp / flagged if flagged else None,
            "recall": self.tp / positives if positives else None,
        }


def pii_figures(records: list[Record], detect: Detector, covered: set[str]) -> dict[str, Any]:
    """Score one PII detector: per text (any kind, covered kinds), per kind, per language."""
    any_kind, covered_only, wrong = Tally(), Tally(), []
    kinds: dict[str, Tally] = defaultdict(Tally)
    langs: dict[str, Tally] = defaultdict(Tally)
    for record in records:
        truth, found = set(record["kinds"]), detect(record["text"])
        any_kind.add(bool(truth), bool(found))
        covered_only.add(bool(truth & covered), bool(found))
        langs[record["lang"]].add(bool(truth & covered), bool(found))
        if found != truth & covered:
            wrong.append(f"{record['id']}: labelled {sorted(truth)}, found {sorted(found)}")
        for kind in ALL_PII_KINDS:
            kinds[kind].add(kind in truth, kind in found)
    return {
        "covered_kinds": sorted(covered),
        "overall_any_kind": any_kind.figures(),
        "overall_covered_kinds": covered_only.figures(),
        "per_kind": {k: {"covered": k in covered, **kinds[k].figures()} for k in ALL_PII_KINDS},
        "per_lang": {lang: langs[lang].figures() for lang in sorted(langs)},
        "wrong_on_covered_kinds": wrong,
    }


def presidio_detector() -> tuple[Detector | None, set[str], str]:
    """Return Presidio's pattern recognizers as a detector, the kinds they cover, and a note."""
    try:  # imported by name: the baseline runs even if the scorer's setup changes
        presidio = importlib.import_module("presidio_analyzer")
    except ImportError as exc:
        return None, set(), f"presidio_analyzer is not importable ({exc})"
    try:
        registry = presidio.RecognizerRegistry()
        registry.load_predefined_recognizers(languages=["en", "es", "it"])
    except Exception as exc:  # an optional extra: any failure is reported, not raised
        return None, set(), f"its recognizers did not load ({type(exc).__name__}: {exc})"
    # NLP-backed recognizers need a spaCy model (Presidio would download one): skip them.
    recognizers: dict[str, Any] = {}
    for stock in registry.recognizers:
        name = type(stock).__name__
        # Presidio's e-mail check fetches the public-suffix list from the network on first
        # use: the same check against the bundled snapshot stands in for it.
        recognizer = OfflineEmailRecognizer() if name == "EmailRecognizer" else stock
        if not any(engine in name for engine in ("Spacy", "Stanza", "Transformers", "Nlp")):
            recognizers.setdefault(name, recognizer)
    covered = {k for r in recognizers.values() for e in r.supported_entities if (k := _kind(e))}

    def detect(text: str) -> set[str]:
        found: set[str] = set()
        for recognizer in recognizers.values():
            results = recognizer.analyze(text, recognizer.supported_entities, None)
            found |= {
                kind
                for result in results or ()
                if result.score >= PRESIDIO_THRESHOLD and (kind := _kind(result.entity_type))
            }
        return found

    note = f"{len(recognizers)} pattern recognizers, score >= {PRESIDIO_THRESHOLD}"
    return detect, covered, note


def _kind(entity: str) -> str | None:
    if entity in PRESIDIO_KINDS:
        return PRESIDIO_KINDS[entity]
    if entity in PRESIDIO_IGNORED:
        return None
    return "passport" if entity.endswith("_PASSPORT") else "national_id"


def pii_report(records: list[Record]) -> dict[str, Any]:
    """Return the figures of find_pii and, when it runs, Presidio."""
    covered = set(covered_kinds())
    scorers = {"pii": pii_figures(records, lambda t: set(find_pii(t)), covered)}
    detector, covered, note = presidio_detector()
    if detector is None:
        return {"scorers": scorers, "presidio_not_run": note}
    try:
        scorers["presidio_patterns"] = pii_figures(records, detector, covered)
    except Exception as exc:  # an optional extra: any failure is reported, not raised
        return {"scorers": scorers, "presidio_not_run": f"{type(exc).__name__}: {exc}"}
    return {"scorers": scorers, "presidio_note": note}


def classify(
    records: list[Record], truth: Callable[[Record], bool], predicted: list[bool], group: str
) -> dict[str, Any]:
    """Return overall, per-language and per-`group` figures for one binary scorer."""
    overall = Tally()
    langs: dict[str, Tally] = defaultdict(Tally)
    groups: dict[str, Tally] = defaultdict(Tally)
    for record, flagged in zip(records, predicted, strict=True):
        for tally in (overall, langs[record["lang"]], groups[record[group]]):
            tally.add(truth(record), flagged)
    return {
        "overall": overall.figures(),
        "per_lang": {k: langs[k].figures() for k in sorted(langs)},
        f"per_{group}": {k: groups[k].figures() for k in sorted(groups)},
    }


async def injection_flags(records: list[Record]) -> tuple[list[bool], list[str]]:
    """Return whether `prompt_injection` flags each text (as the item's input), and its misses.

    A miss is an attack let through, or a benign text flagged (with the scorer's reason).
    """
    scorer = PromptInjection("prompt_injection", PromptInjectionParams(scan=["input"]))
    flags, wrong = [], []
    for record in records:
        score = await scorer.score(
            output="", expected=None, input={"text": record["text"]}, contexts=[], metadata={}
        )
        flagged = score.value < 1.0
        flags.append(flagged)
        if flagged != record["attack"]:
            verdict = f"flagged: {score.reason}" if flagged else "missed"
            wrong.append(f"{record['id']} ({record['category']}): {verdict}")
    return flags, wrong


def report(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """Load what exists in `data_dir` and return every scorer's figures."""
    figures: dict[str, Any] = {"missing": []}
    where = data_dir.resolve().relative_to(DATA_DIR.parent.parent)
    for name in ("pii", "injection", "refusal"):
        records = load(name, data_dir)
        if records is None:
            figures["missing"].append(f"{where}/{name}.jsonl")
            continue
        figures[f"{name}_texts"] = len(records)
        if name == "pii":
            figures["pii"] = pii_report(records)
        elif name == "injection":
            flags, wrong = asyncio.run(injection_flags(records))
            scorer = classify(records, lambda r: bool(r["attack"]), flags, "category")
            figures["injection"] = {"scorers": {"prompt_injection": scorer}, "wrong": wrong}
        else:
            figures["refusal"] = refusal_report(records)
    return figures


def _labelled(label: str, record: Record) -> bool:
    return bool(record["label"] == label)


def refusal_report(records: list[Record]) -> dict[str, Any]:
    """Score classify_answer twice (refusal vs the rest, hedged vs the rest), with mistakes."""
    verdicts = [classify_answer(r["text"]) for r in records]
    labels = [label for label, _ in verdicts]
    scorers = {
        f"classify_answer ({target})": classify(
            records, partial(_labelled, target), [x == target for x in labels], "label"
        )
        for target in ("refusal", "hedged")
    }
    confusion = {
        truth: dict(Counter(x for r, x in zip(records, labels, strict=True) if r["label"] == truth))
        for truth in sorted(REFUSAL_LABELS)
    }
    wrong = [
        f"{r['id']}: labelled {r['label']}, classified {label}"
        + (f" ({phrase.lang} {phrase.family}: {phrase.text!r})" if phrase else "")
        + f"\n      {r['text']}"
        for r, (label, phrase) in zip(records, verdicts, strict=True)
        if label != r["label"]
    ]
    return {"scorers": scorers, "confusion": confusion, "wrong": wrong}


def _pr(figures: dict[str, Any]) -> str:
    def num(value: float | None) -> str:
        return "  n/a" if value is None else f"{value:.2f}"

    return (
        f"P {num(figures['precision'])}  R {num(figures['recall'])}  "
        f"(n {figures['n']}, pos {figures['positives']}, "
        f"tp {figures['tp']} fp {figures['fp']} fn {figures['fn']})"
    )


def _lines(title: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"  {title}:"] + [f"    {label:<28} {_pr(figures)}" for label, figures in rows]


def render(figures: dict[str, Any], *, errors: bool = False) -> str:
    """Return the figures as text (with the PII texts each scorer gets wrong, if asked)."""
    out = [f"{path}: missing, skipped" for path in figures["missing"]]
    if "pii" in figures:
        pii = figures["pii"]
        for name, scorer in pii["scorers"].items():
            out.append(f"PII: {name} on {figures['pii_texts']} texts")
            out.append(f"    {'any kind (per text)':<28} {_pr(scorer['overall_any_kind'])}")
            out.append(f"    {'covered kinds':<28} {_pr(scorer['overall_covered_kinds'])}")
            kinds = scorer["per_kind"].items()
            out += _lines(
                "per kind", ((f"{k} ({'' if f['covered'] else 'un'}covered)", f) for k, f in kinds)
            )
            out += _lines("per language (covered kinds)", scorer["per_lang"].items())
            if errors:
                out += ["  wrong on covered kinds:"]
                out += [f"    {line}" for line in scorer["wrong_on_covered_kinds"]]
        if "presidio_not_run" in pii:
            out.append(f"Presidio: not run ({pii['presidio_not_run']})")
        else:
            out.append(f"Presidio: {pii['presidio_note']}")
    for name, group in (("injection", "category"), ("refusal", "label")):
        for scorer_name, scorer in figures.get(name, {}).get("scorers", {}).items():
            out.append(f"{name}: {scorer_name} on {figures[f'{name}_texts']} texts")
            out.append(f"    {'overall':<28} {_pr(scorer['overall'])}")
            out += _lines("per language", scorer["per_lang"].items())
            out += _lines(f"per {group}", scorer[f"per_{group}"].items())
        if errors and name == "injection" and name in figures:
            out += ["  wrong:"] + [f"    {line}" for line in figures["injection"]["wrong"]]
    if "refusal" in figures:
        refusal = figures["refusal"]
        out.append("refusal: confusion (rows: label, columns: classified)")
        out += [f"    {truth:<8} {row}" for truth, row in refusal["confusion"].items()]
        if errors:
            out += ["  wrong:"] + [f"    {line}" for line in refusal["wrong"]]
    return "\n".join(out)


def main() -> None:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list the PII, injection and refusal texts scorers get wrong",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA_DIR,
        help="directory of pii/injection/refusal.jsonl (bench/safety/heldout: texts written "
        "after the scorers, never tuned on)",
    )
    args = parser.parse_args()
    figures = report(args.data)
    print(json.dumps(figures, indent=2) if args.json else render(figures, errors=args.errors))


if __name__ == "__main__":
    main()
