"""Pages drawn two ways: fast (text as PDF operators, a layout's shared parts as cached forms) or by reportlab's public API.

The fast painter (FastPainter) is what production uses; it reaches reportlab only through
events.pdf.reportlab_internals. The public-API painter (PublicApiPainter) draws the same pages with stock
reportlab alone, slowly: tests render through both and compare, so a reportlab upgrade is a test run.
A layout (events.tickets.pdf) draws a page's own text on ``Lines``, what every page of its layout has in
common on a ``Layer``, and 2-D codes with ``Painter.matrix``.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

from events.pdf import reportlab_internals as rl
from events.pdf.text import FONT_DIR, FONT_FILES, SUBSET_SEEDS, Direction, fonts, text_width, visual_runs


class TextStyle(Protocol):
    """How a line of text looks (events.tickets.pdf.Style is one)."""

    @property
    def size(self) -> float: ...
    @property
    def bold(self) -> bool: ...
    @property
    def colour(self) -> tuple[float, float, float]: ...
    @property
    def tracking(self) -> float: ...  # extra space between letters, in points
    @property
    def line_height(self) -> float: ...


class Matrix(Protocol):
    """A 2-D code's modules (events.tickets.qr.Symbol is one); hashable, as drawings are cached per symbol."""

    @property
    def size(self) -> int: ...
    def runs(self) -> Sequence[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules."""
        ...

    def __hash__(self) -> int: ...


# --- what a page is drawn with -------------------------------------------------------------------------


def _colour(colour: tuple[float, float, float], operator: str) -> str:
    red, green, blue = colour
    return f"{red:.4f} {green:.4f} {blue:.4f} {operator}"


def _left(text: str, style: TextStyle, x: float, align: str) -> float:
    width = text_width(text, style.size, style.bold) + style.tracking * max(len(text) - 1, 0)
    return x - width / 2 if align == "centre" else x - width if align == "right" else x


class Lines(abc.ABC):
    """Something lines of text are drawn on: a page, or the part every page of a layout shares."""

    @abc.abstractmethod
    def line(self, text: str, style: TextStyle, x: float, y: float, *, align: str = "centre", direction: Direction = "auto") -> None:
        """Draw one line of text with its baseline at ``y``; ``x`` is its centre, left or right edge; ``direction``
        is the line's paragraph direction (events.pdf.text.Direction)."""

    _colour: tuple[float, float, float] | None
    _tracking: float

    def _set_colour_and_tracking(self, ops: list[str], style: TextStyle) -> None:
        """Text state operators, written only when they change (the state carries over between lines)."""
        if self._colour != style.colour:
            ops.append("{:.4f} {:.4f} {:.4f} rg".format(*style.colour))
            self._colour = style.colour
        if self._tracking != style.tracking:
            ops.append(f"{style.tracking:.3f} Tc")
            self._tracking = style.tracking

    def paragraph(
        self, lines: Sequence[str], style: TextStyle, x: float, top: float, *, align: str = "centre", direction: Direction = "auto"
    ) -> float:
        """Draw lines below ``top`` (the top of the first line's text); returns the y below the last line."""
        y = top
        for text in lines:
            y -= style.size  # from the line's top down to its baseline (cap height plus a little)
            self.line(text, style, x, y, align=align, direction=direction)
            y -= style.line_height - style.size
        return y


class Layer(Lines):
    """What every page of one layout has in common (for a ticket: the band, rules, labels, small print, border).

    ``recording`` is false when the painter already has this layout's shapes and shared text from an
    earlier page: then drawing them again can be skipped (the shapes are built only when it is true).
    """

    recording: bool

    @abc.abstractmethod
    def fill(self, path: PDFPathObject, colour: tuple[float, float, float]) -> None:
        """Fill a path built with ``canvas.beginPath()``."""

    @abc.abstractmethod
    def stroke(self, path: PDFPathObject, colour: tuple[float, float, float], width: float) -> None:
        """Stroke a path built with ``canvas.beginPath()``."""

    @abc.abstractmethod
    def dashed_rule(self, x0: float, x1: float, y: float, colour: tuple[float, float, float], width: float, dash: float) -> None:
        """A horizontal dashed line from ``x0`` to ``x1``."""

    @abc.abstractmethod
    def finish(self, width: float, height: float) -> None:
        """Called once the page's drawing is done; (width, height) is the page's size."""


class Painter(abc.ABC):
    """Draws the pages of one PDF: a page's own text, the layer its layout shares, 2-D codes."""

    @abc.abstractmethod
    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[Lines, Layer]:
        """The page's own text and its layout's shared layer, for a new page."""

    @abc.abstractmethod
    def matrix(self, canvas: Canvas, symbol: Matrix, x: float, y: float, size: float, quiet_zone: int) -> None:
        """A 2-D code in a white square of side ``size`` (``quiet_zone`` modules each side), lower-left corner at (x, y)."""

    @abc.abstractmethod
    def finish_page(self, page: Lines) -> None:
        """Called once the page's drawing is done."""


# --- the fast painter: text as PDF operators, shared parts as forms ----------------------------------------


class _Page(Lines):
    """Text for one page, written as PDF operators and added to the page in one block at the end.

    reportlab's text objects measure every run again to move their cursor and escape strings a character
    at a time; the lines here are already measured and positioned, so the operators are written directly,
    with the codes DocumentFonts gives each run.
    """

    def __init__(self, canvas: Canvas, fonts: rl.DocumentFonts) -> None:
        self.canvas = canvas
        self.fonts = fonts
        self.ops: list[str] = ["BT"]
        self._font: tuple[str, int, float] | None = None
        self._colour: tuple[float, float, float] | None = None
        self._tracking = 0.0

    def line(self, text: str, style: TextStyle, x: float, y: float, *, align: str = "centre", direction: Direction = "auto") -> None:
        left = _left(text, style, x, align)
        ops = self.ops
        self._set_colour_and_tracking(ops, style)
        ops.append(f"1 0 0 1 {left:.3f} {y:.3f} Tm")
        fonts = self.fonts
        for name, chunk in visual_runs(text, style.bold, direction):
            for subset, string in fonts.encode(name, chunk):
                if self._font != (name, subset, style.size):
                    ops.append(f"{fonts.subset_name(name, subset)} {style.size:g} Tf")
                    self._font = (name, subset, style.size)
                ops.append(f"({string}) Tj")

    def finish(self) -> None:
        self.ops.append("ET")
        rl.add_operators(self.canvas, "\n".join(self.ops))


@lru_cache(maxsize=256)
def _shareable(text: str, bold: bool, direction: Direction = "auto") -> str | None:
    """The Latin font ``text`` is drawn in, if it can go in a _Shared form (one run, ASCII the font has, drawn as
    written: on a right-to-left line a full stop goes to the left of an English sentence)."""
    runs = visual_runs(text, bold, direction)
    if len(runs) != 1 or runs[0][1] != text or runs[0][0] not in _shared_fonts() or rl.ascii_string(*runs[0]) is None:
        return None
    return runs[0][0]


def _shared_fonts() -> tuple[str, str]:
    """The fonts a _Shared form's text may use: the Latin ones, whose first subset holds ASCII in every document."""
    latin, _ = fonts()
    return latin.regular, latin.bold


class _Shared(Layer):
    """What every page of one layout has in common, drawn once as a form XObject.

    On a ticket: the band and its labels, the hint under the QR code, the tear line, the field labels, the
    small print and the card's border, the same on every ticket whose parts took the same numbers of lines
    (the layout, ``key``). They are drawn the first time a layout is met, kept compressed (_SHARED), and
    after that each PDF adds the form once and each page draws it with one operator, so a 500-ticket order
    holds them once. Their text is ASCII in the first subset of the Latin fonts, whose codes are the same
    in every document (see reportlab_internals.ascii_string); the form's resources name those fonts. A line
    that is not (a translated label, say) is drawn on the page instead, whether or not the form is being made.
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

    def line(self, text: str, style: TextStyle, x: float, y: float, *, align: str = "centre", direction: Direction = "auto") -> None:
        name = _shareable(text, style.bold, direction)
        if name is None:
            self.page.line(text, style, x, y, align=align, direction=direction)
            return
        if not self.recording:
            return
        ops = self.text
        self._set_colour_and_tracking(ops, style)
        ops.append(f"1 0 0 1 {_left(text, style, x, align):.3f} {y:.3f} Tm")
        if self._font != (name, style.size):
            ops.append(f"/{name} {style.size:g} Tf")
            self._font = (name, style.size)
        ops.append(f"({rl.ascii_string(name, text)}) Tj")

    def fill(self, path: PDFPathObject, colour: tuple[float, float, float]) -> None:
        if self.recording:
            self.graphics.append(f"{_colour(colour, 'rg')} {rl.path_operators(path)} f")

    def stroke(self, path: PDFPathObject, colour: tuple[float, float, float], width: float) -> None:
        if self.recording:
            self.graphics.append(f"{_colour(colour, 'RG')} {width:g} w {rl.path_operators(path)} S")

    def dashed_rule(self, x0: float, x1: float, y: float, colour: tuple[float, float, float], width: float, dash: float) -> None:
        if self.recording:
            self.graphics.append(f"{_colour(colour, 'RG')} {width:g} w [{dash:g} {dash:g}] 0 d {x0:.3f} {y:.3f} m {x1:.3f} {y:.3f} l S [] 0 d")

    def place(self, document: FastPainter) -> None:
        """Draw the form on the page, under everything else (it is added to the document by finish)."""
        name = document.shared.get(self.key)
        self.new_in_document = name is None
        if name is None:
            name = document.shared[self.key] = f"Shared{len(document.shared) + 1}"
        self.name = name
        canvas = self.page.canvas
        rl.add_operators(canvas, "q")
        canvas.doForm(name)
        rl.add_operators(canvas, "Q")

    def finish(self, width: float, height: float) -> None:
        """Keep the form's content the first time this layout is drawn; add the form to a document that lacks it."""
        if self.recording:
            content = "\n".join([*self.graphics, *self.text, "ET"])
            _SHARED[self.key] = zlib.compress(content.encode())
        if self.new_in_document:
            shared_fonts = {font: self.page.fonts.first_subset(font) for font in _shared_fonts()}
            rl.add_form(self.page.canvas, self.name, _SHARED[self.key], [0, 0, width, height], shared_fonts)


# Compressed content of each layout's _Shared form: a few per page size, each made once per process.
_SHARED: dict[tuple[object, ...], bytes] = {}


@dataclass
class FastPainter(Painter):
    """The fast painter. What the pages of one PDF share: its fonts' subsets, and the _Shared forms already added."""

    fonts: rl.DocumentFonts
    shared: dict[tuple[object, ...], str] = field(default_factory=dict)

    @classmethod
    def for_canvas(cls, canvas: Canvas) -> FastPainter:
        return cls(rl.DocumentFonts(canvas, SUBSET_SEEDS))

    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[Lines, Layer]:
        page = _Page(canvas, self.fonts)
        shared = _Shared(page, layout)
        shared.place(self)
        return page, shared

    def matrix(self, canvas: Canvas, symbol: Matrix, x: float, y: float, size: float, quiet_zone: int) -> None:
        """Drawn by its own form XObject, made once per code (_matrix_form_content)."""
        side, content = _matrix_form_content(symbol)
        module = size / (side + 2 * quiet_zone)
        canvas.setFillColorRGB(1, 1, 1)
        canvas.rect(x, y, size, size, stroke=0, fill=1)
        name = f"Code{canvas.getPageNumber()}"
        rl.add_form(canvas, name, content, [0, 0, side, side])
        # The form is in module units with (0, 0) at the symbol's top-left corner and y pointing down.
        rl.add_operators(canvas, f"q {module:.4f} 0 0 {-module:.4f} {x + quiet_zone * module:.3f} {y + size - quiet_zone * module:.3f} cm")
        canvas.doForm(name)
        rl.add_operators(canvas, "Q")

    def finish_page(self, page: Lines) -> None:
        assert isinstance(page, _Page)
        page.finish()


# As many codes as events.tickets.qr keeps symbols (about 2 kB each, and a new one for every ticket).
@lru_cache(maxsize=256)
def _matrix_form_content(symbol: Matrix) -> tuple[int, bytes]:
    """(side in modules, the symbol's dark runs as one filled path, Flate-compressed), made once per code.

    About 900 rectangles of digits: zlib's fastest level compresses them four times faster than the
    default for a stream 20% bigger, and this is done for every new ticket. One fill, so no seams.
    """
    ops = "\n".join([f"{column} {row} {length} 1 re" for row, column, length in symbol.runs()])
    return symbol.size, zlib.compress(f"0 0 0 rg\n{ops}\nf".encode(), 1)


# --- the reference painter: reportlab's public API only --------------------------------------------------


_STOCK_PREFIX = "Stock-"


def public_api_font(name: str) -> str:
    """The name the public-API painter registers font ``name`` (events.pdf.text.FONT_FILES) under."""
    return _STOCK_PREFIX + name


def register_public_api_fonts() -> None:
    """The same font files registered as plain reportlab TTFonts, under their own names (once)."""
    if _STOCK_PREFIX + "NotoSans" not in pdfmetrics.getRegisteredFontNames():
        for name, filename in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(_STOCK_PREFIX + name, str(FONT_DIR / filename)))


