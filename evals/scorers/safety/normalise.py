"""Undo the disguises attackers put on injection text, before phrases are matched.

`layers(text)` returns the text in several readings, each labelled with what revealed it:
the text as written (NFKC, invisible characters removed, case and accents folded), then
with homoglyphs folded (Cyrillic/Greek look-alikes to Latin, from Unicode's confusables data
via `confusable_homoglyphs`), leetspeak folded (`1gn0r3` to `ignore`), letters written apart
joined (`i g n o r e`, `i.g.n.o.r.e`, `ign-ore`), and embedded encodings decoded (base64,
hex, URL escapes, HTML entities, Unicode tag characters; rot13 and reversed text when the
text says so). Every reading is bounded: the text is clipped, decoding looks at a fixed
number of candidates of a fixed size, nested encodings are followed to a fixed depth and the
readings are capped, so a hostile text costs time linear in the clipped size.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

MAX_TEXT: Final = 100_000  # characters of one string that are read at all
MAX_CANDIDATES: Final = 12  # encoded runs decoded per text and encoding
MAX_ENCODED: Final = 8_192  # characters of one encoded run that are decoded
MIN_DECODED: Final = 8  # decoded text shorter than this says too little to match
MAX_DEPTH: Final = 2  # encodings inside encodings followed this deep
MAX_LAYERS: Final = 48  # readings of one text, decoded ones included

# Control characters and odd spaces read as a space (a tab between words is still a gap).
_CONTROL: Final = re.compile(r"[^\S\n]|[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SPACES: Final = re.compile(r" {2,}")
JOINED: Final = "joined spaced letters"
_LEET: Final = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
    | {"@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e"}
)
# A word mixing letters with leet characters (`1gn0r3`, `pr3v!ous`); plain numbers,
# prices and dates have no letters and stay as written. Words are found whole (no
# lookahead scanning to the end of each word, which is quadratic in a 10k-letter run).
_LEET_WORD: Final = re.compile(r"(?<![\w@$!|+€])[\w@$!|+€]{3,}")
_LEET_CHARS: Final = frozenset("01345789@$!|+€")
# Three or more single letters with one separator repeated between them: `i g n o r e`,
# `i.g.n.o.r.e`, `i-g-n-o-r-e`. Words apart stay apart when wider gaps separate them.
_SPACED: Final = re.compile(r"(?<!\w)\w([ .\-_*·/|])\w(?:\1\w)+(?!\w)")
_SPLIT: Final = re.compile(r"(?<=[a-z])[-_.*·~](?=[a-z])")
_BASE64: Final = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX: Final = re.compile(r"(?:[0-9a-fA-F]{2}[ :]?){8,}")
_URL_ESCAPE: Final = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY: Final = re.compile(r"&(?:#[0-9]{2,7}|#x[0-9a-fA-F]{2,6}|[A-Za-z]{2,10});")
_TAGS: Final = re.compile("[\U000e0020-\U000e007e]+")
_REVERSED_HINT: Final = re.compile(
    r"revers|backwards|r(?:ü|ue|u)ckw(?:ä|ae|a)rts|umgekehrt|(?:à|a) l'envers|invers|al rev(?:é|e)s"
    r"|al contrario|rovescio|da destra a sinistra",
    re.IGNORECASE,
)
_ROT13_HINT: Final = re.compile(r"rot[ -]?13|caesar|c[ée]sar|c[ée]sare", re.IGNORECASE)


@dataclass(frozen=True)
class Layer:
    """One reading of a text and what revealed it (`as written`, `decoded base64`, ...)."""

    how: str
    text: str
    # Letters written apart lose the spaces between words too: match without separators.
    compact: bool = False


def normal_form(text: str) -> str:
    """Return `text` with NFKC applied, invisibles dropped, case and accents folded."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT])
    # Format characters (zero-width spaces and joiners, bidi controls, soft hyphens, tag
    # characters) render as nothing, so attackers put them inside words to break matching.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.replace("\u2019", "'").replace("\u02bc", "'")  # typographic apostrophes
    text = unicodedata.normalize("NFKD", _CONTROL.sub(" ", text).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text)


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    """Return the ASCII letter or digit `ch` is confusable with, else `ch` itself."""
    for glyph in confusables.confusables_data.get(ch, ()):
        target = glyph["c"]
        if len(target) == 1 and target.isascii() and target.isalnum():
            return str(target).lower()
    return ch


