"""Tell an attack from text that talks about one: negations, quotations, reported speech.

"Never reveal your system prompt", "the user tried to make me ignore my instructions",
"what does 'ignore previous instructions' mean?" and a refusal that quotes the attack carry
the attack's words without being one. A match is set aside when a negation or a reporting
frame stands right before it, or when it is quoted in a text that discusses it. This is a
heuristic on the normal form (lower case, no accents): an attacker can wrap an attack in
such a frame, and an unquoted discussion without a frame is still flagged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import Final

_WINDOW: Final = 90  # characters before a match where a frame counts
_MAX_CUES: Final = 1_000  # discussion words of one text that are looked at
# A negation up to six words before the match, with no sentence break between.
_NEGATED: Final = re.compile(
    r"(?<!\w)(?:not|never|\w+n't|cannot|refuse to|nicht|nie|niemals|keinesfalls|auf keinen fall"
    r"|ne|n'|jamais|nunca|jamas|no (?:debes|debe|puedo|voy|vas)|non|mai)"
    r"(?:[\s,]+\w+){0,6}?[\s,]+\Z"
)
# Someone else said it: "the user tried to make me", "someone wrote", "asked me to".
_FRAME: Final = re.compile(
    r"(?:\b(?:users?|customers?|someone|somebody|attackers?|people|message|email|prompt|"
    r"input|they|he|she|it|\w*nutzer\w*|anwender\w*|kunde\w*|jemand|utilisateur\w*|"
    r"clients?|quelqu'un|usuario\w*|cliente\w*|alguien|utent\w*|qualcuno)\b(?:\W+\w+)"
    r"{0,3}?\W+(?:tried|tries|attempted|attempts|wanted|wants|asked|asks|told|tells|"
    r"instructed|wrote|writes|said|says|typed|types|sent|sends|included|contains|contained|"
    r"try|type|write|say|send|keep typing|versuchte\w*|versucht|wollte\w*|bat|baten|"
    r"schrieb\w*|schreibt|sagte\w*|tippte\w*|a essaye|a tente|voulait|voulaient|"
    r"m'a demande|a ecrit|ecrit|ecrivaient|ecrivait|tapaient|disaient|dit|intento|"
    r"intentaron|quiso|pidio|escribio|escribe|escribian|escribia|decian|dice|ha provato|"
    r"hanno provato|ha tentato|voleva|volevano|ha chiesto|ha scritto|scrive|scrivevano|"
    r"scriveva|digitavano|dicevano)\b"
    r"|\b(?:asking|asked|ask|asks) (?:the|a|an) (?:bot|model|ai|assistant|chatbot|llm)s? to"
    r"|\b(?:what|how) (?:does|do|is|would) (?:the )?(?:phrase|sentence|prompt|command|"
    r"instruction|text|line)?\b|\bwas bedeutet|\bque (?:veut dire|signifie)|\bque significa"
    r"|\bcosa significa|\b(?:phrases?|sentences?|inputs?|prompts?|attacks?) (?:like|such as)"
    r"|\b(?:eingaben?|satze|befehle|phrasen|angriffe|entrees|phrases|messages|attaques|"
    r"entradas|frases|mensajes|ataques|frasi|messaggi|attacchi|input) (?:wie|comme|telles? que"
    r"|como|tales como|come|quali)"
    r"|\bfor example|\be\.g\.|\bexamples? (?:of|like|such as)|\bzum beispiel|\bpar exemple"
    r"|\bpor ejemplo|\bad esempio|\bper esempio)(?:[^.!?\n]*)\Z"
)
# "the input '...'", "auf die Eingabe '...'": a quotation named as data, not given as an
# order (a colon instead, "follow this sentence: '...'", introduces a payload).
_NAMED: Final = re.compile(
    r"\b(?:input|prompt|message|text|string|request|eingabe|nachricht|anfrage|saisie|entree|"
    r"requete|entrada|mensaje|peticion|messaggio|richiesta|testo)\s*\Z"
)
# Words of a text that discusses an attack rather than making one.
_DISCUSSES: Final = re.compile(
    r"\b(?:\w*injections?|\w*inyecci\w+|\w*iniezion\w+|\w*injektion\w*|\w*jailbreak\w*|"
    r"attacks?|attackers?|tricks?|techniques?|payloads?|exploits?|"
    r"means?|meaning|example|classic|detect\w*|filter\w*|block\w*|flag\w*|refus\w*|declin\w*"
    r"|can't|cannot|won't|will not|not able to|tried|attempt\w*|asked me|bedeute\w*|"
    r"beispiel|angriff\w*|erkenn\w*|ich kann nicht|ich werde nicht|versucht\w*|"
    r"signifie|veut dire|exemple|attaque\w*|je ne peux pas|je ne vais pas|essaye|tente|"
    r"significa|ejemplo|ataque\w*|no puedo|no voy a|intento|esempio|attacc\w*|"
    r"non posso|non lo faro|tentato|provato|m'a demande|me pidio|mi ha chiesto)\b"
)
_OPEN: Final = "\"“„«‹‘'`"
_CLOSE: Final = "\"”“»›’'`"


def negated(before: str) -> bool:
    """Return whether a negation stands right before a match (`before`: the text up to it)."""
    return _NEGATED.search(before[-_WINDOW:]) is not None


def framed(before: str) -> bool:
    """Return whether a reporting frame ("the user tried to", "for example") precedes."""
    return _FRAME.search(before[-_WINDOW:]) is not None


def quoted(text: str, start: int, end: int) -> int:
    """Return where the quotation holding `text[start:end]` opens on its line, else -1."""
    line_start = text.rfind("\n", 0, start) + 1
    opener = -1
    for i in range(start - 1, max(line_start, start - 200) - 1, -1):
        ch = text[i]
        if ch in _OPEN and (ch != "'" or i == 0 or not text[i - 1].isalnum()):
            opener = i
            break
    if opener < 0:
        return -1
    line_end = text.find("\n", end)
    stop = min(len(text) if line_end < 0 else line_end, end + 300)
    for j in range(end, stop):
        ch = text[j]
        if ch in _CLOSE and (ch != "'" or j + 1 >= len(text) or not text[j + 1].isalnum()):
            return opener
    return -1


@lru_cache(maxsize=16)
def _discussion(text: str) -> tuple[tuple[int, int], ...]:
    # Found once per text (a str caches its hash), not once per match: a text with
    # thousands of quoted matches would otherwise be searched thousands of times.
    return tuple(m.span() for m in islice(_DISCUSSES.finditer(text), _MAX_CUES))


def discussed(text: str, start: int, end: int) -> bool:
    """Return whether the text around a match (not the match itself) talks about an attack."""
    return any(stop <= start or begin >= end for begin, stop in _discussion(text))


def reported(text: str, start: int, end: int) -> bool:
    """Return whether the match at `text[start:end]` is talked about rather than meant."""
    before = text[max(0, start - _WINDOW) : start]
    if negated(before) or framed(before):
        return True
    opener = quoted(text, start, end)
    if opener < 0:
        return False
    named = _NAMED.search(text[max(0, opener - 40) : opener]) is not None
    return named or discussed(text, start, end)
