"""Refusal, hedge and look-alike phrases in English, German, French, Spanish and Italian.

Entry points: `LANGUAGES` (each language's compiled families), `OFFER`, `REASON`, `PIVOT`,
`CLAUSE_BREAK`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from evals.scorers.safety.refusal_phrases import de, en, es, fr, it
from evals.scorers.safety.refusal_phrases.parts import Lexicon, fold

__all__ = [
    "CLAUSE_BREAK",
    "CONTRAST",
    "LANGUAGES",
    "LEXICONS",
    "OFFER",
    "PIVOT",
    "REASON",
    "REFUSAL_FAMILIES",
    "CompiledLexicon",
    "Family",
    "Lexicon",
    "fold",
]

Family = Literal["decline", "apology", "policy", "limit", "hedge"]
REFUSAL_FAMILIES: Final[tuple[Family, ...]] = ("decline", "apology", "policy", "limit")
LEXICONS: Final[tuple[Lexicon, ...]] = (
    en.LEXICON,
    de.LEXICON,
    fr.LEXICON,
    es.LEXICON,
    it.LEXICON,
)


def _source(pattern: str) -> str:
    return fold(pattern).replace(" ", r"\s+")


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_source(p)})" for p in patterns), re.IGNORECASE)


@dataclass(frozen=True)
class CompiledLexicon:
    """One language's families, compiled: the refusal families, hedges and guards."""

    lang: str
    families: dict[Family, re.Pattern[str]]
    guard: re.Pattern[str]


def _compiled(lexicon: Lexicon) -> CompiledLexicon:
    families: dict[Family, re.Pattern[str]] = {
        family: _compile(getattr(lexicon, family)) for family in (*REFUSAL_FAMILIES, "hedge")
    }
    return CompiledLexicon(lexicon.lang, families, _compile(lexicon.guard))


LANGUAGES: Final = tuple(_compiled(lexicon) for lexicon in LEXICONS)
OFFER: Final = _compile(p for lexicon in LEXICONS for p in lexicon.offer)
REASON: Final = _compile(p for lexicon in LEXICONS for p in lexicon.reason)
_CONTRAST: Final = "|".join(_source(c) for lexicon in LEXICONS for c in lexicon.contrast)
_PIVOT: Final = "|".join(_source(p) for lexicon in LEXICONS for p in lexicon.pivot)
# Matched at a clause's start: a contrast ("but ..."), or what opens an answer ("here is").
CONTRAST: Final = re.compile(rf"\W*(?:{_CONTRAST})\b", re.IGNORECASE)
PIVOT: Final = re.compile(rf"\W*(?:(?:{_CONTRAST})\b\W*)?(?:{_PIVOT})\b", re.IGNORECASE)
# Clauses end at sentence punctuation, a semicolon or colon, a line break, or a contrast.
CLAUSE_BREAK: Final = re.compile(
    rf"(?<=[.!?\u2026;:])\s+|\n+|,?\s+(?=(?:{_CONTRAST})\b)", re.IGNORECASE
)
