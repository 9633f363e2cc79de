"""The shape of one language's refusal phrases, and the text folding both sides go through."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

# Typographic apostrophes and quotes, and the spaces French typography puts before ?!:;.
_PUNCTUATION: Final = {
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
}


def _fold_table() -> dict[int, str]:
    table = {ord(k): v for k, v in _PUNCTUATION.items()}
    for code in range(0xC0, 0x250):  # Latin-1 Supplement and Latin Extended-A/B
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    return table


_FOLD: Final = _fold_table()


def fold(text: str) -> str:
    """Return `text` without accents and typographic quotes, one character for one.

    Offsets stay valid, so a span found in the folded text is the same span in the original.
    Patterns are folded too: they are written with their accents, and match either spelling.
    """
    return text.translate(_FOLD)


def gap(words: int) -> str:
    """Return a pattern for up to `words` words (lazily) that never crosses a sentence end."""
    return rf"(?:[^\s.!?]+\s+){{0,{words}}}?"


def alt(*options: str) -> str:
    """Return a non-capturing alternation of `options`."""
    return "(?:" + "|".join(options) + ")"


@dataclass(frozen=True)
class Lexicon:
    """One language's phrase families, as regular expressions.

    Patterns match case-insensitively on folded text (see `fold`), and a space in a pattern
    matches any run of whitespace. A refusal is found by `decline` (first person: a modal or
    negation with a verb of helping or providing), `apology` (an apology with an inability)
    and `policy` (rules or guidelines forbid it); `limit` declines advice or states what the
    model cannot do (access, diagnose), which is a caveat when an answer follows. The other
    families decide what surrounds a refusal: `hedge` (disclaimers), `guard` (look-alikes such
    as "I can't help but notice", masked before matching), `offer` (alternatives, redirects,
    sympathy: not an answer), `reason` (why a request is refused: harm, law, consent; a clause
    that gives one explains a refusal rather than answering), `pivot` (what opens an answer
    after a decline) and `contrast` (conjunctions that start a clause).
    """

    lang: str
    decline: tuple[str, ...]
    apology: tuple[str, ...]
    policy: tuple[str, ...]
    limit: tuple[str, ...]
    hedge: tuple[str, ...]
    guard: tuple[str, ...]
    offer: tuple[str, ...]
    reason: tuple[str, ...]
    pivot: tuple[str, ...]
    contrast: tuple[str, ...]
