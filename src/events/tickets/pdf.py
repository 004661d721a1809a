"""Ticket PDFs: the ticket's design and layout, an A4 page or a phone-sized page per ticket, QR drawn as vector squares.

Text runs, shaping and wrapping come from events.pdf.text. A page is laid out here (_plan, _draw_ticket)
and drawn by a painter from events.pdf.pages: the fast one in production (text written as PDF operators,
the parts every ticket of a layout shares drawn once as a form XObject), or the one that uses reportlab's
public API alone (render_tickets_pdf_with_public_api), which tests compare it with. Nothing here touches
reportlab's internals (events.pdf.reportlab_internals does).

Language: a ticket speaks the order's (Order.locale): its labels through gettext, its dates through Babel.
An Arabic or Farsi ticket is laid out right to left: the band's labels and the two columns change sides, its
own lines are right-to-left paragraphs, and the event's and the guest's own text keeps the direction it is
written in (as HTML's dir="auto"), so an English title reads as written on an Arabic page. Everything else is
centred, on every page. Arabic script is shaped and reordered by events.pdf.text, since reportlab cannot.

Speed (see bench/tickets.py): fonts are registered once; the event's wrapped lines are cached; each
font subset's program, CMap and Font/FontDescriptor dictionaries are made and formatted once (ASCII-only
text always gives the same subset, and goes to it without a per-document lookup); the QR code is one
compressed form XObject per code. Encoding a new code with the qrcode package (events.tickets.qr) is
about half of a single-ticket render, and reportlab's own formatting of each document most of the rest.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, format_time
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from events import cpu, i18n
from events.i18n import N_
from events.organisations import rules as organisation_rules
from events.organisations import service as organisations
from events.pdf.pages import FastPainter, Lines, Painter, PublicApiPainter, public_api_font, register_public_api_fonts
from events.pdf.text import Direction, fonts, wrap
from events.tickets.qr import QUIET_ZONE, qr_symbol
from events.tickets.views import TicketView

cpu.preload(__name__)  # rendered in the pool's processes

PHONE = (90 * mm, 190 * mm)  # about a phone screen's shape: fits the width, one page per screen
PAGE_SIZES = {"a4": A4, "phone": PHONE}

INK = (0x1B / 255, 0x1B / 255, 0x1F / 255)
MUTED = (0x4A / 255, 0x4A / 255, 0x55 / 255)
ACCENT = (0x0B / 255, 0x5C / 255, 0x4A / 255)
RULE = (0xC9 / 255, 0xC5 / 255, 0xBB / 255)
WHITE = (1.0, 1.0, 1.0)

# What a ticket says besides the event's and the guest's own text. Labels are shown in capitals where the
# language has them (str.upper after translating: Arabic and Farsi have none).
BAND_START = N_("Ticket")
BAND_END = N_("Admit one")
SHOW_AT_DOOR = N_("Show this QR code at the door")
NAME = N_("Name")
TICKET_TYPE = N_("Ticket type")
ORDER = N_("Order")
TICKET_CODE = N_("Ticket code")
SMALL_PRINT = N_("One entry per ticket: the code is checked when you arrive. Anyone with a copy of this code could use it, so keep it to yourself.")
DOCUMENT_TITLE = N_("Ticket – %(event)s")
DOCUMENT_TITLE_PLURAL = N_("Tickets – %(event)s")


@dataclass(frozen=True, slots=True)
class Branding:
    """Who runs the event, as its tickets show it: their name (with the logo above it, when they have one) under
    the band, and the band in their accent colour (checked for contrast with white when it was saved)."""

    name: str
    accent: tuple[float, float, float] = ACCENT
    logo: bytes | None = None  # PNG or JPEG (organisations.rules.logo_problem)


def colour_of(hex_colour: str) -> tuple[float, float, float]:
    """A colour written #rrggbb as reportlab's red, green and blue fractions."""
    red, green, blue = (int(hex_colour[index : index + 2], 16) / 255 for index in (1, 3, 5))
    return red, green, blue


