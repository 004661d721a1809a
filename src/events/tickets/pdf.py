"""Ticket PDFs with reportlab: an A4 page or a phone-sized page per ticket, QR drawn as vector squares.

Text is set in the vendored Noto Sans (Latin, Greek, Cyrillic...) and Noto Sans Arabic (Arabic, Farsi,
Urdu), chosen run by run, so a name like "Amal ليلى" uses both. reportlab cannot shape Arabic itself
without uharfbuzz, so Arabic-script text is shaped into presentation forms with arabic-reshaper and put
in visual order with python-bidi (lines are broken first, in logical order, then each is reordered).

Speed (see bench/tickets.py): fonts are registered once; the event's wrapped lines are cached; each
font subset's program, CMap and Font/FontDescriptor dictionaries are made and formatted once (ASCII-only
text always gives the same subset, and goes to it without a per-document lookup); the QR code is one
compressed form XObject per code. Encoding a new code with the qrcode package (events.tickets.qr) is
about half of a single-ticket render, and reportlab's own formatting of each document most of the rest.
"""

from __future__ import annotations

import abc
import io
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import arabic_reshaper
from babel.dates import format_date
from bidi import get_display
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas

from events.config import PROJECT_ROOT
from events.tickets.qr import QUIET_ZONE, qr_symbol
from events.tickets.views import TicketView

FONT_DIR = PROJECT_ROOT / "static" / "fonts"

PHONE = (90 * mm, 190 * mm)  # about a phone screen's shape: fits the width, one page per screen
PAGE_SIZES = {"a4": A4, "phone": PHONE}

# Plain Flate streams: ASCII85 on top only makes files 25% bigger and costs a pure-Python pass per page.
# reportlab is used for nothing else in this app, so the process-wide setting is ours to choose.
rl_config.useA85 = 0

INK = (0x1B / 255, 0x1B / 255, 0x1F / 255)
MUTED = (0x4A / 255, 0x4A / 255, 0x55 / 255)
ACCENT = (0x0B / 255, 0x5C / 255, 0x4A / 255)
RULE = (0xC9 / 255, 0xC5 / 255, 0xBB / 255)
WHITE = (1.0, 1.0, 1.0)

SHOW_AT_DOOR = "Show this QR code at the door"
ELLIPSIS = "…"


# --- fonts -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SubsetParts:
    """One subset of a font as it goes into a PDF: everything but the object numbers, made once."""

    base_font: str
    font: bytes  # the Font dictionary, formatted, with %(name)s, %(descriptor)s and %(to_unicode)s to fill in
    descriptor: bytes  # the FontDescriptor dictionary, formatted, with %(program)s (its FontFile2) to fill in
    to_unicode: bytes  # the ToUnicode CMap, Flate-compressed
    program: bytes  # the subset font program, Flate-compressed
    program_length: int


class _Formatted(pdfdoc.PDFObject):
    """An object formatted once by reportlab, with ``%(name)s`` where references to other objects go."""

    __RefOnly__ = 1  # an indirect object: where it is used, reportlab writes a reference to it

    def __init__(self, template: bytes, **references: pdfdoc.PDFObjectReference | bytes) -> None:
        self.template = template
        self.references = references

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        return self.template % {
            name.encode(): ref if isinstance(ref, bytes) else ref.format(document) for name, ref in self.references.items()
        }


class _Slot(pdfdoc.PDFObject):
    """Stands for a reference (or name) while a _Formatted template is made."""

    def __init__(self, name: str) -> None:
        self.name = name

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        return b"\0" + self.name.encode() + b"\0"


def _template(obj: pdfdoc.PDFObject) -> bytes:
    formatted = obj.format(pdfdoc.PDFDocument()).replace(b"%", b"%%")  # no references inside: any document will do
    return re.sub(rb"\0(\w+)\0", rb"%(\1)s", formatted)


