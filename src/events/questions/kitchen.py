"""The kitchen list as a chef takes it away: a CSV for a spreadsheet and a print-friendly A4 PDF. Counts only: what
it is made from (questions.service.KitchenList) holds no name, so neither can they.

The PDF is set in the vendored Noto fonts run by run (events.pdf.text), as the statement PDFs are, so an organiser's
question in Arabic script prints too."""

from __future__ import annotations

import csv
import io
from xml.sax.saxutils import escape

from babel.dates import format_datetime
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from events import cpu
from events.pdf.text import fonts, visual_runs
from events.questions.rules import QuestionCounts
from events.questions.service import KitchenList
from events.questions.statuses import QuestionKind

cpu.preload(__name__)  # rendered in the pool's processes

# Spreadsheets run a cell that starts with one of these as a formula (OWASP's list): an organiser's words are text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MARGIN = 18 * mm
INK = colors.HexColor("#1b1b1f")
MUTED = colors.HexColor("#4a4a55")
ACCENT = colors.HexColor("#0b5c4a")
RULE = colors.HexColor("#c9c5bb")
TINT = colors.HexColor("#f3f1ec")


def _cell(value: object) -> str:
    written = str(value)
    return "'" + written if written.startswith(FORMULA_STARTS) else written


def asked_of(counts: QuestionCounts) -> str:
    return "guests" if counts.per_ticket else "orders"


def rows(kitchen: KitchenList) -> list[list[str]]:
    """The list as rows of (question, answer, how many): each option's count, then those who did not answer."""
    lines: list[list[str]] = []
    for counts in kitchen.questions:
        if counts.kind == QuestionKind.text:
            lines.append([counts.label, "Answered", str(counts.answered)])
        lines += [[counts.label, tally.label, str(tally.count)] for tally in counts.tallies]
        if counts.notes:
            lines.append([counts.label, "…with a note (read the notes on the attendee list)", str(counts.notes)])
        lines.append([counts.label, "No answer", str(counts.unanswered)])
    return lines


def kitchen_csv(kitchen: KitchenList) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Question", "Answer", "How many"])
    writer.writerow(["Guests", "Valid tickets of paid orders", str(kitchen.guests)])
    for row in rows(kitchen):
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def _style(size: float, *, bold: bool = False, colour: colors.Color = INK, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle(
        f"k{size}{bold}{align}",
        fontName="NotoSans-Bold" if bold else "NotoSans",
        fontSize=size,
        leading=size * 1.3,
        textColor=colour,
        alignment=align,
    )


LABEL = _style(8, bold=True, colour=ACCENT)
TITLE = _style(20, bold=True)
BODY = _style(10.5)
MUTED_BODY = _style(9.5, colour=MUTED)
HEADING = _style(13, bold=True)
CELL = _style(11)
COUNT = _style(12, bold=True, align=2)


def _text(words: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph whose runs each use the font that has their script (Latin or Arabic)."""
    bold = style.fontName.endswith("-Bold")
    return Paragraph("".join(f'<font name="{name}">{escape(chunk)}</font>' for name, chunk in visual_runs(words, bold)), style)


def _table(counts: QuestionCounts, width: float) -> Table:
    lines: list[tuple[str, int]] = []
    if counts.kind == QuestionKind.text:
        lines.append(("Answered", counts.answered))
    lines += [(tally.label, tally.count) for tally in counts.tallies]
    lines.append(("No answer", counts.unanswered))
    table = Table([[_text(label, CELL), _text(str(count), COUNT)] for label, count in lines], colWidths=[width * 0.8, width * 0.2], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("BACKGROUND", (0, len(lines) - 1), (-1, len(lines) - 1), TINT),
            ]
        )
    )
    return table


def render_kitchen_pdf(kitchen: KitchenList) -> bytes:
    """The kitchen list on A4: the event, how many guests, and each question's counts in a table."""
    fonts()
    buffer = io.BytesIO()
    width = min(A4[0] - 2 * MARGIN, 130 * mm)
    event = kitchen.event
    when = format_datetime(kitchen.starts_at, "EEEE d MMMM y, HH:mm", locale="en_GB")
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Kitchen list – {event.title}",
        creator="events",
        pageCompression=1,
    )
    story: list[Flowable] = [
        _text("KITCHEN LIST", LABEL),
        Spacer(1, 1.5 * mm),
        _text(event.title, TITLE),
        Spacer(1, 1.5 * mm),
        _text(when, BODY),
        _text(f"{kitchen.guests} guests (valid tickets of paid orders). Counts only: no names.", MUTED_BODY),
        Spacer(1, 6 * mm),
    ]
    for counts in kitchen.questions:
        asked = f"Asked of {counts.asked} {asked_of(counts)}; {counts.answered} answered."
        if counts.kind == QuestionKind.several_choices:
            asked += " A guest may tick several."
        part: list[Flowable] = [_text(counts.label, HEADING), _text(asked, MUTED_BODY), Spacer(1, 1.5 * mm), _table(counts, width)]
        if counts.notes:
            part += [Spacer(1, 1 * mm), _text(f"{counts.notes} answered with a note: read the notes on the attendee list.", MUTED_BODY)]
        story.append(KeepTogether([*part, Spacer(1, 6 * mm)]))
    if not kitchen.questions:
        story.append(_text("This event asks its guests no questions.", BODY))
    document.build(story)
    return buffer.getvalue()


async def kitchen_pdf(kitchen: KitchenList) -> bytes:
    """render_kitchen_pdf off the event loop (events.cpu), so laying it out never stalls other requests."""
    return await cpu.run(render_kitchen_pdf, kitchen)
