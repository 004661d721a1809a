"""Ticket PDFs with reportlab: an A4 page or a phone-sized page per ticket, QR drawn as vector squares."""

from __future__ import annotations

import io
from collections.abc import Sequence

from babel.dates import format_datetime
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from events.tickets.qr import qr_matrix
from events.tickets.views import TicketView

PHONE = (90 * mm, 160 * mm)
PAGE_SIZES = {"a4": A4, "phone": PHONE}


def render_tickets_pdf(tickets: Sequence[TicketView], *, page_size: str = "a4") -> bytes:
    """One PDF holding every ticket, one per page."""
    width, height = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle("Tickets")
    for ticket in tickets:
        _draw_ticket(canvas, ticket, width, height)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_ticket(canvas: Canvas, ticket: TicketView, width: float, height: float) -> None:
    margin = 12 * mm if width > 120 * mm else 7 * mm
    y = height - margin
    canvas.setFont("Helvetica-Bold", 20 if width > 120 * mm else 14)
    y -= 8 * mm
    canvas.drawString(margin, y, ticket.event_title)
    canvas.setFont("Helvetica", 11 if width > 120 * mm else 9)
    for line in (
        format_datetime(ticket.starts_at, "EEEE d MMMM y, HH:mm", locale="en_GB"),
        ticket.venue,
        ticket.address,
    ):
        if line:
            y -= 6 * mm
            canvas.drawString(margin, y, line)
    qr_size = min(width - 2 * margin, 110 * mm)
    y -= qr_size + 6 * mm
    _draw_qr(canvas, ticket.code, (width - qr_size) / 2, y, qr_size)
    canvas.setFont("Helvetica-Bold", 14 if width > 120 * mm else 11)
    y -= 10 * mm
    canvas.drawString(margin, y, ticket.holder)
    canvas.setFont("Helvetica", 11 if width > 120 * mm else 9)
    y -= 6 * mm
    canvas.drawString(margin, y, ticket.type_name)
    y -= 6 * mm
    canvas.drawString(margin, y, f"Order {ticket.order_reference} · Ticket {ticket.secret}")


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(data)
    module = size / len(matrix)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        for column_index, dark in enumerate(row):
            if dark:
                path.rect(x + column_index * module, top, module, module)
    canvas.drawPath(path, stroke=0, fill=1)
