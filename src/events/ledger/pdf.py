"""A partner's statement as an A4 PDF for a treasurer to check and sign: a table per event, the totals,
whether the card payments reconcile with Stripe, and a sign-off block.

Set in the vendored Noto fonts (events.pdf.text.fonts), run by run, so Arabic-script names print too, with
reportlab's public platypus API only. Amounts are integer pence formatted by events.money.format_money.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from events import cpu
from events.ledger.schemas import Figures, PartnerStatement
from events.ledger.service import FAR_FUTURE, FAR_PAST
from events.ledger.words import partner_word
from events.money import format_money
from events.pdf.text import fonts, visual_runs

cpu.preload(__name__)  # rendered in the pool's processes

MARGIN = 18 * mm
INK = colors.HexColor("#1b1b1f")
MUTED = colors.HexColor("#4a4a55")
ACCENT = colors.HexColor("#0b5c4a")
RULE = colors.HexColor("#c9c5bb")
TINT = colors.HexColor("#f3f1ec")


def _style(size: float, *, bold: bool = False, colour: colors.Color = INK, leading: float = 1.3, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}{bold}",
        fontName="NotoSans-Bold" if bold else "NotoSans",
        fontSize=size,
        leading=size * leading,
        textColor=colour,
        alignment=align,
    )


LABEL = _style(8, bold=True, colour=ACCENT)
TITLE = _style(20, bold=True, leading=1.2)
BODY = _style(10)
MUTED_BODY = _style(9, colour=MUTED)
HEADING = _style(12.5, bold=True, leading=1.25)
CELL = _style(10)
CELL_BOLD = _style(10, bold=True)
AMOUNT = _style(10, align=2)
AMOUNT_BOLD = _style(10, bold=True, align=2)
RESULT = _style(11.5, bold=True)


def _text(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph whose runs each use the font that has their script (Latin or Arabic)."""
    bold = style.fontName.endswith("-Bold")
    markup = "".join(f'<font name="{name}">{escape(chunk)}</font>' for name, chunk in visual_runs(text, bold)) if text else ""
    return Paragraph(markup, style)


def _day(moment: datetime) -> str:
    return format_date(moment, "d MMMM y", locale="en_GB")


def period_text(start: datetime, end: datetime, now: datetime) -> str:
    """The period in words; the end is exclusive, as statements select entries in [start, end)."""
    if start <= FAR_PAST and end >= FAR_FUTURE:
        return f"All entries up to {_day(now)}"
    if start <= FAR_PAST:
        return f"Entries before {_day(end)}"
    if end >= FAR_FUTURE:
        return f"Entries from {_day(start)} to {_day(now)}"
    return f"Entries from {_day(start)}, up to but not including {_day(end)}"


def _rows(line: Figures, money: Callable[[int], str]) -> list[tuple[str, str, bool]]:
    """(label, amount, emphasised) for one event's or the totals' figures, in the order they add up, named by the
    money words (ledger.words) as on the statement page."""
    income = line.income_pence
    amounts = [
        ("tickets", income["tickets"], False),
        ("booking_fees", income["booking_fees"], False),
        ("contributions", income["contributions"], False),
        ("donations", income["donations"], False),
        ("income", sum(income.values()), True),
        ("refunds", -line.refunds_pence, False),
        ("fees", -line.fees_pence, False),
        ("costs", -line.costs_pence, False),
        ("net", line.net_pence, True),
        ("paid_out", -line.paid_out_pence, False),
        ("balance", line.balance_pence, True),
    ]
    if line.gift_aid_claimable_pence:
        amounts.append(("gift_aid_claimable", line.gift_aid_claimable_pence, False))
    rows = [(partner_word(key).label, money(pence), strong) for key, pence, strong in amounts]
    if line.balance_pence < 0:  # a refund after a payout: the partner was paid more than is due
        overpaid = (f"Overpaid by {money(-line.balance_pence)}: to be paid back, or taken off a later payout", "", False)
        rows.insert(next(i for i, (key, _, _) in enumerate(amounts) if key == "balance") + 1, overpaid)
    return rows


