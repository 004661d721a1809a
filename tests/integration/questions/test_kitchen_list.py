"""The kitchen list: how many guests gave each answer, over the valid tickets of paid orders only, as a page, a
print-friendly PDF and a CSV, and in the API; never a name."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime
from typing import Any

import httpx

from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim, claim_link
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import get_order, pay_with_test_page, place_order
from tests.support.questions import add_dietary, add_question
from tests.support.ticket_pdfs import tool

NAMES = ["Amal Haddad", "amal@example.org", "Yusuf Karimi", "yusuf@example.org", "Pending Person", "pending@example.org", "Leila"]


async def buy(client: httpx.AsyncClient, slug: str, name: str, answers: list[dict[str, Any]], *, quantity: int, pay: bool = True) -> dict[str, Any]:
    email = name.split()[0].lower() + "@example.org"
    created = await place_order(client, slug, quantity=quantity, buyer={"name": name, "email": email}, answers=answers)
    assert created.status_code == 201, created.text
    if pay:
        assert (await pay_with_test_page(client, created.json())).status_code in (200, 303)
    return created.json()


async def supper_with_answers(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Two paid orders (one of whose tickets is then refunded), one order never paid, and a claimed free place."""
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    seats = await add_question(client, slug, organiser, kind="yes_no", label="Do you need a seat near the door?", per_ticket=False)
    d = dietary["id"]
    await buy(client, slug, "Amal Haddad", [{"question": d, "ticket_index": 0, "value": ["vegetarian"]}, {"question": d, "ticket_index": 1, "value": ["vegetarian", "peanuts"]}, {"question": seats["id"], "value": "yes"}], quantity=2)  # fmt: skip
    yusuf = await buy(client, slug, "Yusuf Karimi", [{"question": d, "ticket_index": 0, "value": ["vegan"]}, {"question": d, "ticket_index": 1, "value": ["halal"], "note": ""}], quantity=2)  # fmt: skip
    await buy(client, slug, "Pending Person", [{"question": d, "value": ["halal", "kosher"]}], quantity=1, pay=False)
    link = await claim_link(client, organiser, slug)
    assert (
        await claim(client, link["code"], answers=[{"question": d, "value": ["gluten_free", "other"], "note": "No mushrooms"}])
    ).status_code == 201  # type: ignore[arg-type]
    # Yusuf's second ticket (halal) is refunded: it no longer eats.
    tickets = (await get_order(client, yusuf))["tickets"]
    refunded = await client.post(
        f"/api/orders/{yusuf['reference']}/refunds", json={"reason": "Cannot come", "tickets": [tickets[1]["id"]]}, headers=organiser
    )
    assert refunded.status_code in (200, 201), refunded.text
    return slug, dietary, seats


async def test_the_summary_counts_valid_tickets_of_paid_orders_only(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug, _, _ = await supper_with_answers(client, organiser, now)
    summary = await client.get(f"/api/events/{slug}/questions/summary", headers=organiser)
    assert summary.status_code == 200
    body = summary.json()
    assert body["guests"] == 4  # Amal's two, Yusuf's one left, Leila's free place; not the unpaid order
    [diet, seat] = body["questions"]
    counts = {tally["key"]: tally["count"] for tally in diet["counts"]}
    assert counts["vegetarian"] == 2 and counts["peanuts"] == 1 and counts["vegan"] == 1 and counts["gluten_free"] == 1 and counts["other"] == 1
    assert counts["halal"] == 0 and counts["kosher"] == 0  # a refunded ticket and an unpaid order count for nothing
    assert (diet["asked"], diet["answered"], diet["unanswered"], diet["notes"]) == (4, 4, 0, 1)
    # A per-order question counts orders: Amal's, Yusuf's and Leila's, of which one said yes.
    assert (seat["asked"], seat["answered"], [(t["key"], t["count"]) for t in seat["counts"]]) == (3, 1, [("yes", 1), ("no", 0)])
    assert not any(name in summary.text for name in NAMES)
    assert "No mushrooms" not in summary.text  # a note is the guest's own words: counted, never shown here


async def test_the_kitchen_list_page_pdf_and_csv_show_counts_and_no_name(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug, _, _ = await supper_with_answers(client, organiser, now)
    await sign_in_organiser(client)
    page = await client.get(f"/manage/events/{slug}/kitchen")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = " ".join(page.text.split())
    assert "4 guests" in text and "Counts only: no names." in text
    assert '<th scope="row" dir="auto">Vegetarian</th><td>2</td>' in text and '<th scope="row" dir="auto">Peanut allergy</th><td>1</td>' in text
    assert "1 answer has a note: read the notes on the attendee list." in text
    assert not any(name in page.text for name in NAMES) and "No mushrooms" not in page.text

    pdf = await client.get(f"/manage/events/{slug}/kitchen.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = subprocess.run([tool("pdftotext"), "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    lines = [" ".join(line.split()) for line in words.splitlines()]
    assert "KITCHEN LIST" in lines and "Supper Club" in lines and "Dietary and allergen needs" in lines
    assert "Vegetarian 2" in lines and "Peanut allergy 1" in lines and "Halal 0" in lines and "No answer 0" in lines
    assert "4 guests (valid tickets of paid orders). Counts only: no names." in lines
    assert not any(name in words for name in NAMES) and "No mushrooms" not in words

    exported = await client.get(f"/manage/events/{slug}/kitchen.csv")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["Question", "Answer", "How many"] and rows[1] == ["Guests", "Valid tickets of paid orders", "4"]
    assert ["Dietary and allergen needs", "Vegetarian", "2"] in rows and ["Dietary and allergen needs", "Halal", "0"] in rows
    assert ["Do you need a seat near the door?", "Yes", "1"] in rows and ["Do you need a seat near the door?", "No answer", "2"] in rows
    assert not any(name in exported.text for name in NAMES) and "No mushrooms" not in exported.text


async def test_a_kitchen_list_of_an_event_without_questions_says_so(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    assert (await client.get(f"/api/events/{slug}/questions/summary", headers=organiser)).json() == {"event": slug, "guests": 0, "questions": []}
    await sign_in_organiser(client)
    assert "This event asks its guests no questions." in (await client.get(f"/manage/events/{slug}/kitchen")).text
    assert (await client.get(f"/manage/events/{slug}/kitchen.pdf")).status_code == 200