def fold_homoglyphs(text: str) -> str:
    """Return `text` with non-ASCII look-alikes of Latin letters replaced by those letters."""
    return "".join(ch if ch.isascii() else _fold(ch) for ch in text)


def fold_leet(text: str, one: str = "i") -> str:
    """Return `text` with leetspeak words spelled in letters (`one`: what `1` reads as)."""
    table = _LEET | str.maketrans({"1": one})

    def fold(match: re.Match[str]) -> str:
        word = match.group()
        mixed = any(ch.isalpha() for ch in word) and any(ch in _LEET_CHARS for ch in word)
        return word.translate(table) if mixed else word

    return _LEET_WORD.sub(fold, text)


def join_spaced(text: str) -> str:
    """Return `text` with runs of single letters written apart joined into words."""
    return _SPACED.sub(lambda m: m.group().replace(m.group(1), ""), text)


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    return text if len(text) >= MIN_DECODED and letters >= 0.8 * len(text) else None


def _base64(run: str) -> str | None:
    run = run.rstrip("=")[:MAX_ENCODED]
    run = run[:-1] if len(run) % 4 == 1 else run  # a lone trailing sextet holds no byte
    altchars = b"-_" if ("-" in run or "_" in run) else None
    try:
        data = base64.b64decode(run + "=" * (-len(run) % 4), altchars=altchars)
    except (binascii.Error, ValueError):
        return None
    return _printable(data)


def _hex(run: str) -> str | None:
    digits = re.sub(r"[ :]", "", run)[:MAX_ENCODED]
    try:
        return _printable(bytes.fromhex(digits[: len(digits) - len(digits) % 2]))
    except ValueError:
        return None


def decoded(text: str) -> Iterator[tuple[str, str]]:
    """Yield (encoding, decoded text) for the encodings embedded in `text`, bounded."""
    for name, finder, decode in (("base64", _BASE64, _base64), ("hex", _HEX, _hex)):
        for i, match in enumerate(finder.finditer(text)):
            if i >= MAX_CANDIDATES:
                break
            found = decode(match.group())
            if found is not None:
                yield name, found
    if _URL_ESCAPE.search(text):
        yield "URL-encoding", urllib.parse.unquote(text)
    if _ENTITY.search(text):
        yield "HTML entities", html.unescape(text)
    tags = "".join(chr(ord(ch) - 0xE0000) for run in _TAGS.findall(text) for ch in run)
    if len(tags) >= MIN_DECODED:
        yield "Unicode tag characters", tags
    if _ROT13_HINT.search(text):
        yield "rot13", codecs.encode(text, "rot13")
    # "Read this backwards": words or letters reversed (the hint may be reversed too).
    if _REVERSED_HINT.search(text) or _REVERSED_HINT.search(text[::-1]):
        yield "reversed words", " ".join(reversed(text.split()))
        yield "reversed letters", text[::-1]


def readings(text: str) -> Iterator[tuple[str, str]]:
    """Yield (how, text) for the folded readings of one already decoded text."""
    plain = normal_form(text)
    yield "", plain
    folded = fold_homoglyphs(plain)
    if folded != plain:
        yield "folded homoglyphs", folded
    leet = fold_leet(folded)
    if leet != folded:
        yield "folded leetspeak", leet
        other = fold_leet(folded, "l")
        if other != leet:
            yield "folded leetspeak", other
    joined = join_spaced(leet)
    if joined != leet:
        yield JOINED, joined
    unsplit = _SPLIT.sub("", leet)  # "ign-ore prev-ious": separators inside words
    if unsplit != leet:
        yield "joined split words", unsplit


def layers(text: str) -> list[Layer]:
    """Return the readings of `text`, as written first, then folded and decoded ones."""
    text = text[:MAX_TEXT]
    found: list[Layer] = []
    pending: list[tuple[str, str, int]] = [("", text, 0)]
    while pending:
        source, raw, depth = pending.pop(0)
        for how, reading in readings(raw):
            label = ", ".join(part for part in (source, how) if part) or "as written"
            found.append(Layer(label, reading, compact=how == JOINED))
        if depth >= MAX_DEPTH or len(found) >= MAX_LAYERS:
            continue
        for encoding, plain in decoded(raw):
            if plain != raw:
                label = ", ".join(part for part in (source, f"decoded {encoding}") if part)
                pending.append((label, plain, depth + 1))
    return found[:MAX_LAYERS]