class _EmbeddedFont(TTFont):
    """A TrueType font that embeds each distinct subset's objects from a cache.

    reportlab rebuilds, reformats and recompresses the subset font program, its widths and its CMap for
    every document, and formats the font and descriptor dictionaries entry by entry, which together cost
    more than drawing the ticket. With ``asciiReadable`` every ASCII-only text gives the same first
    subset, so nearly every ticket reuses the same cached parts.
    (Mirrors reportlab's TTFont.addObjects; the output is the same objects.)
    """

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=1)

    def addObjects(self, doc: pdfdoc.PDFDocument) -> None:  # noqa: N802 (reportlab's name)
        state = self._assignState(doc)
        state.frozen = 1
        fonts_dict = doc.idToObject["BasicFonts"].dict
        for index, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(index, doc)[1:]
            parts = _subset_parts(self, index, tuple(subset))
            program = _flate_stream(parts.program)
            program.dictionary["Length1"] = parts.program_length
            program_ref = doc.Reference(program, f"fontFile:{self.face.filename}({parts.base_font})")
            descriptor = doc.Reference(_Formatted(parts.descriptor, program=program_ref), f"fontDescriptor:{parts.base_font}")
            to_unicode = doc.Reference(_flate_stream(parts.to_unicode), f"toUnicodeCMap:{parts.base_font}")
            pdf_font = _Formatted(
                parts.font, name=pdfdoc.PDFName(internal_name).encode(), descriptor=descriptor, to_unicode=to_unicode
            )
            doc.Reference(pdf_font, internal_name)
            fonts_dict[internal_name] = pdf_font
        del self.state[doc]


def _flate_stream(compressed: bytes) -> pdfdoc.PDFStream:
    stream = pdfdoc.PDFStream(content=compressed, filters=[])
    stream.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
    return stream


@lru_cache(maxsize=256)
def _subset_parts(font: _EmbeddedFont, index: int, subset: tuple[int, ...]) -> _SubsetParts:
    face = font.face
    base_font = b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
    program = face.makeSubset(list(subset))
    descriptor = pdfdoc.PDFDictionary(
        {
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(base_font),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "FontFile2": _Slot("program"),
            "MissingWidth": face.defaultWidth,
        }
    )
    pdf_font = pdfdoc.PDFDictionary(
        {
            "Type": pdfdoc.PDFName("Font"),
            "Subtype": pdfdoc.PDFName("TrueType"),
            "BaseFont": pdfdoc.PDFName(base_font),
            "Name": _Slot("name"),
            "FirstChar": 0,
            "LastChar": len(subset) - 1,
            "Widths": pdfdoc.PDFArray([face.getCharWidth(code) for code in subset]),
            "ToUnicode": _Slot("to_unicode"),
            "FontDescriptor": _Slot("descriptor"),
        }
    )
    return _SubsetParts(
        base_font=base_font,
        font=_template(pdf_font),
        descriptor=_template(descriptor),
        to_unicode=zlib.compress(makeToUnicodeCMap(base_font, subset).encode()),
        program=zlib.compress(program),
        program_length=len(program),
    )


@dataclass(frozen=True, slots=True)
class _Family:
    regular: str
    bold: str
    covers: frozenset[int]


_FONT_FILES = {
    "NotoSans": "NotoSans-Regular.ttf",
    "NotoSans-Bold": "NotoSans-Bold.ttf",
    "NotoSansArabic": "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold": "NotoSansArabic-Bold.ttf",
}
_fonts_lock = threading.Lock()
_families: tuple[_Family, _Family] | None = None


def fonts() -> tuple[_Family, _Family]:
    """(Latin, Arabic) font families, registered with reportlab on first use."""
    global _families
    if _families is None:
        with _fonts_lock:
            if _families is None:
                loaded = {}
                for name, filename in _FONT_FILES.items():
                    font = _EmbeddedFont(name, str(FONT_DIR / filename))
                    pdfmetrics.registerFont(font)
                    loaded[name] = font
                _families = (
                    _Family("NotoSans", "NotoSans-Bold", frozenset(loaded["NotoSans"].face.charToGlyph)),
                    _Family("NotoSansArabic", "NotoSansArabic-Bold", frozenset(loaded["NotoSansArabic"].face.charToGlyph)),
                )
    return _families


