"""Safety scorers (1.0 means safe): PII, prompt injection and jailbreaks, refusals.

- `pii`: PII in the scanned text, on Presidio (pii.py, pii_engine.py, pii_recognizers.py).
- `prompt_injection`: injection and jailbreak markers (injection.py).
- `refusal`: whether an answer refuses, against what the suite expects (refusal.py).

Toxicity is judge-based and lives with the judge machinery in evals.scorers.judge.
"""

from __future__ import annotations

from typing import Any, Final

from evals.scorers.base import BaseScorer
from evals.scorers.safety.injection import PromptInjection, PromptInjectionParams
from evals.scorers.safety.pii import PII_KINDS, Pii, PiiKind, find_pii
from evals.scorers.safety.refusal import Refusal, find_refusal

__all__ = [
    "PII_KINDS",
    "SAFETY",
    "Pii",
    "PiiKind",
    "PromptInjection",
    "PromptInjectionParams",
    "Refusal",
    "find_pii",
    "find_refusal",
]

SAFETY: Final[tuple[type[BaseScorer[Any]], ...]] = (Pii, PromptInjection, Refusal)
