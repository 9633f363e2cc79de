"""The names of the phrase families, as reasons show them."""

from __future__ import annotations

from typing import Final

OVERRIDE: Final = "override"
ROLEPLAY: Final = "role-play jailbreak"
EXTRACTION: Final = "prompt extraction"
INDIRECT: Final = "indirect injection"
TEMPLATE: Final = "chat-template tokens"
SYSTEM: Final = "fake system message"

# Weak cues: none is an attack alone ("developer mode", "without restrictions" occur in
# ordinary text); two different kinds in one text are.
PERSONA: Final = "persona switch"
NO_LIMITS: Final = "no-limits request"
NO_REFUSAL: Final = "refusal suppression"
MODE: Final = "special mode"
DUAL: Final = "two answers"
EVASION: Final = "filter evasion"
LAWLESS: Final = "lawless fiction"
