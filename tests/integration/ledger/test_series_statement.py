"""The series statement adds up the series' events per partner project: each partner's figures are the sum of its
lines in its events' own statements, to the penny, and the totals are the sum of the events' totals. Drafts (a copy
with its costs already recorded, say) and events outside the series are not added up."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook

from events.accounts import service as accounts
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event, make_partner
from tests.integration.accounts.test_login import sign_in
from tests.support.orders import pay_with_test_page, place_order

FIGURES = ("refunds_pence", "fees_pence", "costs_pence", "net_pence", "paid_out_pence", "balance_pence", "gift_aid_claimable_pence")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The spreadsheets' figure columns (the event statement's words) and the pence each shows; deductions are negative.
COLUMNS: dict[str, Callable[[dict[str, Any]], int]] = {
    "Tickets (£)": lambda line: line["income_pence"]["tickets"],
    "Booking fees (£)": lambda line: line["income_pence"]["booking_fees"],
    "Pay-it-forward money used (£)": lambda line: line["income_pence"]["contributions"],
    "Donations (£)": lambda line: line["income_pence"]["donations"],
    "Income for this project (£)": lambda line: sum(line["income_pence"].values()),
    "Refunds (£)": lambda line: -line["refunds_pence"],
    "Stripe fees (£)": lambda line: -line["fees_pence"],
    "Event costs (£)": lambda line: -line["costs_pence"],
    "Net due (£)": lambda line: line["net_pence"],
    "Paid out (£)": lambda line: -line["paid_out_pence"],
    "Balance owed (£)": lambda line: line["balance_pence"],
    "Gift Aid to claim from HMRC (not in the balance) (£)": lambda line: line["gift_aid_claimable_pence"],
}
HEADERS = ["Event", "Event date", "Partner project", *COLUMNS]


def _dated(now: datetime, days: int) -> dict[str, str]:
    starts = (now + timedelta(days=days)).replace(microsecond=0)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat()}


async def _buy(client: httpx.AsyncClient, slug: str, **extra: Any) -> None:
    created = (await place_order(client, slug, **extra)).json()
    assert (await pay_with_test_page(client, created)).status_code in (200, 303)


async def _series_of_three(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """Two published suppers of the series with different partners, sales, costs, a donation and a payout; a draft
    copy with its costs; and a quiz night outside the series with sales of its own."""
    await make_partner("help-refugees")
    assert (await client.post("/api/series", json={"title": "Monthly supper", "slug": "monthly-supper"}, headers=organiser)).status_code == 201
    first = await make_event(
        now,
        slug="june-supper",
        title="June Supper",
        series="monthly-supper",
        booking_fee_pence=75,
        pay_it_forward_place_pence=3000,
        **_dated(now, 10),
    )
    second = await make_event(
        now,
        slug="july-supper",
        title="July Supper",
        series="monthly-supper",
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 5000}, {"partner": "help-refugees", "share_bp": 5000}],
        **_dated(now, 40),
    )
    other = await make_event(now, slug="quiz-night", title="Quiz Night", **_dated(now, 20))
    await client.post(f"/api/events/{first}/costs", json={"description": "Hall", "amount_pence": 4_000}, headers=organiser)
    await client.post(f"/api/events/{second}/costs", json={"description": "Food", "amount_pence": 3_333}, headers=organiser)
    await _buy(client, first, quantity=3, pay_it_forward_places=1, donation_pence=1_001)
    await _buy(client, first, quantity=1, donation_pence=2_000, donation_partner="welcome-cinema")
    await _buy(client, second, quantity=4, donation_pence=777)
    await _buy(client, other, quantity=2)
    paid = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        json={"event": first, "amount_pence": 1_000, "paid_on": now.isoformat(), "bank_reference": "JUNE-1"},
        headers=organiser,
    )
    assert paid.status_code == 201, paid.text
    copied = await client.post(
        f"/api/events/{second}/copy",
        json={"slug": "august-supper", "title": "August Supper", **_dated(now, 70)},
        headers=organiser,
    )
    assert copied.status_code == 201, copied.text


async def test_the_series_statement_adds_up_its_events_per_partner(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    response = await client.get("/api/series/monthly-supper/statement", headers=organiser)
    assert response.status_code == 200, response.text
    statement = response.json()

    reconciliations = [(await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json() for slug in ("june-supper", "july-supper")]
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for reconciliation in reconciliations:
        for line in reconciliation["partners"]:
            for name in FIGURES:
                expected[line["partner"]][name] += line[name]
            for kind, pence in line["income_pence"].items():
                expected[line["partner"]][f"income_{kind}"] += pence
    lines = {line["partner"]: line for line in statement["partners"]}
    assert set(lines) == {"welcome-kitchen", "welcome-cinema", "help-refugees"}
    for partner, figures in expected.items():
        line = lines[partner]
        assert {name: line[name] for name in FIGURES} == {name: figures[name] for name in FIGURES}, partner
        assert {f"income_{kind}": pence for kind, pence in line["income_pence"].items()} == {
            k: v for k, v in figures.items() if k.startswith("income_")
        }
    assert lines["welcome-kitchen"]["name"] == "Welcome Kitchen" and lines["welcome-kitchen"]["paid_out_pence"] == 1_000
    assert lines["welcome-cinema"]["income_pence"]["donations"] >= 2_000  # its designated donation, less its fees

    # The totals are the events' totals added up, and the partners' lines added up; nothing of the quiz night.
    for name in FIGURES:
        assert statement["totals"][name] == sum(r["totals"][name] for r in reconciliations) == sum(line[name] for line in statement["partners"])
    assert statement["totals"]["net_pence"] > 0 and statement["costs_pence"] == 7_333
    assert [event["event"] for event in statement["events"]] == ["june-supper", "july-supper"]
    assert [event["totals"]["net_pence"] for event in statement["events"]] == [r["totals"]["net_pence"] for r in reconciliations]
    # The draft copy (its costs already booked) is listed as left out, not added up.
    assert statement["left_out"] == [
        {"event": "august-supper", "title": "August Supper", "starts_at": statement["left_out"][0]["starts_at"], "reason": "draft"}
    ]
    assert statement["issued_by"]["organisation"] == (await organisations.resolve(None)).slug

    # The machine CSV, read back: a row per partner and the total, in pence.
    download = await client.get("/api/series/monthly-supper/statement.csv", headers=organiser)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["partner"] for row in rows] == [*(line["partner"] for line in statement["partners"]), "TOTAL"]
    for row in rows:
        line = lines.get(row["partner"], statement["totals"])
        assert int(row["net_pence"]) == line["net_pence"] and int(row["balance_pence"]) == line["balance_pence"]
        assert int(row["income_tickets_pence"]) == line["income_pence"]["tickets"]


def _pence(amount: object) -> int:
    """A spreadsheet's amount in pounds (the CSV's "12.50", the workbook's number) in pence, exactly."""
    pence = Decimal(str(amount)) * 100
    assert pence == pence.to_integral_value(), amount
    return int(pence)


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == HEADERS
    return list(reader)


