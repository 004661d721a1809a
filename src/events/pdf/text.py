"""Text layout for PDFs: which font draws each run (Latin or Arabic script), Arabic shaping, bidi order, widths, wrapping.

Text is set in the vendored Noto Sans (Latin, Greek, Cyrillic...) and Noto Sans Arabic (Arabic, Farsi,
Urdu), chosen run by run, so a name like "Amal ليلى" uses both. reportlab cannot shape Arabic itself
without uharfbuzz, so Arabic-script text is shaped into presentation forms with arabic-reshaper and put
in visual order with python-bidi (lines are broken first, in logical order, then each is reordered).
Used by ticket PDFs (events.tickets.pdf) and statement PDFs (events.ledger.pdf).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import arabic_reshaper
from bidi import get_display

from events.config import PROJECT_ROOT
from events.pdf.reportlab_internals import register_font, string_width

FONT_DIR = PROJECT_ROOT / "static" / "fonts"
ELLIPSIS = "…"


# --- fonts -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Family:
    regular: str
    bold: str
    covers: frozenset[int]


FONT_FILES = {
    "NotoSans": "NotoSans-Regular.ttf",
    "NotoSans-Bold": "NotoSans-Bold.ttf",
    "NotoSansArabic": "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold": "NotoSansArabic-Bold.ttf",
}
_fonts_lock = threading.Lock()
_families: tuple[_Family, _Family] | None = None


def fonts() -> tuple[_Family, _Family]:
    """(Latin, Arabic) font families, registered with reportlab on first use."""
    global _families  # noqa: PLW0603 - registered once, on first use
    if _families is None:
        with _fonts_lock:
            if _families is None:
                covers = {
                    name: register_font(name, FONT_DIR / filename, ascii_readable=name not in SUBSET_SEEDS) for name, filename in FONT_FILES.items()
                }
                _families = (
                    _Family("NotoSans", "NotoSans-Bold", covers["NotoSans"]),
                    _Family("NotoSansArabic", "NotoSansArabic-Bold", covers["NotoSansArabic"]),
                )
    return _families


# --- script runs, shaping, bidi, widths, wrapping ------------------------------------------------------

# Arabic script, including its presentation forms (what arabic-reshaper produces).
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Anything written right to left (Hebrew, Arabic, Syriac, Thaana, N'Ko...) needs the bidi algorithm.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_RESHAPER = arabic_reshaper.ArabicReshaper()
# A line's paragraph direction: "auto" takes it from its first letter (as HTML's dir="auto" does), for text a
# person typed (a name, a title); "rtl" for an Arabic or Farsi page's own words (a label, a date), so that the
# numbers and Latin words inside them sit where a right-to-left reader expects them.
Direction = Literal["auto", "ltr", "rtl"]
_BASE_DIRECTION = {"auto": None, "ltr": "L", "rtl": "R"}
# Marks and isolates that only steer the bidi algorithm (Babel puts some in Arabic dates): gone once it has run.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_ANY_BIDI_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What arabic-reshaper draws Arabic and Farsi with: the joined forms of the Arabic letters (U+FE70-U+FEFC,
# lam-alef ligatures included), Farsi's extra letters (peh, tcheh, jeh, keheh, gaf, Farsi yeh), the digits,
# the punctuation and the zero-width non-joiner and joiner (Farsi writes 'می‌شود' with U+200C). Pre-loaded
# into each PDF's Arabic font subset (about 15 kB more than a name's own letters) so that subsets repeat and
# are cached (SUBSET_SEEDS, for DocumentFonts).
#
# All of it goes into the font's first subset, one PDF font, so that every letter of a word comes from the
# same PDF font: poppler (pdftotext, and the copy and search of viewers built on it) breaks a word at a glyph
# of no width such as U+200C's and joins the pieces again only where both sides are in the same PDF font, so
# 'می‌شود' with its letters spread over two subsets read as two words. The Arabic fonts are therefore
# registered without asciiReadable (fonts()): their runs always hold Arabic letters, never ASCII alone, so the
# 96 codes it keeps for ASCII bought them nothing, and without them the first subset has room for the seed's
# 190 characters and 64 more.
ARABIC_SEED = "".join(
    map(
        chr,
        [
            *range(0xFE70, 0xFEFD),
            *range(0xFB56, 0xFB5A),
            *range(0xFB7A, 0xFB7E),
            *range(0xFB8A, 0xFB96),
            *range(0xFBFC, 0xFC00),
            *range(0x0660, 0x066A),
            *range(0x06F0, 0x06FA),
            0x060C,
            0x061B,
            0x061F,
            0x200C,
            0x200D,
        ],
    )
)
SUBSET_SEEDS = {"NotoSansArabic": ARABIC_SEED, "NotoSansArabic-Bold": ARABIC_SEED}


_BRACKETS = {"(": ")", "[": "]", "{": "}", "<": ">", "«": "»", "‹": "›"}
_MIRROR = {**_BRACKETS, **{closing: opening for opening, closing in _BRACKETS.items()}}


def _mirror_reversed_brackets(visual: str) -> str:
    """Mirror brackets that the bidi algorithm put in right-to-left order.

    python-bidi 0.6 reorders correctly (bracket pairs included) but does not mirror glyphs, so
    'ليلى (Sara)' comes back as ')Sara( ىليل', brackets facing the wrong way. A pair on a right-to-left
    level is exactly a pair that reads closing-then-opening from the left, so those pairs are swapped.
    (Unpaired brackets are left as they are.)
    """
    if not any(char in _MIRROR for char in visual):
        return visual
    chars = list(visual)
    stack: list[int] = []
    for index, char in enumerate(chars):
        if char not in _MIRROR:
            continue
        if stack:
            top = chars[stack[-1]]
            if _BRACKETS.get(top) == char:  # '(' ... ')': left to right, as it should be
                stack.pop()
                continue
            if _BRACKETS.get(char) == top:  # ')' ... '(': reversed by the bidi algorithm
                chars[stack.pop()] = char
                chars[index] = top
                continue
        stack.append(index)
    return "".join(chars)


# Text shaped and measured per process (a PDF pool process's, events.cpu). A ticket's shared text (its labels, the event's
# title, venue and date) comes again on every ticket and stays; its guest's name, order reference and code are new on
# every ticket, about six entries each. So these caches fill at the pace tickets are rendered, whatever their size, and
# their size is the memory they end up holding: 1,024 entries (about 300 bytes each) keep the shared text of many events
# and fill within a few hundred tickets; 8,192 took thousands, to some 5 MB (bench/soak.py --probe).
TEXTS_KEPT = 1024


@lru_cache(maxsize=TEXTS_KEPT)
def visual_runs(text: str, bold: bool = False, direction: Direction = "auto") -> tuple[tuple[str, str], ...]:
    """``text`` (one line, logical order) as (font name, text) runs in the order they are drawn, left to right."""
    if direction == "rtl" or _RIGHT_TO_LEFT.search(text):
        text = _mirror_reversed_brackets(get_display(_RESHAPER.reshape(text), base_dir=_BASE_DIRECTION[direction]))
    if _ANY_BIDI_CONTROL.search(text):
        text = text.translate(_BIDI_CONTROLS)
    latin, arabic = fonts()
    runs: list[list[str]] = []
    current: _Family | None = None
    for char in text:
        code = ord(char)
        if _ARABIC_SCRIPT.match(char):
            family = arabic
        elif current is not None and code in current.covers and not unicodedata.category(char).startswith("L"):
            family = current  # spaces, digits and punctuation stay in the run they sit in
        else:
            family = latin if code in latin.covers or code not in arabic.covers else arabic
        name = family.bold if bold else family.regular
        if family is current:
            runs[-1][1] += char
        else:
            runs.append([name, char])
            current = family
    return tuple((name, chunk) for name, chunk in runs)


@lru_cache(maxsize=TEXTS_KEPT)
def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(string_width(chunk, name, size) for name, chunk in visual_runs(text, bold))


@lru_cache(maxsize=TEXTS_KEPT // 2)  # one entry per text wrapped, where the others take one per line tried
def wrap(text: str, size: float, bold: bool, width: float, max_lines: int) -> tuple[str, ...]:
    """Break ``text`` into lines no wider than ``width``; past ``max_lines`` the last line ends with '…'."""
    words = " ".join(text.split()).split(" ") if text.strip() else []
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A word wider than the line on its own (a long e-mail-like name, a URL) is cut by characters.
        rest = word
        while text_width(rest, size, bold) > width and len(rest) > 1:
            cut = len(rest) - 1
            while cut > 1 and text_width(rest[:cut], size, bold) > width:
                cut -= 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + ELLIPSIS, size, bold) > width:
            last = last[:-1].rstrip()
        lines = [*lines[: max_lines - 1], last + ELLIPSIS]
    return tuple(lines)
