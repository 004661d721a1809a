"""The only module that reaches into reportlab's internals (font subsets, document objects, forms, raw operators).

Everything here leans on how reportlab 5.1 builds a document rather than on its documented API: a font's
subset objects come from a cache instead of ``TTFont.addObjects``; text is written as PDF operators with
codes from ``TTFont.splitString`` (or, for ASCII, from the fixed first subset that ``asciiReadable`` gives);
forms go in through the canvas's private document. tests/unit/pdf/test_reportlab_internals.py draws the same
tickets through reportlab's public API alone and checks that both PDFs read and look the same, so a reportlab
upgrade is a test run.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

# Plain Flate streams: ASCII85 on top only makes files 25% bigger and costs a pure-Python pass per page.
# reportlab is used for nothing else in this app, so the process-wide setting is ours to choose.
rl_config.useA85 = 0


# --- font subsets, made once ---------------------------------------------------------------------------


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
        return self.template % {name.encode(): ref if isinstance(ref, bytes) else ref.format(document) for name, ref in self.references.items()}


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
    more than drawing a ticket. With ``asciiReadable`` every ASCII-only text gives the same first
    subset, so nearly every ticket reuses the same cached parts.
    (Mirrors reportlab's TTFont.addObjects; the output is the same objects.)
    """

    def __init__(self, name: str, filename: str, ascii_readable: bool) -> None:
        super().__init__(name, filename, asciiReadable=int(ascii_readable))

    def addObjects(self, doc: pdfdoc.PDFDocument) -> None:  # reportlab's name
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
            pdf_font = _Formatted(parts.font, name=pdfdoc.PDFName(internal_name).encode(), descriptor=descriptor, to_unicode=to_unicode)
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


def register_font(name: str, path: Path, *, ascii_readable: bool = True) -> frozenset[int]:
    """Register a TrueType font whose subsets are embedded from the cache; returns the code points it has.

    ``ascii_readable``: ASCII keeps its own codes in the font's first subset (see ascii_string), which leaves
    that subset 160 codes for everything else; without it, 254.
    """
    font = _EmbeddedFont(name, str(path), ascii_readable)
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def string_width(text: str, font_name: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font_name, size)


# --- text as operators ----------------------------------------------------------------------------------

# PDF string escapes for the bytes of a text run: backslash and parentheses, and octal for the rest.
_PDF_STRING = {code: f"\\{code:03o}" for code in [*range(32), *range(127, 256)]}
_PDF_STRING.update({ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)"})


@lru_cache(maxsize=1024)  # as events.pdf.text keeps texts (TEXTS_KEPT): new text comes with every ticket
def ascii_string(font_name: str, text: str) -> str | None:
    """``text`` as a PDF string in ``font_name``'s first subset, if it is all ASCII the font has, else None.

    With ``asciiReadable`` reportlab gives every ASCII character the font has its own code in the first
    subset of every document, so most text needs no per-document lookup (splitString), and a form drawn
    with these strings is valid in any document whose resources name that first subset. (A font registered
    without it, ``register_font(..., ascii_readable=False)``, always gets None.)
    """
    font = pdfmetrics.getFont(font_name)
    face = font.face
    if not (font._asciiReadable and text.isascii() and text.isprintable() and all(ord(char) in face.charToGlyph for char in text)):
        return None
    return text.translate(_PDF_STRING)


class DocumentFonts:
    """The registered fonts as one PDF being drawn uses them: which subset codes a run gets, and their names.

    ``seeds`` maps a font name to text whose characters go into that font's subsets first, in a fixed order,
    the first time this document uses the font: then any text made of those characters gives the same
    subsets, and those come from the cache instead of being built anew.
    """

    def __init__(self, canvas: Canvas, seeds: Mapping[str, str] | None = None) -> None:
        self.canvas = canvas
        self._doc = canvas._doc
        self._seeds = seeds or {}
        self._prepared: set[str] = set()

    def first_subset(self, name: str) -> str:
        """Give this document ``name``'s subsets (once); returns the font's first subset's internal name."""
        font = pdfmetrics.getFont(name)
        if name not in self._prepared:
            font._assignState(self._doc)  # the font's subsets for this document (what splitString would make)
            seed = self._seeds.get(name)
            if seed:
                font.splitString(seed, self._doc)
            self._prepared.add(name)
        return font.getSubsetInternalName(0, self._doc)

    def encode(self, name: str, text: str) -> Sequence[tuple[int, str]]:
        """``text`` in font ``name`` as (subset, PDF string) pieces for ``Tj`` operators."""
        if name not in self._prepared:
            self.first_subset(name)
        ascii_text = ascii_string(name, text)
        if ascii_text is not None:
            return ((0, ascii_text),)
        font = pdfmetrics.getFont(name)
        return [(subset, data.decode("latin-1").translate(_PDF_STRING)) for subset, data in font.splitString(text, self._doc)]

    def subset_name(self, name: str, subset: int) -> str:
        """The name (``/F1+0``) a ``Tf`` operator selects subset ``subset`` of font ``name`` by."""
        return pdfmetrics.getFont(name).getSubsetInternalName(subset, self._doc)


# --- forms and raw content -------------------------------------------------------------------------------


def add_form(canvas: Canvas, name: str, compressed: bytes, bbox: Sequence[float], fonts: Mapping[str, str] | None = None) -> None:
    """Add a form XObject ``name`` whose content is ``compressed`` (Flate) to the canvas's document.

    ``fonts`` maps the names its ``Tf`` operators use to first subsets' internal names (DocumentFonts.first_subset).
    """
    form = _flate_stream(compressed)
    resources = {}
    if fonts:
        references = {key: pdfdoc.PDFObjectReference(internal[1:]) for key, internal in fonts.items()}
        resources["Font"] = pdfdoc.PDFDictionary(references)
    form.dictionary.dict.update(
        Type=pdfdoc.PDFName("XObject"),
        Subtype=pdfdoc.PDFName("Form"),
        BBox=pdfdoc.PDFArray(list(bbox)),
        Resources=pdfdoc.PDFDictionary(resources),
    )
    canvas._doc.addForm(name, form)


def add_operators(canvas: Canvas, operators: str) -> None:
    """Append PDF content operators to the current page as they are."""
    canvas.addLiteral(operators)


def path_operators(path: PDFPathObject) -> str:
    """The PDF operators of a path built with ``canvas.beginPath()`` (for content written as operators)."""
    return path.getCode()
