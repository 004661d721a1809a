"""Ticket PDFs: the ticket's design and layout, an A4 page or a phone-sized page per ticket, QR drawn as vector squares.

Text runs, shaping and wrapping come from events.pdf.text; everything that reaches into reportlab's
internals goes through events.pdf.reportlab_internals. A page is laid out once (_plan, _draw_ticket) and
drawn by one of two painters: the fast one used in production (_Document: text written as PDF operators,
the parts every ticket of a layout shares drawn once as a form XObject) and a reference one that uses
reportlab's public API alone (_StockDocument, render_tickets_pdf_with_public_api), which tests compare it with.

Speed (see bench/tickets.py): fonts are registered once; the event's wrapped lines are cached; each
font subset's program, CMap and Font/FontDescriptor dictionaries are made and formatted once (ASCII-only
text always gives the same subset, and goes to it without a per-document lookup); the QR code is one
compressed form XObject per code. Encoding a new code with the qrcode package (events.tickets.qr) is
about half of a single-ticket render, and reportlab's own formatting of each document most of the rest.
"""

from __future__ import annotations

import abc
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial

import anyio.to_thread
from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

from events.pdf import reportlab_internals as rl
from events.pdf.text import FONT_DIR, FONT_FILES, SUBSET_SEEDS, fonts, text_width, visual_runs, wrap
from events.tickets.qr import QUIET_ZONE, qr_symbol
from events.tickets.views import TicketView

PHONE = (90 * mm, 190 * mm)  # about a phone screen's shape: fits the width, one page per screen
PAGE_SIZES = {"a4": A4, "phone": PHONE}

INK = (0x1B / 255, 0x1B / 255, 0x1F / 255)
MUTED = (0x4A / 255, 0x4A / 255, 0x55 / 255)
ACCENT = (0x0B / 255, 0x5C / 255, 0x4A / 255)
RULE = (0xC9 / 255, 0xC5 / 255, 0xBB / 255)
WHITE = (1.0, 1.0, 1.0)

SHOW_AT_DOOR = "Show this QR code at the door"


# --- painters: what a ticket page is drawn with ---------------------------------------------------------


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


def _colour(colour: tuple[float, float, float], operator: str) -> str:
    return "{:.4f} {:.4f} {:.4f} {}".format(*colour, operator)


def _left(text: str, style: Style, x: float, align: str) -> float:
    width = text_width(text, style.size, style.bold) + style.tracking * max(len(text) - 1, 0)
    return x - width / 2 if align == "centre" else x - width if align == "right" else x


class _Lines(abc.ABC):
    """Something lines of text are drawn on: a page, or the part every page of a layout shares."""

    @abc.abstractmethod
    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        """Draw one line of text with its baseline at ``y``; ``x`` is its centre, left or right edge."""

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


class _Layer(_Lines):
    """What every ticket page of one layout has in common (the band, rules, labels, small print, border).

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
    def finish(self, page_size: str) -> None:
        """Called once the page's drawing is done."""


