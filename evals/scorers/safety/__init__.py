"""Safety scorers (1.0 means safe): PII, prompt injection and jailbreaks, refusals.

- `pii`: PII in the scanned text, on Presidio (pii.py, pii_engine.py, pii_recognizers.py).
- `prompt_injection`: injection and jailbreak phrase families, disguises undone (injection.py,
  with tripwire.py, normalise.py, reported.py and phrases/); `prompt_injection_judge` asks a
  judge (injection_judge.py).
- `refusal`: whether an answer refuses, hedges or answers, against what the suite expects
  (refusal.py, phrases in refusal_phrases/); `refusal_judge` asks a judge (refusal_judge.py).

Toxicity is judge-based and lives with the judge machinery in evals.scorers.judge.
"""

from __future__ import annotations

from typing import Any, Final

from evals.scorers.base import BaseScorer
from evals.scorers.safety.injection import PromptInjection, PromptInjectionParams
from evals.scorers.safety.pii import PII_KINDS, Pii, PiiKind, find_pii
from evals.scorers.safety.refusal import LABELS, Phrase, Refusal, classify_answer

__all__ = [
    "LABELS",
    "PII_KINDS",
    "SAFETY",
    "SAFETY_KINDS",
    "Phrase",
    "Pii",
    "PiiKind",
    "PromptInjection",
    "PromptInjectionParams",
    "Refusal",
    "classify_answer",
    "find_pii",
]

SAFETY: Final[tuple[type[BaseScorer[Any]], ...]] = (Pii, PromptInjection, Refusal)
# Scorer types whose failures are safety flags (on spans, generations and /metrics), judged
# and deterministic alike.
SAFETY_KINDS: Final = frozenset(
    {"pii", "prompt_injection", "prompt_injection_judge", "refusal", "refusal_judge"}
    | {"toxicity", "canary", "attack_succeeded"}
)