def _figures(line: Figures, money: Callable[[int], str], width: float) -> Table:
    rows = _rows(line, money)
    data = [[_text(label, CELL_BOLD if strong else CELL), _text(amount, AMOUNT_BOLD if strong else AMOUNT)] for label, amount, strong in rows]
    table = Table(data, colWidths=[width * 0.62, width * 0.38], hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
    ]
    for index, (_, _, strong) in enumerate(rows):
        if strong:
            commands += [("BACKGROUND", (0, index), (-1, index), TINT), ("LINEABOVE", (0, index), (-1, index), 0.9, INK)]
    table.setStyle(TableStyle(commands))
    return table


def _reconciled_text(reconciled: bool | None, card_payments: int) -> str:
    if not card_payments:
        return "Nothing to reconcile with Stripe: no payment by card through Stripe"
    if reconciled is None:
        return "Reconciled with Stripe: not checked"
    return f"Reconciled with Stripe: {'yes' if reconciled else 'no'}"


def _sign_off(width: float) -> Flowable:
    line_rows = [[_text(label, CELL_BOLD), ""] for label in ("Name", "Signature", "Date")]
    lines = Table(line_rows, colWidths=[28 * mm, width - 28 * mm], rowHeights=[10 * mm] * 3, hAlign="LEFT")
    lines.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, -1), 0.8, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return KeepTogether(
        [
            Spacer(1, 7 * mm),
            _text("SIGN-OFF", LABEL),
            Spacer(1, 1.5 * mm),
            _text("I have checked this statement against the bank and Stripe records and approve it.", BODY),
            lines,
        ]
    )


def _issuer(statement: PartnerStatement) -> list[Flowable]:
    """Whose statement it is: the charity's registered name and number, and their contact address."""
    issuer = statement.issued_by
    if issuer is None:
        return []
    lines = [_text(f"From {issuer.charity_line}", BODY)]
    if issuer.contact_email:
        lines.append(_text(f"Contact: {issuer.contact_email}", MUTED_BODY))
    return [*lines, Spacer(1, 1 * mm)]


async def statement_pdf(statement: PartnerStatement, *, now: datetime) -> bytes:
    """render_statement_pdf off the event loop (events.cpu), so laying out a long statement never stalls other requests."""
    return await cpu.run(render_statement_pdf, statement, now=now)


def render_statement_pdf(statement: PartnerStatement, *, now: datetime) -> bytes:
    """The partner statement (events.ledger.statements.partner_statement) as one A4 PDF."""
    fonts()
    currency = statement.currency

    def money(pence: int) -> str:
        return format_money(pence, currency, "en_GB")

    buffer = io.BytesIO()
    width = A4[0] - 2 * MARGIN
    name = statement.name
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=f"Statement – {name}",
        author=statement.issued_by.charity_line if statement.issued_by else "events",
        creator="events",
        pageCompression=1,
    )
    story: list[Flowable] = [
        _text("PARTNER STATEMENT", LABEL),
        Spacer(1, 1.5 * mm),
        _text(name, TITLE),
        Spacer(1, 2 * mm),
        *_issuer(statement),
        _text(f"Period: {period_text(statement.from_, statement.to, now)}", BODY),
        _text(f"Prepared on {_day(now)} · all amounts in {currency}", MUTED_BODY),
        Spacer(1, 6 * mm),
    ]
    figures_width = min(width, 120 * mm)
    for event in statement.events:
        heading = f"{event.title} · {_day(event.starts_at)}"
        story.append(
            KeepTogether(
                [
                    _text(heading, HEADING),
                    Spacer(1, 1.5 * mm),
                    _figures(event, money, figures_width),
                    Spacer(1, 1.5 * mm),
                    _text(_reconciled_text(event.reconciled, event.card_payments), MUTED_BODY),
                    Spacer(1, 6 * mm),
                ]
            )
        )
    if not statement.events:
        story += [_text("This partner benefits from no events yet.", BODY), Spacer(1, 6 * mm)]
    story.append(
        KeepTogether(
            [
                _text("Totals" if len(statement.events) != 1 else "Total", HEADING),
                Spacer(1, 1.5 * mm),
                _figures(statement.totals, money, figures_width),
                Spacer(1, 4 * mm),
                _text(_reconciled_text(statement.reconciled, statement.card_payments), RESULT),
            ]
        )
    )
    story.append(_sign_off(figures_width))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("NotoSans", 8)
        canvas.setFillColor(MUTED)
        issuer = f" by {statement.issued_by.charity_line}" if statement.issued_by else ""
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"{statement.partner} · statement prepared {_day(now)}{issuer}")
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