async def branding_of(organisation_id: int) -> Branding:
    organisation = await organisations.by_id(organisation_id)
    logo = await organisations.logo_by_id(organisation_id) if organisation.has_logo else None
    return Branding(name=organisation.name, accent=colour_of(organisation_rules.theme_colour(organisation.accent_colour)), logo=logo)


# --- layout -------------------------------------------------------------------------------------------


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
    logo: float  # height of the box the organisation's logo is fitted into


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
    logo=14 * mm,
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
    logo=9 * mm,
)

DESIGNS = {"a4": A4_DESIGN, "phone": PHONE_DESIGN}
# Arabic script looks smaller than Latin capitals of the same size, and spacing its letters apart would break
# their joins: an Arabic or Farsi page's small labels are larger and not spaced.
RIGHT_TO_LEFT_LABEL_SCALE = 1.2


@lru_cache(maxsize=8)
def _design(page_size: str, right_to_left: bool) -> _Design:
    design = DESIGNS[page_size]
    if not right_to_left:
        return design
    return replace(design, label=replace(design.label, size=design.label.size * RIGHT_TO_LEFT_LABEL_SCALE, tracking=0.0))


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


@dataclass(frozen=True, slots=True)
class _Said:
    """One of the ticket's own lines in the guest's language, and the direction it is written in."""

    text: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class _Wording:
    """Everything a ticket says in one language besides the event's and the guest's own text."""

    locale: str  # one of i18n.SUPPORTED_LOCALES
    right_to_left: bool
    band_start: _Said
    band_end: _Said
    show_at_door: _Said
    name: _Said
    ticket_type: _Said
    order: _Said
    ticket_code: _Said
    small_print: _Said
    document_title: tuple[str, str]  # one ticket, several; with %(event)s

    @property
    def direction(self) -> Direction:
        """The direction of the language's own lines (its dates)."""
        return "rtl" if self.right_to_left else "ltr"


@lru_cache(maxsize=len(i18n.SUPPORTED_LOCALES))
def _wording(locale: str) -> _Wording:
    translations = i18n.translations(locale)
    right_to_left = locale in i18n.RIGHT_TO_LEFT

    def said(message: str, *, label: bool = False) -> _Said:
        text = translations.gettext(message)
        # A sentence the catalogue lacks comes out in English, so it is an English (left-to-right) line.
        direction: Direction = "rtl" if right_to_left and text != message else "ltr"
        return _Said(text.upper() if label else text, direction)

    return _Wording(
        locale=locale,
        right_to_left=right_to_left,
        band_start=said(BAND_START, label=True),
        band_end=said(BAND_END, label=True),
        show_at_door=said(SHOW_AT_DOOR),
        name=said(NAME, label=True),
        ticket_type=said(TICKET_TYPE, label=True),
        order=said(ORDER, label=True),
        ticket_code=said(TICKET_CODE, label=True),
        small_print=said(SMALL_PRINT),
        document_title=(translations.gettext(DOCUMENT_TITLE), translations.gettext(DOCUMENT_TITLE_PLURAL)),
    )


def _when(start: datetime, end: datetime, locale: str) -> tuple[str, str]:
    """As _written_when, kept per process by the moments and their zone: two moments in different time zones are
    equal in Python (the same instant), yet are written differently."""
    return _written_when(start, end, locale, f"{start.tzinfo}|{start.utcoffset()}|{end.utcoffset()}")


