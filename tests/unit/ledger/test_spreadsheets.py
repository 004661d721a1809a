"""The treasurer's spreadsheets: a table as CSV (UTF-8 with a byte-order mark, amounts as pounds and pence, UK dates,
no formula run) and as .xlsx (amounts as numbers in a £ format, dates as dates, text never a formula)."""

import csv
import io
import time
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from events.ledger.schemas import Totals
from events.ledger.spreadsheets import Money, StatementLine, statement_sheet, table_csv, table_xlsx


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_csv_opens_in_excel_as_written() -> None:
    content = table_csv(
        ["Partner project", "Paid on", "Amount (£)"],
        [
            ["Café Ünal", date(2027, 8, 5), Money(1250)],
            ['=HYPERLINK("http://x")', datetime(2027, 8, 15, 23, 30, tzinfo=ZoneInfo("Europe/London")), Money(-305)],
        ],
    )
    assert content.startswith("\ufeff".encode())  # the byte-order mark Excel needs to read UTF-8
    assert b"\r\n" in content
    assert read_csv(content) == [
        ["Partner project", "Paid on", "Amount (£)"],
        ["Café Ünal", "05/08/2027", "12.50"],
        ['\'=HYPERLINK("http://x")', "15/08/2027", "-3.05"],  # a formula is shown, never run; the date where it is
    ]


def test_the_xlsx_has_numbers_in_pounds_dates_and_text_that_is_never_a_formula() -> None:
    content = table_xlsx(
        ["Partner project", "Paid on", "Amount (£)"],
        [["=1+1", date(2027, 8, 5), Money(123_450)], ["مطبخ", None, Money(-5)]],
        made_on=date(2027, 8, 20),
        title="Payouts",
    )
    sheet = load_workbook(io.BytesIO(content))["Payouts"]
    assert [cell.value for cell in sheet[1]] == ["Partner project", "Paid on", "Amount (£)"]
    name, day, amount = sheet[2]
    assert name.value == "=1+1" and name.data_type == "s"
    assert day.value == datetime(2027, 8, 5) and day.number_format == "dd/mm/yyyy"
    assert amount.value == 1234.5 and amount.number_format == '"£"#,##0.00;-"£"#,##0.00'
    assert sheet["A3"].value == "مطبخ" and sheet["C3"].value == -0.05
    assert sheet.freeze_panes == "A2"


def test_the_same_table_made_on_the_same_day_is_the_same_file_whatever_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloaded twice, a statement is the same file (and a HEAD request gets its GET's length): neither the
    workbook's properties nor its zip carry the time of day it was made."""
    table = (["Partner project", "Amount (£)"], [["Welcome Kitchen", Money(123_450)]])
    made = []
    for seconds in (1_818_000_000.0, 1_818_040_001.0):  # 20 August 2027, eleven hours apart
        monkeypatch.setattr(time, "time", lambda seconds=seconds: seconds)
        made.append(table_xlsx(*table, made_on=date(2027, 8, 20)))
    assert made[0] == made[1]
    with zipfile.ZipFile(io.BytesIO(made[0])) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2027, 8, 20, 0, 0, 0)}
    properties = load_workbook(io.BytesIO(made[0])).properties
    assert properties.created == properties.modified == datetime(2027, 8, 20)
    assert table_xlsx(*table, made_on=date(2027, 8, 21)) != made[0]


def test_a_statement_sheet_has_human_headers_and_a_total_that_adds_up_across() -> None:
    line = Totals(
        income_pence={"tickets": 42_000, "booking_fees": 0, "contributions": 4_200, "donations": 1_400},
        refunds_pence=2_100,
        fees_pence=767,
        costs_pence=39_760,
        net_pence=4_973,
        paid_out_pence=4_000,
        balance_pence=973,
        gift_aid_claimable_pence=350,
    )
    sheet = statement_sheet([StatementLine("Supper Club", date(2027, 8, 15), "Welcome Kitchen", line)], line, "GBP")
    [header, row, total] = read_csv(table_csv(sheet.headers, sheet.rows))
    assert header[:5] == ["Event", "Event date", "Partner project", "Tickets (£)", "Booking fees (£)"]
    assert "Income for this project (£)" in header and "Net due (£)" in header and "Balance owed (£)" in header
    assert row[:4] == ["Supper Club", "15/08/2027", "Welcome Kitchen", "420.00"]
    values = dict(zip(header, row, strict=True))
    assert values["Refunds (£)"] == "-21.00" and values["Paid out (£)"] == "-40.00" and values["Balance owed (£)"] == "9.73"
    # Each row adds up across: income, less refunds, fees and costs, is the net due; less paid out, the balance.
    pounds = [float(value) for value in row[3:]]
    income, refunds, fees, costs, net, paid, balance = pounds[4], pounds[5], pounds[6], pounds[7], pounds[8], pounds[9], pounds[10]
    assert round(sum(pounds[:4]), 2) == income and round(income + refunds + fees + costs, 2) == net and round(net + paid, 2) == balance
    assert total[:3] == ["Total", "", ""] and total[3:] == row[3:]