def _xlsx_rows(content: bytes) -> dict[str, list[dict[str, Any]]]:
    """Each sheet of the workbook as rows keyed by its headers."""
    workbook = load_workbook(io.BytesIO(content))
    sheets: dict[str, list[dict[str, Any]]] = {}
    for sheet in workbook.worksheets:
        header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert header == HEADERS, sheet.title
        sheets[sheet.title] = [dict(zip(header, row, strict=True)) for row in rows]
    return sheets


async def _per_event_and_partner(
    client: httpx.AsyncClient, organiser: dict[str, str], statement: dict[str, Any]
) -> list[tuple[str, datetime, str, dict[str, Any]]]:
    """What the spreadsheets' rows should be: each line of each added-up event's own statement, in the series' order."""
    names = {line["partner"]: line["name"] for line in statement["partners"]}
    expected = []
    for event in statement["events"]:
        reconciliation = (await client.get(f"/api/events/{event['event']}/reconciliation", headers=organiser)).json()
        day = datetime.fromisoformat(event["starts_at"])
        expected += [(event["title"], day, names[line["partner"]], line) for line in reconciliation["partners"]]
    return expected


async def test_the_series_statement_as_spreadsheets_adds_up_to_its_totals(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    await _series_of_three(client, organiser, now)
    statement = (await client.get("/api/series/monthly-supper/statement", headers=organiser)).json()
    expected = await _per_event_and_partner(client, organiser, statement)
    assert {title for title, *_ in expected} == {"June Supper", "July Supper"}  # not the draft, not the quiz night

    # The spreadsheet CSV: a row per event and partner project in pounds and pence, UK dates and names, then the total.
    download = await client.get("/api/series/monthly-supper/statement-spreadsheet.csv", headers=organiser)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.headers["cache-control"] == "no-store"
    assert download.headers["content-disposition"] == 'attachment; filename="series-statement-monthly-supper-spreadsheet.csv"'
    rows = _csv_rows(download.content)
    assert [(row["Event"], row["Event date"], row["Partner project"]) for row in rows] == [
        *((title, day.strftime("%d/%m/%Y"), name) for title, day, name, _ in expected),
        ("Total", "", ""),
    ]
    *lines, total = rows
    for row, (*_, line) in zip(lines, expected, strict=True):
        assert {column: _pence(row[column]) for column in COLUMNS} == {column: pence(line) for column, pence in COLUMNS.items()}, row
    # The total row is the series statement's totals, and each column of the rows adds up to it, to the penny.
    assert {column: _pence(total[column]) for column in COLUMNS} == {column: pence(statement["totals"]) for column, pence in COLUMNS.items()}
    for column in COLUMNS:
        assert sum(_pence(row[column]) for row in lines) == _pence(total[column]), column
    assert _pence(total["Net due (£)"]) == statement["totals"]["net_pence"] > 0
    assert _pence(total["Paid out (£)"]) == -1_000

    # The workbook: the same table, amounts as numbers and dates as dates; then each partner project over the series.
    download = await client.get("/api/series/monthly-supper/statement.xlsx", headers=organiser)
    assert download.status_code == 200 and download.headers["content-type"] == XLSX and download.headers["cache-control"] == "no-store"
    sheets = _xlsx_rows(download.content)
    assert list(sheets) == ["Statement", "Partners"]
    *lines_xlsx, total_xlsx = sheets["Statement"]
    assert [(row["Event"], row["Event date"], row["Partner project"]) for row in lines_xlsx] == [
        (title, datetime.combine(day.date(), datetime.min.time()), name) for title, day, name, _ in expected
    ]
    for row, (*_, line) in zip(lines_xlsx, expected, strict=True):
        assert {column: _pence(row[column]) for column in COLUMNS} == {column: pence(line) for column, pence in COLUMNS.items()}, row
    assert (total_xlsx["Event"], total_xlsx["Event date"], total_xlsx["Partner project"]) == ("Total", None, None)
    assert {column: _pence(total_xlsx[column]) for column in COLUMNS} == {column: pence(statement["totals"]) for column, pence in COLUMNS.items()}

    *partners, partners_total = sheets["Partners"]
    assert [(row["Event"], row["Partner project"]) for row in partners] == [("Monthly supper", line["name"]) for line in statement["partners"]]
    for row, line in zip(partners, statement["partners"], strict=True):
        assert {column: _pence(row[column]) for column in COLUMNS} == {column: pence(line) for column, pence in COLUMNS.items()}, row
    assert {column: _pence(partners_total[column]) for column in COLUMNS} == {column: pence(statement["totals"]) for column, pence in COLUMNS.items()}


async def test_the_series_statement_page(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    await accounts.create_user("boss@test.example", role="organiser", password="a long password")
    await sign_in(client, "boss@test.example", "a long password")
    page = await client.get("/manage/series/monthly-supper/statement")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for text in ("Monthly supper", "June Supper", "July Supper", "Welcome Kitchen", "Help Refugees", "a draft, not on sale yet"):
        assert text in page.text, text
    assert "Quiz Night" not in page.text
    for href in ("statement.csv", "statement-spreadsheet.csv", "statement.xlsx"):
        assert f'href="/manage/series/monthly-supper/{href}"' in page.text, href
    for label in ("Spreadsheet (CSV)", "Excel (.xlsx)", "Machine-readable CSV (pence)"):
        assert label in page.text, label
    download = await client.get("/manage/series/monthly-supper/statement.csv")
    assert download.status_code == 200 and download.text.splitlines()[-1].startswith("TOTAL,")
    # The spreadsheets are the API's, with the event statement's columns.
    statement = (await client.get("/api/series/monthly-supper/statement", headers=organiser)).json()
    sheet = await client.get("/manage/series/monthly-supper/statement-spreadsheet.csv")
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    assert _pence(_csv_rows(sheet.content)[-1]["Balance owed (£)"]) == statement["totals"]["balance_pence"]
    event_sheet = await client.get("/manage/events/june-supper/statement-spreadsheet.csv")
    assert event_sheet.content.decode("utf-8-sig").splitlines()[0] == sheet.content.decode("utf-8-sig").splitlines()[0]
    workbook = await client.get("/manage/series/monthly-supper/statement.xlsx")
    assert workbook.status_code == 200 and workbook.headers["content-type"] == XLSX
    assert _pence(_xlsx_rows(workbook.content)["Statement"][-1]["Balance owed (£)"]) == statement["totals"]["balance_pence"]
    assert 'href="/manage/series/monthly-supper/statement"' in (await client.get("/manage/series/monthly-supper")).text


async def test_only_the_organisations_unrestricted_organisers_see_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    await accounts.create_user("limited@test.example", role="organiser", password=None, restricted=True)
    limited = {"Authorization": f"Bearer {await accounts.create_api_token('limited@test.example', now=now)}"}
    assert (await client.get("/api/series/monthly-supper/statement", headers=limited)).status_code == 403
    beta = await organisations.create_organisation("beta", OrganisationDetails(name="Beta"))
    await accounts.create_user("organiser@beta.example", role="organiser", password=None, organisation_id=beta.id)
    theirs = {"Authorization": f"Bearer {await accounts.create_api_token('organiser@beta.example', now=now, organisation_id=beta.id)}"}
    refused = await client.get("/api/series/monthly-supper/statement", headers=theirs)
    assert refused.status_code == 404 and refused.json()["error"] == "series_not_found"
    for download in ("statement.csv", "statement-spreadsheet.csv", "statement.xlsx"):
        assert (await client.get(f"/api/series/monthly-supper/{download}", headers=theirs)).status_code == 404, download
        assert (await client.get(f"/api/series/monthly-supper/{download}", headers=limited)).status_code == 403, download