@lru_cache(maxsize=256)
def _written_when(start: datetime, end: datetime, locale: str, zone: str) -> tuple[str, str]:
    """('Thursday, 20 August 2026', '19:00–22:30 BST') in the event's own time zone, as the language writes them
    (in Arabic: 'الخميس، 20 أغسطس 2026', '19:00–22:30 توقيت المملكة المتحدة')."""
    language = i18n.FORMAT_LOCALES[locale]
    day = format_date(start, format="full", locale=language)  # as the ticket page writes it (templating's long_date)
    if end.date() == start.date():
        hours = format_interval(start, end, "Hm", locale=language)
    else:  # '19:00 – Fri 21 August 22:30': the end's day, in the language's way of joining a range
        ends = f"{format_skeleton('MMMMEd', end, locale=language)} {format_time(end, 'HH:mm', locale=language)}"
        hours = Locale.parse(language).interval_formats[None].format(format_time(start, "HH:mm", locale=language), ends)
    zone = format_time(start, "z", locale=language)  # 'BST' in English
    if zone[:1] in "+-":
        # The language has no short name for it, and '+0100' tells a guest little: the zone's place, as the language
        # names it ('heure : Royaume-Uni', 'توقيت المملكة المتحدة', 'وقت بریتانیا').
        zone = format_time(start, "VVVV", locale=language)
    if locale in i18n.RIGHT_TO_LEFT and zone[:1] in "+-":
        zone = f"\u2066{zone}\u2069"  # isolated left to right, so that an offset keeps its sign in front
    return day, f"{hours} {zone}"


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
    organiser: tuple[str, ...] = ()  # who runs the event (Branding.name), above the title
    logo: bool = False  # the organisation's logo sits above their name


def _plan(ticket: TicketView, page_size: str, branding: Branding | None = None, wording: _Wording | None = None) -> _Plan:
    wording = wording or _wording(i18n.DEFAULT_LOCALE)
    design = _design(page_size, wording.right_to_left)
    width = _content_width(page_size)
    available = PAGE_SIZES[page_size][1] - design.band - (2 * design.margin + 6 * mm if design.card else design.margin)
    day, hours = _when(ticket.starts_at, ticket.ends_at, wording.locale)
    plan = None
    for title, venue, address, holder, type_name, notes in _LINE_LIMITS:
        lines = {
            "title": wrap(ticket.event_title, design.title.size, True, width, title),
            "venue": wrap(ticket.venue, design.where.size, design.where.bold, width, venue),
            "address": wrap(ticket.address, design.address.size, design.address.bold, width, address),
            "holder": wrap(ticket.holder, design.holder.size, True, width, holder),
            "type_name": wrap(ticket.type_name, design.value.size, True, width / 2 - 3 * mm, type_name),
            "notes": wrap(wording.small_print.text, design.small.size, False, width, notes) if notes else (),
            "organiser": wrap(branding.name, design.hint.size, True, width, 1) if branding else (),
        }
        logo = bool(branding and branding.logo)
        plan = _Plan(day=day, hours=hours, height=_height(design, logo=logo, **lines), logo=logo, **lines)
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
    organiser: tuple[str, ...] = (),
    logo: bool = False,
) -> float:
    """How tall _draw_ticket will make the page below the band (it follows the same steps)."""
    g = design.gap
    height = _organiser_height(design, organiser, logo) + g + len(title) * design.title.line_height + 0.6 * g + 2 * design.when.line_height
    if venue or address:
        height += 0.4 * g + len(venue) * design.where.line_height + len(address) * design.address.line_height
    height += 0.5 * g + design.qr + design.hint.line_height - 0.2 * design.hint.size
    height += 0.8 * g + 0.8 * g + design.label.line_height + 1.2 * mm + len(holder) * design.holder.line_height + 0.7 * g
    height += 2 * (design.label.line_height + 1 * mm) + (max(len(type_name), 1) + 1) * design.value.line_height + 0.6 * g
    height += 0.8 * g + len(notes) * design.small.line_height
    return height


def _organiser_height(design: _Design, organiser: tuple[str, ...], logo: bool) -> float:
    """The logo and the organisation's name above the title (nothing when the ticket names no organisation)."""
    height = (design.logo + 0.4 * design.gap) if logo else 0.0
    if organiser:
        height += 0.6 * design.gap + len(organiser) * _organiser_style(design).line_height
    return height


def _organiser_style(design: _Design) -> Style:
    return Style(design.hint.size, bold=True, colour=MUTED)