class _Painter(abc.ABC):
    """Draws the pages of one PDF: a page's own text, the layer its layout shares, the QR code."""

    @abc.abstractmethod
    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[_Lines, _Layer]:
        """The page's own text and its layout's shared layer, for a new page."""

    @abc.abstractmethod
    def qr(self, canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
        """The QR code in a white square of side ``size`` (quiet zone included), lower-left corner at (x, y)."""

    @abc.abstractmethod
    def finish_page(self, page: _Lines) -> None:
        """Called once the page's drawing is done."""


# --- the fast painter: text as PDF operators, shared parts as forms ----------------------------------------


class _Page(_Lines):
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

    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        left = _left(text, style, x, align)
        ops = self.ops
        self._set_colour_and_tracking(ops, style)
        ops.append(f"1 0 0 1 {left:.3f} {y:.3f} Tm")
        fonts = self.fonts
        for name, chunk in visual_runs(text, style.bold):
            for subset, string in fonts.encode(name, chunk):
                if self._font != (name, subset, style.size):
                    ops.append(f"{fonts.subset_name(name, subset)} {style.size:g} Tf")
                    self._font = (name, subset, style.size)
                ops.append(f"({string}) Tj")

    def finish(self) -> None:
        self.ops.append("ET")
        rl.add_operators(self.canvas, "\n".join(self.ops))


@lru_cache(maxsize=256)
def _shareable(text: str, bold: bool) -> str | None:
    """The Latin font ``text`` is drawn in, if it can go in a _Shared form (one run, ASCII the font has)."""
    runs = visual_runs(text, bold)
    if len(runs) != 1 or runs[0][0] not in _SHARED_FONTS or rl.ascii_string(*runs[0]) is None:
        return None
    return runs[0][0]


_SHARED_FONTS = ("NotoSans", "NotoSans-Bold")


class _Shared(_Layer):
    """What every ticket page of one layout has in common, drawn once as a form XObject.

    The band and its labels, the hint under the QR code, the tear line, the field labels, the small print
    and the card's border are the same on every ticket whose parts took the same numbers of lines (the
    layout, ``key``). They are drawn the first time a layout is met, kept compressed (_SHARED), and after
    that each PDF adds the form once and each page draws it with one operator, so a 500-ticket order
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
        self._font: tuple[str, float] | None = None  # type: ignore[assignment]
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

    def place(self, document: _Document) -> None:
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

    def finish(self, page_size: str) -> None:
        """Keep the form's content the first time this layout is drawn; add the form to a document that lacks it."""
        if self.recording:
            content = "\n".join([*self.graphics, *self.text, "ET"])
            _SHARED[self.key] = zlib.compress(content.encode())
        if self.new_in_document:
            width, height = PAGE_SIZES[page_size]
            fonts = {font: self.page.fonts.first_subset(font) for font in _SHARED_FONTS}
            rl.add_form(self.page.canvas, self.name, _SHARED[self.key], [0, 0, width, height], fonts)


# Compressed content of each layout's _Shared form: a few per page size, each made once per process.
_SHARED: dict[tuple[object, ...], bytes] = {}


@dataclass
class _Document(_Painter):
    """The fast painter. What the pages of one PDF share: its fonts' subsets, and the _Shared forms already added."""

    fonts: rl.DocumentFonts
    shared: dict[tuple[object, ...], str] = field(default_factory=dict)

    @classmethod
    def for_canvas(cls, canvas: Canvas) -> _Document:
        return cls(rl.DocumentFonts(canvas, SUBSET_SEEDS))

    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[_Lines, _Layer]:
        page = _Page(canvas, self.fonts)
        shared = _Shared(page, layout)
        shared.place(self)
        return page, shared

    def qr(self, canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
        """Drawn by its own form XObject, made once per code (_qr_form_content)."""
        side, content = _qr_form_content(data)
        module = size / (side + 2 * QUIET_ZONE)
        canvas.setFillColorRGB(*WHITE)
        canvas.rect(x, y, size, size, stroke=0, fill=1)
        name = f"QR{canvas.getPageNumber()}"
        rl.add_form(canvas, name, content, [0, 0, side, side])
        # The form is in module units with (0, 0) at the symbol's top-left corner and y pointing down.
        rl.add_operators(canvas, f"q {module:.4f} 0 0 {-module:.4f} {x + QUIET_ZONE * module:.3f} {y + size - QUIET_ZONE * module:.3f} cm")
        canvas.doForm(name)
        rl.add_operators(canvas, "Q")

    def finish_page(self, page: _Lines) -> None:
        assert isinstance(page, _Page)
        page.finish()


@lru_cache(maxsize=2048)
def _qr_form_content(data: str) -> tuple[int, bytes]:
    """(side in modules, the symbol's dark runs as one filled path, Flate-compressed), made once per code.

    About 900 rectangles of digits: zlib's fastest level compresses them four times faster than the
    default for a stream 20% bigger, and this is done for every new ticket. One fill, so no seams.
    """
    symbol = qr_symbol(data)
    ops = "\n".join([f"{column} {row} {length} 1 re" for row, column, length in symbol.runs()])
    return symbol.size, zlib.compress(f"0 0 0 rg\n{ops}\nf".encode(), 1)


# --- the reference painter: reportlab's public API only --------------------------------------------------


_STOCK_PREFIX = "Stock-"


def _stock_fonts() -> None:
    """The same font files registered as plain reportlab TTFonts, under their own names (once)."""
    if _STOCK_PREFIX + "NotoSans" not in pdfmetrics.getRegisteredFontNames():
        for name, filename in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(_STOCK_PREFIX + name, str(FONT_DIR / filename)))


class _StockPage(_Layer):
    """Draws everything straight onto the canvas through reportlab's public API, in drawing order."""

    recording = True

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas

    def line(self, text: str, style: Style, x: float, y: float, *, align: str = "centre") -> None:
        # Positions rounded as the fast painter writes them (to 0.001 pt): a baseline on a pixel's edge then
        # lands on the same side of it in both.
        drawn = self.canvas.beginText(round(_left(text, style, x, align), 3), round(y, 3))
        drawn.setFillColorRGB(*style.colour)
        drawn.setCharSpace(style.tracking)
        for name, chunk in visual_runs(text, style.bold):
            drawn.setFont(_STOCK_PREFIX + name, style.size)
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

    def finish(self, page_size: str) -> None:
        pass


class _StockDocument(_Painter):
    """The reference painter: the same pages without any of reportlab_internals' fast paths (slow)."""

    def begin_page(self, canvas: Canvas, layout: tuple[object, ...]) -> tuple[_Lines, _Layer]:
        page = _StockPage(canvas)
        return page, page

    def qr(self, canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
        symbol = qr_symbol(data)
        module = size / (symbol.size + 2 * QUIET_ZONE)
        canvas.setFillColorRGB(*WHITE)
        canvas.rect(x, y, size, size, stroke=0, fill=1)
        # In module units from the symbol's top-left corner, y down, placed as precisely as the fast painter places it.
        canvas.saveState()
        canvas.transform(round(module, 4), 0, 0, -round(module, 4), round(x + QUIET_ZONE * module, 3), round(y + size - QUIET_ZONE * module, 3))
        dark = canvas.beginPath()
        for row, column, length in symbol.runs():
            dark.rect(column, row, length, 1)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.drawPath(dark, stroke=0, fill=1)
        canvas.restoreState()

    def finish_page(self, page: _Lines) -> None:
        pass


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
    """One PDF holding every ticket, one per page (CPU-bound: from async code, await tickets_pdf instead)."""
    return _render(tickets, page_size, _Document.for_canvas)


async def tickets_pdf(tickets: Sequence[TicketView], *, page_size: str = "a4") -> bytes:
    """render_tickets_pdf in a worker thread: a 500-ticket order takes the best part of a second of CPU, which
    would otherwise stall every other request on this worker's event loop."""
    return await anyio.to_thread.run_sync(partial(render_tickets_pdf, tickets, page_size=page_size))


def render_tickets_pdf_with_public_api(tickets: Sequence[TicketView], *, page_size: str = "a4") -> bytes:
    """The same PDF drawn through reportlab's public API alone, slowly: the reference the fast path is tested against."""
    _stock_fonts()
    return _render(tickets, page_size, lambda canvas: _StockDocument())


def _render(tickets: Sequence[TicketView], page_size: str, painter: Callable[[Canvas], _Painter]) -> bytes:
    fonts()
    width, height = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName="NotoSans")
    title = tickets[0].event_title if tickets else ""
    canvas.setTitle(f"Ticket – {title}" if len(tickets) == 1 else f"Tickets – {title}")
    canvas.setCreator("events")
    canvas.setAuthor("events")
    document = painter(canvas)
    for ticket in tickets:
        _draw_ticket(canvas, ticket, page_size, document)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_ticket(canvas: Canvas, ticket: TicketView, page_size: str, document: _Painter | None = None) -> tuple[float, float]:
    """Draw one ticket page; returns (where the plan said the text would end, where it did end)."""
    document = _Document.for_canvas(canvas) if document is None else document
    design = DESIGNS[page_size]
    plan = _plan(ticket, page_size)
    page_width, page_height = PAGE_SIZES[page_size]
    # Where everything but the event's and the ticket's own text goes follows from these alone.
    layout = (page_size, *map(len, (plan.title, plan.venue, plan.address, plan.holder, plan.type_name, plan.notes)))
    page, shared = document.begin_page(canvas, layout)
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
        band = canvas.beginPath()
        if design.card:  # rounded at the top only, like the card around it
            radius, kappa = 4 * mm, 0.5523  # kappa: Bézier control distance for a quarter circle
            band.moveTo(left, band_bottom)
            band.lineTo(left, top - radius)
            band.curveTo(left, top - radius * (1 - kappa), left + radius * (1 - kappa), top, left + radius, top)
            band.lineTo(right - radius, top)
            band.curveTo(right - radius * (1 - kappa), top, right, top - radius * (1 - kappa), right, top - radius)
            band.lineTo(right, band_bottom)
            band.close()
        else:
            band.rect(left, band_bottom, right - left, design.band)
        shared.fill(band, ACCENT)
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
    document.qr(canvas, ticket.code, centre - design.qr / 2, y - design.qr, design.qr)
    y -= design.qr - 0.2 * design.hint.size
    y = shared.paragraph((SHOW_AT_DOOR,), design.hint, centre, y)

    # A tear line, then who it is for and which ticket it is.
    y -= 0.8 * g
    shared.dashed_rule(left + inset, right - inset, y, RULE, 0.6, 3)
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
        shared.stroke(card, RULE, 0.8)
    shared.finish(page_size)
    document.finish_page(page)
    return band_bottom - plan.height, y
