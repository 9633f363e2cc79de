"""Phrase families of prompt injection per language, and the weak cues that count in pairs.

Entry points: `RULES` (each match is an attack, unless reported.py sets it aside) and `CUES`
(two different kinds in one text are an attack). One module per language; common.py holds
what needs no language (chat-template tokens, fake system headers).
"""

from __future__ import annotations

from typing import Final

from evals.scorers.safety.phrases import common, de, en, es, fr, it
from evals.scorers.safety.phrases.build import Rule

LANGUAGES: Final = ("en", "de", "fr", "es", "it")
RULES: Final[tuple[Rule, ...]] = (
    *common.RULES,
    *en.RULES,
    *de.RULES,
    *fr.RULES,
    *es.RULES,
    *it.RULES,
)
CUES: Final[tuple[Rule, ...]] = (*en.CUES, *de.CUES, *fr.CUES, *es.CUES, *it.CUES)

__all__ = ["CUES", "LANGUAGES", "RULES", "Rule"]
