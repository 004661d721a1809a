"""One meaning for each money word: the dashboard and the statement show the same figures under the same words for an
event with pay-it-forward money (part used for a free place, part not yet used), donations (shared and for one
project), a refund, Stripe's fees, costs and a payout; and the treasurer's spreadsheet (CSV read back with the csv
module, .xlsx with openpyxl) has human headers, pounds and pence, names and UK dates, and adds up to the statement."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from events.catalogue.lookup import find_event
from events.catalogue.tables import Event
from events.ledger.figures import adds_up
from events.ledger.schemas import EventFigures
from events.money import format_money, split_pence
from events.payments.tables import Payment
from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import get_order, pay_with_test_page, place_order

# A figure's row on the dashboard and the statement: its word, its label and its amount.
ROW = re.compile(r'<tr[^>]*data-figure="(\w+)"><th scope="row">([^<]+)</th><td class="[\w-]+">([^<]+)</td></tr>')
# The worked event's Stripe fees, pence per order (the test provider has none: written in, then booked as a repair).
FEES = {"A": 300, "B": 150, "C": 120}


def buyer(name: str) -> dict[str, str]:
    return {"name": f"Guest {name}", "email": f"guest-{name.lower()}@example.org"}


@pytest.fixture
async def worked_event(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> str:
    """£30 tickets with a £1 booking fee, £12 a cover and a £50 hall; £90 paid forward, of which one free guest's
    £12 cover is used and the rest not yet; £10 shared and £20 for Welcome Cinema donated; one ticket refunded; £20
    paid out to Welcome Kitchen."""
    slug = await make_event(
        now,
        booking_fee_pence=100,
        pay_it_forward_place_pence=3000,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}],
    )
    await Event.update({Event.cost_per_attendee_pence: 1200}).where(Event.slug == slug)
    await client.post(f"/api/events/{slug}/costs", json={"description": "Hall", "amount_pence": 5_000}, headers=organiser)
    orders = {
        "A": await place_order(client, slug, quantity=5, buyer=buyer("A"), pay_it_forward_places=3),
        "B": await place_order(client, slug, quantity=2, buyer=buyer("B"), donation_pence=2000, donation_partner="welcome-cinema"),
        "C": await place_order(client, slug, quantity=2, buyer=buyer("C"), donation_pence=1000),
    }
    for name, response in orders.items():
        await pay_with_test_page(client, response.json())
        await Payment.update({Payment.fee_pence: FEES[name]}).where(Payment.order_id.reference == response.json()["reference"])
    await client.post(f"/api/events/{slug}/ledger/rebook", headers=organiser)
    c = orders["C"].json()
    ticket = (await get_order(client, c))["tickets"][0]["id"]
    await client.post(f"/api/orders/{c['reference']}/refunds", json={"tickets": [ticket], "reason": "Ill"}, headers=organiser)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 5}, headers=organiser)).json()
    await client.post("/api/claims", json={"code": link["code"], "name": "Free Guest"})
    paid = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        json={"event": slug, "amount_pence": 2_000, "paid_on": now.isoformat(), "bank_reference": "BACS 7"},
        headers=organiser,
    )
    assert paid.status_code == 201, paid.text
    return slug


def figure_rows(page: str, table_class: str) -> dict[str, tuple[str, str]]:
    """word -> (label, amount) of the figures table with this class."""
    table = page.split(f'class="figures {table_class}"', 1)[1].split("</table>", 1)[0]
    return {key: (html.unescape(label), html.unescape(amount)) for key, label, amount in ROW.findall(table)}


async def test_the_dashboard_and_the_statement_show_the_same_figures(client: httpx.AsyncClient, worked_event: str, organiser: dict[str, str]) -> None:
    await sign_in_organiser(client)
    dashboard = figure_rows((await client.get(f"/manage/events/{worked_event}")).text, "event-figures")
    statement_page = (await client.get(f"/manage/events/{worked_event}/statement")).text
    statement = figure_rows(statement_page, "event-figures")
    assert dashboard == statement  # every figure: the same word, the same amount
    reconciliation = (await client.get(f"/api/events/{worked_event}/reconciliation", headers=organiser)).json()
    figures = EventFigures(**reconciliation["figures"])
    assert adds_up(figures)

    # Worked by hand: 9 tickets (£270), 9 booking fees (£9), £90 paid forward, £30 donated: £399 gross income.
    assert dashboard["ticket_income"] == ("Ticket income", "£270") and dashboard["pay_it_forward"] == ("Pay-it-forward money", "£90")
    assert dashboard["donations"] == ("Donations", "£30") and dashboard["gross_income"] == ("Gross income", "£399")
    assert dashboard["refunds"] == ("Refunds", "-£31")  # the ticket and its booking fee
    assert dashboard["stripe_fees"] == ("Stripe fees", "-£5.70")
    # The fund: £90 less its share of order A's fee covers the free guest's £12 cover; the rest is not yet used.
    assert figures.pay_it_forward_used_pence == 1_200
    fee_on_the_fund = split_pence(FEES["A"], [15_000, 500, 9_000, 0])[2]  # order A: tickets, booking fees, pay-it-forward
    assert dashboard["pay_it_forward_not_yet_used"] == ("Pay-it-forward money not yet used", format_money(-(9_000 - 1_200 - fee_on_the_fund)))
    # Costs: £50 hall + 9 covers (8 paying guests and the free one) × £12.
    assert dashboard["event_costs"] == ("Event costs", "-£158")
    assert "costs_not_covered" not in dashboard  # nothing is left uncovered here
    # What the partners share is what their lines add up to, and they are all named the same on both pages.
    totals = reconciliation["totals"]
    assert figures.net_due_pence == totals["net_pence"] == sum(line["net_pence"] for line in reconciliation["partners"])
    assert dashboard["net_due"] == ("Net due to partners", format_money(totals["net_pence"]))
    assert dashboard["paid_out"] == ("Paid out", "-£20") and dashboard["balance"] == ("Balance owed", format_money(totals["balance_pence"]))
    for key, (label, amount) in dashboard.items():
        sign = -1 if amount.startswith("-") else 1
        assert format_money(sign * getattr(figures, f"{key}_pence")) == amount, (key, label)
    # Each figure is explained where it is shown, pay-it-forward money's place until it is used among them.
    for page in (statement_page, (await client.get(f"/manage/events/{worked_event}")).text):
        assert "How these figures are worked out" in page
        assert "sits in the event&#39;s pay-it-forward fund until it is used" in page
        assert page.count('<details class="money-word"') >= len(dashboard)


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode()), "a byte-order mark, so Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def pounds(pence: int) -> str:
    return f"{Decimal(pence) / 100:.2f}"


async def test_the_treasurers_csv_reads_back_with_names_pounds_uk_dates_and_the_statements_totals(
    client: httpx.AsyncClient, worked_event: str, organiser: dict[str, str]
) -> None:
    await sign_in_organiser(client)
    page = (await client.get(f"/manage/events/{worked_event}/statement")).text
    assert f'href="/manage/events/{worked_event}/statement-spreadsheet.csv"' in page and "Spreadsheet (CSV)" in page
    assert f'href="/manage/events/{worked_event}/statement.xlsx"' in page and "Excel (.xlsx)" in page
    assert f'href="/manage/events/{worked_event}/statement.csv"' in page  # the machine CSV stays beside them
    download = await client.get(f"/manage/events/{worked_event}/statement-spreadsheet.csv")
    assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == f'attachment; filename="statement-{worked_event}.csv"'
    assert download.headers["cache-control"] == "no-store"
    rows = read_csv(download.content)
    reconciliation = (await client.get(f"/api/events/{worked_event}/reconciliation", headers=organiser)).json()
    event = await find_event(worked_event)
    day = event.starts_at.astimezone(ZoneInfo("Europe/London")).strftime("%d/%m/%Y")

    assert list(rows[0]) == [
        "Event",
        "Event date",
        "Partner project",
        "Tickets (£)",
        "Booking fees (£)",
        "Pay-it-forward money used (£)",
        "Donations (£)",
        "Income for this project (£)",
        "Refunds (£)",
        "Stripe fees (£)",
        "Event costs (£)",
        "Net due (£)",
        "Paid out (£)",
        "Balance owed (£)",
        "Gift Aid to claim from HMRC (not in the balance) (£)",
    ]
    assert [(row["Event"], row["Event date"], row["Partner project"]) for row in rows] == [
        ("Supper Club", day, "Welcome Kitchen"),
        ("Supper Club", day, "Welcome Cinema"),
        ("Total", "", ""),
    ]
    for row, line in zip(rows, [*reconciliation["partners"], reconciliation["totals"]], strict=True):
        assert row["Tickets (£)"] == pounds(line["income_pence"]["tickets"])
        assert row["Donations (£)"] == pounds(line["income_pence"]["donations"])
        assert row["Refunds (£)"] == pounds(-line["refunds_pence"]) and row["Event costs (£)"] == pounds(-line["costs_pence"])
        assert row["Net due (£)"] == pounds(line["net_pence"]) and row["Paid out (£)"] == pounds(-line["paid_out_pence"])
        assert row["Balance owed (£)"] == pounds(line["balance_pence"])
    kitchen, cinema, total = rows
    assert kitchen["Paid out (£)"] == "-20.00" and cinema["Donations (£)"].endswith(".00")
    # The totals are the statement's: each column of the partners' rows adds up to the total row, to the penny.
    for column in list(rows[0])[3:]:
        assert Decimal(kitchen[column]) + Decimal(cinema[column]) == Decimal(total[column]), column
    assert total["Net due (£)"] == pounds(reconciliation["figures"]["net_due_pence"])

    # A partner project's statement: a row per event, the same figures.
    partner_csv = read_csv((await client.get("/manage/partners/welcome-kitchen/statement-spreadsheet.csv")).content)
    assert [(row["Event"], row["Event date"], row["Partner project"], row["Net due (£)"]) for row in partner_csv] == [
        ("Supper Club", day, "Welcome Kitchen", kitchen["Net due (£)"]),
        ("Total", "", "", kitchen["Net due (£)"]),
    ]


async def test_the_xlsx_reads_back_with_numbers_in_pounds_and_the_events_figures(
    client: httpx.AsyncClient, worked_event: str, organiser: dict[str, str]
) -> None:
    await sign_in_organiser(client)
    download = await client.get(f"/manage/events/{worked_event}/statement.xlsx")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(download.content))
    assert workbook.sheetnames == ["Statement", "Event figures"]
    reconciliation = (await client.get(f"/api/events/{worked_event}/reconciliation", headers=organiser)).json()
    sheet = workbook["Statement"]
    header = [cell.value for cell in sheet[1]]
    kitchen = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert kitchen["Partner project"] == "Welcome Kitchen" and kitchen["Event"] == "Supper Club"
    assert isinstance(kitchen["Event date"], datetime) and sheet["B2"].number_format == "dd/mm/yyyy"
    line = reconciliation["partners"][0]
    assert kitchen["Net due (£)"] == pytest.approx(line["net_pence"] / 100) and kitchen["Paid out (£)"] == -20
    assert sheet["L2"].number_format == '"£"#,##0.00;-"£"#,##0.00'
    total = dict(zip(header, [cell.value for cell in sheet[4]], strict=True))
    assert total["Event"] == "Total" and total["Balance owed (£)"] == pytest.approx(reconciliation["totals"]["balance_pence"] / 100)

    figures = {row[0].value: row[1].value for row in workbook["Event figures"].iter_rows(min_row=2)}
    assert figures["Gross income"] == pytest.approx(reconciliation["figures"]["gross_income_pence"] / 100) == 399
    assert figures["Pay-it-forward money not yet used"] == pytest.approx(-reconciliation["figures"]["pay_it_forward_not_yet_used_pence"] / 100)
    assert figures["Net due to partners"] == pytest.approx(reconciliation["totals"]["net_pence"] / 100)

    partner = load_workbook(io.BytesIO((await client.get("/manage/partners/welcome-cinema/statement.xlsx")).content))
    assert partner["Statement"]["C2"].value == "Welcome Cinema"