# --- text: script runs, shaping, bidi, wrapping -------------------------------------------------------------

# Arabic script, including its presentation forms (what arabic-reshaper produces).
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u0870-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Anything written right to left (Hebrew, Arabic, Syriac, Thaana, N'Ko...) needs the bidi algorithm.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_RESHAPER = arabic_reshaper.ArabicReshaper()
# What arabic-reshaper draws Arabic and Farsi with: the joined forms of the Arabic letters (U+FE70-U+FEFC,
# lam-alef ligatures included), Farsi's extra letters (peh, tcheh, jeh, keheh, gaf, Farsi yeh), the digits
# and the punctuation. Pre-loaded into each PDF's Arabic font subset (about 15 kB more than a name's own
# letters) so that subsets repeat and are cached; see _Page.line.
_ARABIC_SEED = "".join(
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
        ],
    )
)


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


@lru_cache(maxsize=8192)
def visual_runs(text: str, bold: bool = False) -> tuple[tuple[str, str], ...]:
    """``text`` (one line, logical order) as (font name, text) runs in the order they are drawn, left to right."""
    if _RIGHT_TO_LEFT.search(text):
        text = _mirror_reversed_brackets(get_display(_RESHAPER.reshape(text)))
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


@lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(pdfmetrics.stringWidth(chunk, name, size) for name, chunk in visual_runs(text, bold))


@dataclass(frozen=True, slots=True)
class Style:
    size: float
    bold: bool = False
    colour: tuple[float, float, float] = INK
    leading: float = 1.22
    tracking: float = 0.0  # extra space between letters, in points (small capital labels)

    @property
    def line_height(self) -> float:
        return self.size * self.leading


@lru_cache(maxsize=4096)
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
        while text_width(word, size, bold) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and text_width(word[:cut], size, bold) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + ELLIPSIS, size, bold) > width:
            last = last[:-1].rstrip()
        lines = lines[: max_lines - 1] + [last + ELLIPSIS]
    return tuple(lines)


