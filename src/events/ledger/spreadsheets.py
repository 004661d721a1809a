"""Spreadsheets a treasurer can open as they are: a table (human column headers, then rows) written as CSV or as an
Excel workbook, and the statement tables every statement (an event's, a partner project's, a series') is written as.
Pure: no web framework, no database.

The CSV is UTF-8 with a byte-order mark. Excel opens a CSV without one in the computer's old code page, which garbles
"Café" and every Arabic or Farsi name; with it, Excel, LibreOffice, Numbers and Google Sheets all read UTF-8 (and
Python reads it back with ``encoding="utf-8-sig"``). Commas between cells, CRLF between rows (RFC 4180). Amounts are
pounds and pence as plain numbers ("12.50", "-3.00"), the currency named in the column header ("Tickets (£)"), so
a spreadsheet adds them up; dates are dd/mm/yyyy. A text cell a spreadsheet would run as a formula ("=", "+", "-",
"@" first) gets a leading apostrophe, as the attendee list's do.

The .xlsx (openpyxl) has the same table: amounts are numbers with a currency format ("£1,234.50"), dates are dates
shown dd/mm/yyyy, and text is always text, never a formula. Its bytes depend on its tables and the day it is made on,
not on the time of day: the workbook's properties and every file in its zip carry that day's midnight, so the same
statement downloaded twice in a day is the same file (a treasurer can compare checksums; a HEAD request is answered
with the length its GET has).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_symbol
from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from events.ledger.schemas import EventFigures, Figures
from events.ledger.words import EVENT, FUND, PARTNER
from events.money import SYMBOL_LOCALE, minor_unit_digits

# Spreadsheets run a cell that starts with one of these as a formula (OWASP's list, tab and CR included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UK_DATE = "%d/%m/%Y"
XLSX_DATE = "dd/mm/yyyy"
WIDEST_COLUMN = 48


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in pence: written as pounds and pence, a number."""

    pence: int
    currency: str = "GBP"

    @property
    def amount(self) -> Decimal:
        return Decimal(self.pence).scaleb(-minor_unit_digits(self.currency))