def _content_width(page_size: str) -> float:
    design = DESIGNS[page_size]
    return PAGE_SIZES[page_size][0] - 2 * (design.margin + design.padding)


def render_tickets_pdf(
    tickets: Sequence[TicketView], *, page_size: str = "a4", branding: Branding | None = None, locale: str = i18n.DEFAULT_LOCALE
) -> bytes:
    """One PDF holding every ticket, one per page, in the language ``locale`` (the order's: Order.locale)
    (CPU-bound: from async code, await tickets_pdf instead)."""
    return _render(tickets, page_size, FastPainter.for_canvas, "NotoSans", branding, locale)


async def tickets_pdf(tickets: Sequence[TicketView], *, page_size: str = "a4", locale: str) -> bytes:
    """render_tickets_pdf off the event loop (events.cpu: a pool process, or a thread), in the order's language ``locale`` (the guest's choice, Order.locale,
    whatever language the page asking for it is in) and in the colours and with the name and logo of the
    organisation running the event: a 500-ticket order takes the best part of a second of CPU, which would
    otherwise stall every other request of this serve process (in a thread too, through the GIL). The tickets of one PDF are of one order, so
    of one organisation and one language."""
    branding = await branding_of(tickets[0].organisation_id) if tickets else None
    return await cpu.run(render_tickets_pdf, tickets, page_size=page_size, branding=branding, locale=locale)


def render_tickets_pdf_with_public_api(
    tickets: Sequence[TicketView], *, page_size: str = "a4", branding: Branding | None = None, locale: str = i18n.DEFAULT_LOCALE
) -> bytes:
    """The same PDF drawn through reportlab's public API alone, slowly: the reference the fast path is tested against."""
    register_public_api_fonts()
    return _render(tickets, page_size, lambda canvas: PublicApiPainter(), public_api_font("NotoSans"), branding, locale)