# PDF string escapes for the bytes of a text run: backslash and parentheses, and octal for the rest.
_PDF_STRING = {code: f"\\{code:03o}" for code in [*range(32), *range(127, 256)]}
_PDF_STRING.update({ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)"})


@lru_cache(maxsize=8192)
def _ascii_string(font_name: str, text: str) -> str | None:
    """``text`` as a PDF string in ``font_name``'s first subset, if it is all ASCII the font has, else None.

    With ``asciiReadable`` reportlab gives every ASCII character the font has its own code in the first
    subset of every document, so most of a ticket's text needs no per-document lookup (splitString).
    """
    face = pdfmetrics.getFont(font_name).face
    if not (text.isascii() and text.isprintable() and all(ord(char) in face.charToGlyph for char in text)):
        return None
    return text.translate(_PDF_STRING)


class _Lines(abc.ABC):
    """Something lines of text are drawn on: a page, or the part every page of a layout shares."""

    @abc.abstractmethod
    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        """Draw one line of text with its baseline at ``y``."""

    _colour: tuple[float, float, float] | None
    _tracking: float

    def _set_colour_and_tracking(self, ops: list[str], style: Style) -> None:
        """Text state operators, written only when they change (the state carries over between lines)."""
        if self._colour != style.colour:
            ops.append("{:.4f} {:.4f} {:.4f} rg".format(*style.colour))
            self._colour = style.colour
        if self._tracking != style.tracking:
            ops.append(f"{style.tracking:.3f} Tc")
            self._tracking = style.tracking

    def paragraph(self, lines: Sequence[str], style: Style, x: float, top: float, *, align: str = "centre") -> float:
        """Draw lines below ``top`` (the top of the first line's text); returns the y below the last line."""
        y = top
        for text in lines:
            y -= style.size  # from the line's top down to its baseline (cap height plus a little)
            self.line(text, style, x, y, align=align)
            y -= style.line_height - style.size
        return y


def _left(text: str, style: Style, x: float, align: str) -> float:
    width = text_width(text, style.size, style.bold) + style.tracking * max(len(text) - 1, 0)
    return x - width / 2 if align == "centre" else x - width if align == "right" else x


class _Page(_Lines):
    """Text for one page, written as PDF operators and added to the page in one block at the end.

    reportlab's text objects measure every run again to move their cursor and escape strings a character
    at a time; the lines here are already measured and positioned, so the operators are written directly.
    Fonts still go through reportlab: splitString maps characters to the document's subset codes, and
    getSubsetInternalName puts the font on the page. ``prepared`` (shared by the document's pages) names
    the fonts whose subsets this document already has (the Arabic ones given _ARABIC_SEED).
    """

    def __init__(self, canvas: Canvas, prepared: set[str]) -> None:
        self.canvas = canvas
        self.doc = canvas._doc
        self.ops: list[str] = ["BT"]
        self._font: tuple[str, int, float] | None = None
        self._colour: tuple[float, float, float] | None = None
        self._tracking = 0.0
        self._prepared = prepared

    def prepare(self, name: str) -> str:
        """Give this document ``name``'s subsets (once); returns the font's first subset's internal name."""
        font = pdfmetrics.getFont(name)
        if name not in self._prepared:
            font._assignState(self.doc)  # the font's subsets for this document (what splitString would make)
            if name.startswith("NotoSansArabic"):
                # Every Arabic-script letter form first, in a fixed order: then any Arabic or Farsi name
                # gives the same subsets, and those come from the cache instead of being built anew.
                font.splitString(_ARABIC_SEED, self.doc)
            self._prepared.add(name)
        return font.getSubsetInternalName(0, self.doc)

    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        """Draw one line with its baseline at ``y``; ``x`` is its centre, left or right edge."""
        left = _left(text, style, x, align)
        ops = self.ops
        self._set_colour_and_tracking(ops, style)
        ops.append(f"1 0 0 1 {left:.3f} {y:.3f} Tm")
        doc = self.doc
        for name, chunk in visual_runs(text, style.bold):
            font = pdfmetrics.getFont(name)
            if name not in self._prepared:
                self.prepare(name)
            ascii_text = _ascii_string(name, chunk)
            if ascii_text is not None:
                strings: Sequence[tuple[int, str]] = ((0, ascii_text),)
            else:
                strings = [(subset, data.decode("latin-1").translate(_PDF_STRING)) for subset, data in font.splitString(chunk, doc)]
            for subset, string in strings:
                if self._font != (name, subset, style.size):
                    ops.append(f"{font.getSubsetInternalName(subset, doc)} {style.size:g} Tf")
                    self._font = (name, subset, style.size)
                ops.append(f"({string}) Tj")

    def finish(self) -> None:
        self.ops.append("ET")
        self.canvas.addLiteral("\n".join(self.ops))


@lru_cache(maxsize=256)
def _shareable(text: str, bold: bool) -> str | None:
    """The Latin font ``text`` is drawn in, if it can go in a _Shared form (one run, ASCII the font has)."""
    runs = visual_runs(text, bold)
    if len(runs) != 1 or runs[0][0] not in _SHARED_FONTS or _ascii_string(*runs[0]) is None:
        return None
    return runs[0][0]


_SHARED_FONTS = ("NotoSans", "NotoSans-Bold")


class _Shared(_Lines):
    """What every ticket page of one layout has in common, drawn once as a form XObject.

    The band and its labels, the hint under the QR code, the tear line, the field labels, the small print
    and the card's border are the same on every ticket whose parts took the same numbers of lines (the
    layout, ``key``). They are drawn the first time a layout is met, kept compressed (_SHARED), and after
    that each PDF adds the form once and each page draws it with one operator, so a 500-ticket order
    holds them once. Their text is ASCII in the first subset of the Latin fonts, whose codes are the same
    in every document (see _ascii_string); the form's resources name those fonts. A line that is not
    (a translated label, say) is drawn on the page instead, whether or not the form is being made.
    """

    def __init__(self, page: _Page, key: tuple[object, ...]) -> None:
        self.page = page
        self.key = key
        self.recording = key not in _SHARED
        self.graphics: list[str] = []
        self.text: list[str] = ["BT"]
        self._font: tuple[str, float] | None = None
        self._colour: tuple[float, float, float] | None = None
        self._tracking = 0.0
        self.name = ""
        self.new_in_document = False

    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        name = _shareable(text, style.bold)
        if name is None:
            self.page.line(text, style, x, y, align=align)
            return
        if not self.recording:
            return
        ops = self.text
        self._set_colour_and_tracking(ops, style)
        ops.append(f"1 0 0 1 {_left(text, style, x, align):.3f} {y:.3f} Tm")
        if self._font != (name, style.size):
            ops.append(f"/{name} {style.size:g} Tf")
            self._font = (name, style.size)
        ops.append(f"({_ascii_string(name, text)}) Tj")

    def draw(self, operators: str) -> None:
        """Graphics (paths, colours, line styles) under the text."""
        if self.recording:
            self.graphics.append(operators)

    def place(self, document: _Document) -> None:
        """Draw the form on the page, under everything else (it is added to the document by finish)."""
        name = document.shared.get(self.key)
        self.new_in_document = name is None
        if name is None:
            name = document.shared[self.key] = f"Shared{len(document.shared) + 1}"
        self.name = name
        canvas = self.page.canvas
        canvas.addLiteral("q")
        canvas.doForm(name)
        canvas.addLiteral("Q")

    def finish(self, page_size: str) -> None:
        """Keep the form's content the first time this layout is drawn; add the form to a document that lacks it."""
        if self.recording:
            content = "\n".join([*self.graphics, *self.text, "ET"])
            _SHARED[self.key] = zlib.compress(content.encode())
        if self.new_in_document:
            width, height = PAGE_SIZES[page_size]
            resources = {font: pdfdoc.PDFObjectReference(self.page.prepare(font)[1:]) for font in _SHARED_FONTS}
            form = _flate_stream(_SHARED[self.key])
            form.dictionary.dict.update(
                Type=pdfdoc.PDFName("XObject"),
                Subtype=pdfdoc.PDFName("Form"),
                BBox=pdfdoc.PDFArray([0, 0, width, height]),
                Resources=pdfdoc.PDFDictionary({"Font": pdfdoc.PDFDictionary(resources)}),
            )
            self.page.canvas._doc.addForm(self.name, form)


# Compressed content of each layout's _Shared form: a few per page size, each made once per process.
_SHARED: dict[tuple[object, ...], bytes] = {}


@dataclass
class _Document:
    """What the pages of one PDF share: fonts given their subsets, and the _Shared forms already added."""

    prepared: set[str] = field(default_factory=set)
    shared: dict[tuple[object, ...], str] = field(default_factory=dict)


# --- layout -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Design:
    """Sizes for one page format (points)."""

    margin: float  # page edge to the card (A4) or to the text (phone)
    padding: float  # card edge to the text (A4)
    band: float  # height of the coloured strip at the top
    card: bool  # A4 draws the ticket as a card with a border; the phone page is all ticket
    title: Style
    when: Style
    where: Style
    address: Style
    qr: float  # side of the QR code including its quiet zone
    hint: Style
    label: Style
    holder: Style
    value: Style
    small: Style
    gap: float


A4_DESIGN = _Design(
    margin=18 * mm,
    padding=8 * mm,
    band=13 * mm,
    card=True,
    title=Style(24, bold=True),
    when=Style(13, bold=True),
    where=Style(12),
    address=Style(11, colour=MUTED),
    qr=104 * mm,  # the symbol itself ~88 mm, modules ~2 mm: reads from a phone camera at arm's length
    hint=Style(11, colour=MUTED),
    label=Style(7.5, bold=True, colour=MUTED, tracking=0.8),
    holder=Style(20, bold=True),
    value=Style(12, bold=True),
    small=Style(8.5, colour=MUTED),
    gap=5 * mm,
)

PHONE_DESIGN = _Design(
    margin=6 * mm,
    padding=0,
    band=10 * mm,
    card=False,
    title=Style(16, bold=True),
    when=Style(10, bold=True),
    where=Style(9.5),
    address=Style(9, colour=MUTED),
    qr=PHONE[0] - 6 * mm,  # nearly the full width: the page's white edge adds to the quiet zone
    hint=Style(9, colour=MUTED),
    label=Style(6.5, bold=True, colour=MUTED, tracking=0.6),
    holder=Style(15, bold=True),
    value=Style(10, bold=True),
    small=Style(7, colour=MUTED),
    gap=3.2 * mm,
)

DESIGNS = {"a4": A4_DESIGN, "phone": PHONE_DESIGN}

# Most lines each part may take, loosest first: the first that fits the page is used, so a very long
# title, address or name is cut short (with '…') rather than pushed off the page or over the QR code.
# (title, venue, address, holder, ticket type, small print)
_LINE_LIMITS = (
    (3, 2, 2, 2, 2, 3),
    (3, 2, 2, 2, 2, 0),
    (3, 2, 1, 2, 1, 0),
    (3, 1, 1, 1, 1, 0),
    (2, 1, 1, 1, 1, 0),
    (1, 1, 1, 1, 1, 0),
)

SMALL_PRINT = (
    "One entry per ticket: the code is checked when you arrive. "
    "Anyone with a copy of this code could use it, so keep it to yourself."
)


@lru_cache(maxsize=256)
def _when(start: datetime, end: datetime) -> tuple[str, str]:
    """('Thursday 20 August 2026', '19:00–22:30 BST') in the event's own time zone."""
    day = format_date(start, "EEEE d MMMM y", locale="en_GB")
    zone = start.tzname() or ""
    if end.date() == start.date():
        hours = f"{start:%H:%M}–{end:%H:%M}"
    else:
        hours = f"{start:%H:%M} – {format_date(end, 'EEE d MMMM', locale='en_GB')} {end:%H:%M}"
    return day, f"{hours} {zone}".strip()


@dataclass(frozen=True, slots=True)
class _Plan:
    """The lines of one ticket page, already wrapped to fit."""

    title: tuple[str, ...]
    day: str
    hours: str
    venue: tuple[str, ...]
    address: tuple[str, ...]
    holder: tuple[str, ...]
    type_name: tuple[str, ...]
    notes: tuple[str, ...]
    height: float  # from below the band to below the small print


def _plan(ticket: TicketView, page_size: str) -> _Plan:
    design = DESIGNS[page_size]
    width = _content_width(page_size)
    available = PAGE_SIZES[page_size][1] - design.band - (2 * design.margin + 6 * mm if design.card else design.margin)
    day, hours = _when(ticket.starts_at, ticket.ends_at)
    plan = None
    for title, venue, address, holder, type_name, notes in _LINE_LIMITS:
        lines = {
            "title": wrap(ticket.event_title, design.title.size, True, width, title),
            "venue": wrap(ticket.venue, design.where.size, design.where.bold, width, venue),
            "address": wrap(ticket.address, design.address.size, design.address.bold, width, address),
            "holder": wrap(ticket.holder, design.holder.size, True, width, holder),
            "type_name": wrap(ticket.type_name, design.value.size, True, width / 2 - 3 * mm, type_name),
            "notes": wrap(SMALL_PRINT, design.small.size, False, width, notes) if notes else (),
        }
        plan = _Plan(day=day, hours=hours, height=_height(design, **lines), **lines)
        if plan.height <= available:
            break
    assert plan is not None
    return plan


def _height(
    design: _Design,
    *,
    title: tuple[str, ...],
    venue: tuple[str, ...],
    address: tuple[str, ...],
    holder: tuple[str, ...],
    type_name: tuple[str, ...],
    notes: tuple[str, ...],
) -> float:
    """How tall _draw_ticket will make the page below the band (it follows the same steps)."""
    g = design.gap
    height = g + len(title) * design.title.line_height + 0.6 * g + 2 * design.when.line_height
    if venue or address:
        height += 0.4 * g + len(venue) * design.where.line_height + len(address) * design.address.line_height
    height += 0.5 * g + design.qr + design.hint.line_height - 0.2 * design.hint.size
    height += 0.8 * g + 0.8 * g + design.label.line_height + 1.2 * mm + len(holder) * design.holder.line_height + 0.7 * g
    height += 2 * (design.label.line_height + 1 * mm) + (max(len(type_name), 1) + 1) * design.value.line_height + 0.6 * g
    height += 0.8 * g + len(notes) * design.small.line_height
    return height


def _content_width(page_size: str) -> float:
    design = DESIGNS[page_size]
    return PAGE_SIZES[page_size][0] - 2 * (design.margin + design.padding)


def render_tickets_pdf(tickets: Sequence[TicketView], *, page_size: str = "a4") -> bytes:
    """One PDF holding every ticket, one per page."""
    fonts()
    width, height = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName="NotoSans")
    title = tickets[0].event_title if tickets else ""
    canvas.setTitle(f"Ticket – {title}" if len(tickets) == 1 else f"Tickets – {title}")
    canvas.setCreator("events")
    canvas.setAuthor("events")
    document = _Document()
    for ticket in tickets:
        _draw_ticket(canvas, ticket, page_size, document)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _colour(colour: tuple[float, float, float], operator: str) -> str:
    return "{:.4f} {:.4f} {:.4f} {}".format(*colour, operator)