Cell = str | int | Money | date | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table: a title (the workbook's tab), the column headers and the rows."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


# --- the writer -------------------------------------------------------------------------------------------------


def table_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table as CSV for a spreadsheet: UTF-8 with a byte-order mark (see the module's note)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(header) for header in headers])
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, made_on: date, title: str = "Statement") -> bytes:
    """The table as an Excel workbook of one sheet."""
    return workbook_xlsx([Sheet(title, headers, rows)], made_on=made_on)


def workbook_xlsx(sheets: Sequence[Sheet], *, made_on: date) -> bytes:
    """An Excel workbook with a tab per table, headers in bold and kept in view while scrolling, dated ``made_on``
    (see the module's note)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title))
        widths = [len(str(header)) for header in sheet.headers]
        for column, header in enumerate(sheet.headers, start=1):
            cell = worksheet.cell(row=1, column=column)
            _text_cell(cell, str(header))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row_number, row in enumerate(sheet.rows, start=2):
            for column, value in enumerate(row, start=1):
                cell = worksheet.cell(row=row_number, column=column)
                _xlsx_cell(cell, value)
                if column <= len(widths):
                    widths[column - 1] = max(widths[column - 1], len(_csv_cell(value)) + (2 if isinstance(value, Money) else 0))
        for column, width in enumerate(widths, start=1):
            worksheet.column_dimensions[get_column_letter(column)].width = min(WIDEST_COLUMN, max(10, width + 2))
        worksheet.freeze_panes = "A2"
    midnight = datetime.combine(made_on, time())
    workbook.properties.created = workbook.properties.modified = midnight
    workbook.properties.creator = "events"
    buffer = io.BytesIO()
    # As openpyxl's Workbook.save, which would date the properties and each zipped file with the time of saving.
    with _DatedZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.date_time = midnight.timetuple()[:6]
        ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


class _DatedZipFile(zipfile.ZipFile):
    """A zip whose files carry ``date_time`` rather than the time they are added (by name, as openpyxl adds most)
    or the time they were last changed on disk (as it adds each sheet, written to a temporary file first)."""

    date_time: tuple[int, int, int, int, int, int]

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        with open(filename, "rb") as file:
            self.writestr(str(arcname or filename), file.read(), *args, **kwargs)

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.date_time)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16  # what ZipFile.writestr gives a file added by name
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)


def _csv_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return f"{value.amount:.{minor_unit_digits(value.currency)}f}"
    if isinstance(value, date):  # a datetime too: its date where it is (callers give the venue's time)
        return value.strftime(UK_DATE)
    if isinstance(value, int):
        return str(value)
    return _csv_text(value)


def _xlsx_cell(cell: XlsxCell, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, Money):
        cell.value = value.amount
        cell.number_format = _money_format(value.currency)
    elif isinstance(value, date):
        cell.value = value.date() if isinstance(value, datetime) else value
        cell.number_format = XLSX_DATE
    elif isinstance(value, int):
        cell.value = value
    else:
        _text_cell(cell, value)


def _text_cell(cell: XlsxCell, text: str) -> None:
    # openpyxl reads a string starting with "=" as a formula; set as text, it is shown as written and never run.
    cell.value = text
    cell.data_type = "s"


def _money_format(currency: str) -> str:
    symbol = get_currency_symbol(currency, SYMBOL_LOCALE)
    digits = minor_unit_digits(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    return f'"{symbol}"{number};-"{symbol}"{number}'


def _sheet_title(title: str) -> str:
    # Excel's rules for a tab's name: at most 31 characters, none of []:*?/\
    cleaned = "".join(" " if character in "[]:*?/\\" else character for character in title).strip()
    return cleaned[:31] or "Sheet"


# --- statements -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement: a partner project's figures for one event."""

    event: str  # the event's title
    day: date | None  # the event's date at its venue
    partner: str  # the partner project's name
    figures: Figures


def statement_headers(currency: str) -> list[str]:
    """The statement table's columns: the event, its date, the partner project, then each figure in pounds."""
    symbol = get_currency_symbol(currency, SYMBOL_LOCALE)
    return ["Event", "Event date", "Partner project", *[f"{word.label} ({symbol})" for word in PARTNER]]


def statement_sheet(lines: Sequence[StatementLine], totals: Figures, currency: str, *, title: str = "Statement") -> Sheet:
    """A statement as one table: a row per event and partner project, then the totals (every statement: an event's,
    a partner's, a series'). Deductions (refunds, fees, costs, payouts) are negative, so each row adds up across."""
    rows: list[list[Cell]] = [[line.event, line.day, line.partner, *_figure_cells(line.figures, currency)] for line in lines]
    rows.append(["Total", None, None, *_figure_cells(totals, currency)])
    return Sheet(title, statement_headers(currency), rows)


def _figure_cells(line: Figures, currency: str) -> list[Cell]:
    income = line.income_pence
    pence = {
        "tickets": income.get("tickets", 0),
        "booking_fees": income.get("booking_fees", 0),
        "contributions": income.get("contributions", 0),
        "donations": income.get("donations", 0),
        "income": sum(income.values()),
        "refunds": -line.refunds_pence,
        "fees": -line.fees_pence,
        "costs": -line.costs_pence,
        "net": line.net_pence,
        "paid_out": -line.paid_out_pence,
        "balance": line.balance_pence,
        "gift_aid_claimable": line.gift_aid_claimable_pence,
    }
    return [Money(pence[word.key], currency) for word in PARTNER]


# Deductions, shown negative as on the pages: what comes off gross income on the way to the net due and the balance.
_DEDUCTIONS = frozenset(
    {"refunds", "stripe_fees", "pay_it_forward_not_yet_used", "booking_fees_kept", "donations_for_others", "event_costs", "paid_out"}
)


def figures_sheet(figures: EventFigures, currency: str, *, title: str = "Event figures") -> Sheet:
    """The event's own figures (as its dashboard shows them), each with how it is worked out."""
    symbol = get_currency_symbol(currency, SYMBOL_LOCALE)
    rows: list[list[Cell]] = []
    for word in (*EVENT, *FUND):
        pence = getattr(figures, f"{word.key}_pence")
        rows.append([word.label, Money(-pence if word.key in _DEDUCTIONS else pence, currency), word.note])
    return Sheet(title, ["Figure", f"Amount ({symbol})", "How it is worked out"], rows)