def _render(
    tickets: Sequence[TicketView],
    page_size: str,
    painter: Callable[[Canvas], Painter],
    initial_font: str,
    branding: Branding | None = None,
    locale: str = i18n.DEFAULT_LOCALE,
) -> bytes:
    fonts()
    wording = _wording(locale if locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE)
    width, height = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    # An embedded initial font: reportlab's default, Helvetica, would be a font the PDF does not embed. The
    # document's language (/Lang) is for screen readers.
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=initial_font, lang=wording.locale)
    title = tickets[0].event_title if tickets else ""
    canvas.setTitle(wording.document_title[0 if len(tickets) == 1 else 1] % {"event": title})
    canvas.setCreator("events")
    canvas.setAuthor(branding.name if branding else "events")
    document = painter(canvas)
    # One image for every page: reportlab embeds an ImageReader's picture once per document.
    logo = ImageReader(io.BytesIO(branding.logo)) if branding and branding.logo else None
    for ticket in tickets:
        _draw_ticket(canvas, ticket, page_size, document, branding, logo, wording)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_ticket(
    canvas: Canvas,
    ticket: TicketView,
    page_size: str,
    document: Painter | None = None,
    branding: Branding | None = None,
    logo: ImageReader | None = None,
    wording: _Wording | None = None,
) -> tuple[float, float]:
    """Draw one ticket page; returns (where the plan said the text would end, where it did end)."""
    document = FastPainter.for_canvas(canvas) if document is None else document
    wording = wording or _wording(i18n.DEFAULT_LOCALE)
    design = _design(page_size, wording.right_to_left)
    plan = _plan(ticket, page_size, branding, wording)
    page_width, page_height = PAGE_SIZES[page_size]
    accent = branding.accent if branding else ACCENT
    # Where everything but the event's and the ticket's own text goes follows from these alone (and the band's colour).
    layout = (
        page_size,
        wording.locale,
        accent,
        plan.logo,
        *map(len, (plan.organiser, plan.title, plan.venue, plan.address, plan.holder, plan.type_name, plan.notes)),
    )
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
        shared.fill(band, accent)
    band_label = Style(design.label.size + 1.5, bold=True, colour=WHITE, tracking=design.label.tracking * 1.5)
    inset = design.padding if design.card else design.margin
    baseline = band_bottom + design.band / 2 - band_label.size * 0.35
    # 'TICKET' where a line starts (the left, or the right in Arabic and Farsi), 'ADMIT ONE' where it ends.
    start, end = (right - inset, left + inset) if wording.right_to_left else (left + inset, right - inset)
    start_align, end_align = ("right", "left") if wording.right_to_left else ("left", "right")
    for said, x, align in ((wording.band_start, start, start_align), (wording.band_end, end, end_align)):
        shared.line(said.text, band_label, x, baseline, align=align, direction=said.direction)

    # Who runs the event: their logo, fitted into a box the width of the text, and their name.
    y = band_bottom
    if plan.logo and logo is not None:
        y -= 0.4 * g + design.logo
        canvas.drawImage(logo, left + inset, y, width=content_width, height=design.logo, preserveAspectRatio=True, anchor="c", mask="auto")
    if plan.organiser:
        y -= 0.6 * g
        y = page.paragraph(plan.organiser, _organiser_style(design), centre, y)

    # The event: title, when, where.
    y -= g
    y = page.paragraph(plan.title, design.title, centre, y)
    y -= 0.6 * g
    y = page.paragraph((plan.day,), design.when, centre, y, direction=wording.direction)
    y = page.paragraph((plan.hours,), Style(design.when.size), centre, y, direction=wording.direction)
    if plan.venue or plan.address:
        y -= 0.4 * g
        y = page.paragraph(plan.venue, design.where, centre, y)
        y = page.paragraph(plan.address, design.address, centre, y)

    # The QR code, then what to do with it.
    y -= 0.5 * g
    document.matrix(canvas, qr_symbol(ticket.code), centre - design.qr / 2, y - design.qr, design.qr, QUIET_ZONE)
    y -= design.qr - 0.2 * design.hint.size
    y = _said(shared, wording.show_at_door, design.hint, centre, y)

    # A tear line, then who it is for and which ticket it is.
    y -= 0.8 * g
    shared.dashed_rule(left + inset, right - inset, y, RULE, 0.6, 3)
    y -= 0.8 * g
    y = _said(shared, wording.name, design.label, centre, y)
    y -= 1.2 * mm
    y = page.paragraph(plan.holder, design.holder, centre, y)
    y -= 0.7 * g

    # Two columns, read from where a line starts: the ticket type first, then the order.
    half = content_width / 4
    first, second = (centre + half, centre - half) if wording.right_to_left else (centre - half, centre + half)
    cell = _said(shared, wording.ticket_type, design.label, first, y) - 1 * mm
    type_bottom = page.paragraph(plan.type_name, design.value, first, cell)
    cell = _said(shared, wording.order, design.label, second, y) - 1 * mm
    order_bottom = page.paragraph((ticket.order_reference,), design.value, second, cell)
    y = min(type_bottom, order_bottom) - 0.6 * g
    y = _said(shared, wording.ticket_code, design.label, centre, y) - 1 * mm
    y = page.paragraph((ticket.secret,), design.value, centre, y)

    # Small print: what the code is, and that it is personal.
    y -= 0.8 * g
    y = shared.paragraph(plan.notes, design.small, centre, y, direction=wording.small_print.direction)
    if design.card and shared.recording:
        card_bottom = y - 6 * mm
        card = canvas.beginPath()
        card.roundRect(left, card_bottom, right - left, top - card_bottom, 4 * mm)
        shared.stroke(card, RULE, 0.8)
    shared.finish(page_width, page_height)
    document.finish_page(page)
    return band_bottom - plan.height, y


def _said(lines: Lines, said: _Said, style: Style, x: float, top: float) -> float:
    """One of the ticket's own lines, centred at ``x`` below ``top``; returns the y below it."""
    return lines.paragraph((said.text,), style, x, top, direction=said.direction)