class _PublicApiPage(Layer):
    """Draws everything straight onto the canvas through reportlab's public API, in drawing order."""

    recording = True

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas

    def line(self, text: str, style: TextStyle, x: float, y: float, *, align: str = "centre", direction: Direction = "auto") -> None:
        # Positions rounded as the fast painter writes them (to 0.001 pt): a baseline on a pixel's edge then
        # lands on the same side of it in both.
        drawn = self.canvas.beginText(round(_left(text, style, x, align), 3), round(y, 3))
        drawn.setFillColorRGB(*style.colour)
        drawn.setCharSpace(style.tracking)
        for name, chunk in visual_runs(text, style.bold, direction):
            drawn.setFont(public_api_font(name), style.size)
            drawn.textOut(chunk)
        self.canvas.drawText(drawn)

    def fill(self, path: PDFPathObject, colour: tuple[float, float, float]) -> None:
        self.canvas.setFillColorRGB(*colour)
        self.canvas.drawPath(path, stroke=0, fill=1)

    def stroke(self, path: PDFPathObject, colour: tuple[float, float, float], width: float) -> None:
        self.canvas.saveState()
        self.canvas.setStrokeColorRGB(*colour)
        self.canvas.setLineWidth(width)
        self.canvas.drawPath(path, stroke=1, fill=0)
        self.canvas.restoreState()

    def dashed_rule(self, x0: float, x1: float, y: float, colour: tuple[float, float, float], width: float, dash: float) -> None:
        self.canvas.saveState()
        self.canvas.setStrokeColorRGB(*colour)
        self.canvas.setLineWidth(width)
        self.canvas.setDash(dash, dash)
        self.canvas.line(round(x0, 3), round(y, 3), round(x1, 3), round(y, 3))
        self.canvas.restoreState()

    def finish(self, width: float, height: float) -> None:
        pass


class PublicApiPainter(Painter):
    """The reference painter: the same pages without any of reportlab_internals' fast paths (slow)."""

    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[Lines, Layer]:
        page = _PublicApiPage(canvas)
        return page, page

    def matrix(self, canvas: Canvas, symbol: Matrix, x: float, y: float, size: float, quiet_zone: int) -> None:
        module = size / (symbol.size + 2 * quiet_zone)
        canvas.setFillColorRGB(1, 1, 1)
        canvas.rect(x, y, size, size, stroke=0, fill=1)
        # In module units from the symbol's top-left corner, y down, placed as precisely as the fast painter places it.
        canvas.saveState()
        canvas.transform(round(module, 4), 0, 0, -round(module, 4), round(x + quiet_zone * module, 3), round(y + size - quiet_zone * module, 3))
        dark = canvas.beginPath()
        for row, column, length in symbol.runs():
            dark.rect(column, row, length, 1)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.drawPath(dark, stroke=0, fill=1)
        canvas.restoreState()

    def finish_page(self, page: Lines) -> None:
        pass