def _draw_ticket(canvas: Canvas, ticket: TicketView, page_size: str, document: _Document | None = None) -> tuple[float, float]:
    """Draw one ticket page; returns (where the plan said the text would end, where it did end)."""
    document = _Document() if document is None else document
    design = DESIGNS[page_size]
    plan = _plan(ticket, page_size)
    page_width, page_height = PAGE_SIZES[page_size]
    page = _Page(canvas, document.prepared)
    # Where everything but the event's and the ticket's own text goes follows from these alone.
    layout = (page_size, *map(len, (plan.title, plan.venue, plan.address, plan.holder, plan.type_name, plan.notes)))
    shared = _Shared(page, layout)
    shared.place(document)
    centre = page_width / 2
    content_width = _content_width(page_size)
    g = design.gap

    # The card (A4) or the whole page (phone), with a coloured band across the top.
    if design.card:
        left, right, top = design.margin, page_width - design.margin, page_height - design.margin
    else:
        left, right, top = 0.0, page_width, page_height
    band_bottom = top - design.band
    if shared.recording:
        if design.card:  # rounded at the top only, like the card around it
            radius, kappa = 4 * mm, 0.5523  # kappa: Bézier control distance for a quarter circle
            band = canvas.beginPath()
            band.moveTo(left, band_bottom)
            band.lineTo(left, top - radius)
            band.curveTo(left, top - radius * (1 - kappa), left + radius * (1 - kappa), top, left + radius, top)
            band.lineTo(right - radius, top)
            band.curveTo(right - radius * (1 - kappa), top, right, top - radius * (1 - kappa), right, top - radius)
            band.lineTo(right, band_bottom)
            band.close()
            shared.draw(f"{_colour(ACCENT, 'rg')} {band.getCode()} f")
        else:
            shared.draw(f"{_colour(ACCENT, 'rg')} {left} {band_bottom:.3f} {right - left:.3f} {design.band:.3f} re f")
    band_label = Style(design.label.size + 1.5, bold=True, colour=WHITE, tracking=design.label.tracking * 1.5)
    inset = design.padding if design.card else design.margin
    baseline = band_bottom + design.band / 2 - band_label.size * 0.35
    shared.line("TICKET", band_label, left + inset, baseline, align="left")
    shared.line("ADMIT ONE", band_label, right - inset, baseline, align="right")

    # The event: title, when, where.
    y = band_bottom - g
    y = page.paragraph(plan.title, design.title, centre, y)
    y -= 0.6 * g
    y = page.paragraph((plan.day,), design.when, centre, y)
    y = page.paragraph((plan.hours,), Style(design.when.size), centre, y)
    if plan.venue or plan.address:
        y -= 0.4 * g
        y = page.paragraph(plan.venue, design.where, centre, y)
        y = page.paragraph(plan.address, design.address, centre, y)

    # The QR code, then what to do with it.
    y -= 0.5 * g
    _draw_qr(canvas, ticket.code, centre - design.qr / 2, y - design.qr, design.qr)
    y -= design.qr - 0.2 * design.hint.size
    y = shared.paragraph((SHOW_AT_DOOR,), design.hint, centre, y)

    # A tear line, then who it is for and which ticket it is.
    y -= 0.8 * g
    shared.draw(f"{_colour(RULE, 'RG')} 0.6 w [3 3] 0 d {left + inset:.3f} {y:.3f} m {right - inset:.3f} {y:.3f} l S [] 0 d")
    y -= 0.8 * g
    y = shared.paragraph(("NAME",), design.label, centre, y)
    y -= 1.2 * mm
    y = page.paragraph(plan.holder, design.holder, centre, y)
    y -= 0.7 * g

    half = content_width / 4
    cell = shared.paragraph(("TICKET TYPE",), design.label, centre - half, y) - 1 * mm
    type_bottom = page.paragraph(plan.type_name, design.value, centre - half, cell)
    cell = shared.paragraph(("ORDER",), design.label, centre + half, y) - 1 * mm
    order_bottom = page.paragraph((ticket.order_reference,), design.value, centre + half, cell)
    y = min(type_bottom, order_bottom) - 0.6 * g
    y = shared.paragraph(("TICKET CODE",), design.label, centre, y) - 1 * mm
    y = page.paragraph((ticket.secret,), design.value, centre, y)

    # Small print: what the code is, and that it is personal.
    y -= 0.8 * g
    y = shared.paragraph(plan.notes, design.small, centre, y)
    if design.card and shared.recording:
        card_bottom = y - 6 * mm
        card = canvas.beginPath()
        card.roundRect(left, card_bottom, right - left, top - card_bottom, 4 * mm)
        shared.draw(f"{_colour(RULE, 'RG')} 0.8 w {card.getCode()} S")
    shared.finish(page_size)
    page.finish()
    return band_bottom - plan.height, y


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code in a white square of side ``size`` (quiet zone included), drawn by its own form XObject."""
    side, content = _qr_form_content(data)
    module = size / (side + 2 * QUIET_ZONE)
    canvas.setFillColorRGB(*WHITE)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    name = f"QR{canvas.getPageNumber()}"
    form = _flate_stream(content)
    form.dictionary.dict.update(
        Type=pdfdoc.PDFName("XObject"),
        Subtype=pdfdoc.PDFName("Form"),
        BBox=pdfdoc.PDFArray([0, 0, side, side]),
        Resources=pdfdoc.PDFDictionary(),
    )
    canvas._doc.addForm(name, form)
    # The form is in module units with (0, 0) at the symbol's top-left corner and y pointing down.
    canvas.addLiteral(f"q {module:.4f} 0 0 {-module:.4f} {x + QUIET_ZONE * module:.3f} {y + size - QUIET_ZONE * module:.3f} cm")
    canvas.doForm(name)
    canvas.addLiteral("Q")


@lru_cache(maxsize=2048)
def _qr_form_content(data: str) -> tuple[int, bytes]:
    """(side in modules, the symbol's dark runs as one filled path, Flate-compressed), made once per code.

    About 900 rectangles of digits: zlib's fastest level compresses them four times faster than the
    default for a stream 20% bigger, and this is done for every new ticket. One fill, so no seams.
    """
    symbol = qr_symbol(data)
    ops = "\n".join([f"{column} {row} {length} 1 re" for row, column, length in symbol.runs()])
    return symbol.size, zlib.compress(f"0 0 0 rg\n{ops}\nf".encode(), 1)
