"""Statement pages and the PDF to sign off: organisers see every event's reconciliation with its charts;
a partner's viewer sees only their own statement, on the page, in the API and as a PDF."""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from events import cpu
from events.accounts import service as accounts
from events.catalogue.lookup import find_event, partner_id
from events.catalogue.tables import Event
from events.ledger import pdf as statement_pdf
from events.ledger.statements import ticket_sales_by_day
from events.payments import service as payments
from events.payments.gateway import TestGateway
from events.payments.tables import Payment
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.ledger.test_supper_club_statement import BALANCE_TRANSACTIONS, guest
from tests.support.orders import get_order, place_order

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = "a long password"
# Days before now on which each order of the worked supper club was paid (all at noon UTC).
PAID_DAYS_AGO = {"A": 10, "B": 7, "C": 7, "D": 2}


@pytest.fixture
async def supper_club(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> str:
    """The worked supper club of test_supper_club_statement: Welcome Kitchen is due £49.73, Welcome Cinema £70.52."""
    slug = await make_event(
        now,
        capacity=40,
        reserved_free_places=20,
        pay_it_forward_place_pence=3000,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}],
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}],
    )
    await Event.update({Event.cost_per_attendee_pence: 1200}).where(Event.slug == slug)
    await client.post(f"/api/events/{slug}/costs", json={"description": "Venue", "amount_pence": 10_000}, headers=organiser)
    orders = {
        "A": await place_order(client, slug, quantity=5, buyer=guest("A"), pay_it_forward_places=2),
        "B": await place_order(client, slug, quantity=5, buyer=guest("B"), donation_pence=5000, donation_partner="welcome-cinema"),
        "C": await place_order(client, slug, quantity=5, buyer=guest("C"), donation_pence=2000),
        "D": await place_order(client, slug, quantity=5, buyer=guest("D")),
    }
    for name, response in orders.items():
        created = response.json()
        # Paid on different days (the service's clock set back), so sales have a history.
        paid_at = (now - timedelta(days=PAID_DAYS_AGO[name])).replace(hour=12, minute=0, second=0, microsecond=0)
        await payments.pay_with_test_provider(created["reference"], gateway=TestGateway(), now=paid_at)
        await Payment.update({Payment.fee_pence: BALANCE_TRANSACTIONS[name]["fee"]}).where(Payment.order_id.reference == created["reference"])
    # The test provider knows no fees: Stripe's were written in above, so book them as a repair would.
    assert (await client.post(f"/api/events/{slug}/ledger/rebook", headers=organiser)).json()["entries_booked"] == 7
    d = orders["D"].json()
    refunded_ticket = (await get_order(client, d))["tickets"][0]["id"]
    await client.post(f"/api/orders/{d['reference']}/refunds", json={"tickets": [refunded_ticket], "reason": "Ill"}, headers=organiser)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 20}, headers=organiser)).json()
    for n in range(20):
        await client.post("/api/claims", json={"code": link["code"], "name": f"Guest {n}"})
    return slug


@asynccontextmanager
async def browser_session(app: Litestar, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser, signed in as ``email`` with its own session cookie."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await sign_in(http, email, PASSWORD)
        assert response.status_code == 303, response.text
        yield http


async def partner_viewer(email: str, partner: str, now: datetime) -> dict[str, str]:
    """A partner viewer for ``partner`` who can sign in, and bearer headers for their API token."""
    await accounts.create_user(email, role="partner_viewer", password=PASSWORD, partner_id=await partner_id(partner))
    return {"Authorization": f"Bearer {await accounts.create_api_token(email, now=now)}"}


def charts(page: str) -> dict[str, ET.Element]:
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    return {root.get("id", ""): root for root in map(ET.fromstring, svgs)}


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


async def test_an_organiser_sees_the_reconciliation_with_both_charts(app: Litestar, supper_club: str, now: datetime) -> None:
    await accounts.create_user("sam@test.example", role="organiser", password=PASSWORD)
    async with browser_session(app, "sam@test.example") as browser:
        response = await browser.get(f"/manage/events/{supper_club}/statement")
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        page = response.text
        assert "Welcome Kitchen" in page and "Welcome Cinema" in page
        assert "£49.73" in page and "£70.52" in page and "£120.25" in page  # each partner's net, and the event's
        # Its payments were test payments: nothing was paid by card through Stripe, so there is nothing to vouch for.
        assert "Nothing to reconcile with Stripe." in page and "Reconciled with Stripe" not in page

        drawn = charts(page)
        assert set(drawn) == {"funds-chart", "sales-chart", "funds-chart-narrow", "sales-chart-narrow"}  # for phones too
        assert drawn["funds-chart-narrow"].get("class") == "chart chart-narrow"
        assert [t.text for t in drawn["funds-chart-narrow"].iter(f"{SVG}text")] == ["Welcome Kitchen", "£49.73", "Welcome Cinema", "£70.52"]
        funds, sales = drawn["funds-chart"], drawn["sales-chart"]
        for chart in (funds, sales):
            assert chart.get("role") == "img" and chart.find(f"{SVG}title") is not None
            assert chart.get("aria-labelledby") == f"{chart.get('id')}-title {chart.get('id')}-desc"
        assert "Welcome Kitchen: £49.73; Welcome Cinema: £70.52" in (funds.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
        assert [t.text for t in funds.iter(f"{SVG}text")] == ["Welcome Kitchen", "£49.73", "Welcome Cinema", "£70.52"]
        points = [c.find(f"{SVG}title").text for c in sales.iter(f"{SVG}circle")]  # type: ignore[union-attr]
        assert len(points) == 9  # ten days ago to two days ago, a point a day
        assert points[0].endswith(": £150") and points[3].endswith(": £450") and points[-1].endswith(": £600")  # type: ignore[union-attr]
        assert "£600 by" in (sales.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
        assert re.search(r'<table class="visually-hidden">\s*<caption>Ticket income so far, by day</caption>', page)

        assert f'href="/manage/events/{supper_club}/statement.csv"' in page
        assert 'href="/manage/partners/welcome-kitchen/statement.pdf"' in page and 'href="/manage/partners/welcome-cinema/statement.pdf"' in page
        csv_download = await browser.get(f"/manage/events/{supper_club}/statement.csv")
        assert csv_download.status_code == 200 and csv_download.headers["content-type"].startswith("text/csv")
        assert csv_download.text.splitlines()[1].startswith("welcome-kitchen,42000,0,4200,1400,2100,767,39760,4973")
        pdf = await browser.get("/manage/partners/welcome-kitchen/statement.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert "Welcome Kitchen" in pdf_text(pdf.content)


async def test_ticket_sales_by_day_are_one_row_per_day_in_the_events_time_zone(supper_club: str, now: datetime) -> None:
    event = await find_event(supper_club)

    def days_ago(days: int) -> date:
        return (now - timedelta(days=days)).date()  # paid at noon UTC: the same date in London

    assert await ticket_sales_by_day(event) == [(days_ago(10), 15_000), (days_ago(7), 30_000), (days_ago(2), 15_000)]


async def test_the_statement_page_is_for_signed_in_organisers(app: Litestar, client: httpx.AsyncClient, supper_club: str, now: datetime) -> None:
    anonymous = await client.get(f"/manage/events/{supper_club}/statement")
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"] == f"/login?next=/manage/events/{supper_club}/statement"
    await accounts.create_user("door@test.example", role="door", password=PASSWORD)
    await partner_viewer("kitchen@test.example", "welcome-kitchen", now)
    for email in ("door@test.example", "kitchen@test.example"):
        async with browser_session(app, email) as browser:
            assert (await browser.get(f"/manage/events/{supper_club}/statement")).status_code == 403
            assert (await browser.get(f"/manage/events/{supper_club}/statement.csv")).status_code == 403


async def test_a_partner_viewer_sees_only_their_own_statement(app: Litestar, client: httpx.AsyncClient, supper_club: str, now: datetime) -> None:
    token = await partner_viewer("kitchen@test.example", "welcome-kitchen", now)
    async with browser_session(app, "kitchen@test.example") as browser:
        own = await browser.get("/manage/partners/welcome-kitchen/statement")
        assert own.status_code == 200, own.text
        assert "Welcome Kitchen" in own.text and "£49.73" in own.text and "Supper Club" in own.text
        assert "Nothing to reconcile with Stripe." in own.text and "Reconciled with Stripe" not in own.text
        assert 'href="/manage/partners/welcome-kitchen/statement.pdf?from=&amp;to="' in own.text
        # Another partner project is not theirs to know of: not found, like another organisation's.
        other = await browser.get("/manage/partners/welcome-cinema/statement")
        assert other.status_code == 404 and "£70.52" not in other.text
        assert (await browser.get("/manage/partners/welcome-cinema/statement.pdf")).status_code == 404
        assert (await browser.get("/manage/partners/welcome-cinema/statement.csv")).status_code == 404
        assert (await browser.get("/manage/partners/welcome-kitchen/statement?from=yesterday")).status_code == 422

    assert (await client.get("/api/partners/welcome-kitchen/statement", headers=token)).json()["totals"]["net_pence"] == 4_973
    hidden = await client.get("/api/partners/welcome-cinema/statement", headers=token)
    assert hidden.status_code == 404 and hidden.json()["error"] == "partner_not_found"
    assert (await client.get("/api/partners/welcome-cinema/statement.pdf", headers=token)).status_code == 404
    assert (await client.get("/api/partners/welcome-kitchen/statement.pdf")).status_code == 401


async def test_the_pdf_statement_is_ready_to_sign(client: httpx.AsyncClient, supper_club: str, organiser: dict[str, str], now: datetime) -> None:
    token = await partner_viewer("kitchen@test.example", "welcome-kitchen", now)
    for headers in (token, organiser):
        response = await client.get("/api/partners/welcome-kitchen/statement.pdf", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == 'attachment; filename="statement-welcome-kitchen.pdf"'
        text = pdf_text(response.content)
        assert "Welcome Kitchen" in text and "Supper Club" in text
        assert re.search(r"Net due\s+£49\.73", text)
        assert re.search(r"Tickets\s+£420\b", text) and re.search(r"Event costs\s+-£397\.60", text)
        assert "Nothing to reconcile with Stripe" in text and "Reconciled with Stripe" not in text
        assert "All entries up to" in text
        for label in ("Name", "Signature", "Date"):
            assert label in text

    later = (now + timedelta(days=1)).date().isoformat()
    period = await client.get(f"/api/partners/welcome-kitchen/statement.pdf?from=2020-01-01&to={later}", headers=organiser)
    assert "Entries from 1 January 2020, up to but not including" in pdf_text(period.content)


async def test_other_requests_are_answered_while_a_statement_pdf_renders(
    client: httpx.AsyncClient, supper_club: str, organiser: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With EVENTS_CPU_PROCESSES=0 the statement is laid out in a worker thread: a health check sent once the layout
    has begun is answered before it is done. (The layout waits, up to 20 seconds, for that answer: on the event loop,
    the wait would hold the loop up and the answers would come in the other order; see the order PDF's test in
    tickets. In a pool process, the default, the loop does not even share its GIL with the layout.)"""
    drawing = threading.Event()
    health_answered = threading.Event()
    done: list[str] = []
    render = statement_pdf.render_statement_pdf

    def watched_render(statement: dict, *, now: datetime) -> bytes:  # type: ignore[type-arg]
        drawing.set()
        health_answered.wait(timeout=20)
        document = render(statement, now=now)
        done.append("statement drawn")
        return document

    monkeypatch.setattr(statement_pdf, "render_statement_pdf", watched_render)
    monkeypatch.setattr(cpu, "_running", cpu.CpuPool(0))  # the thread path: watched_render signals through threading.Event

    async def health_check() -> httpx.Response:
        while not drawing.is_set():
            await asyncio.sleep(0.005)
        response = await client.get("/healthz")
        done.append("health check answered")
        health_answered.set()
        return response

    document, health = await asyncio.gather(client.get("/api/partners/welcome-kitchen/statement.pdf", headers=organiser), health_check())
    assert health.status_code == 200 and document.status_code == 200
    assert "Welcome Kitchen" in pdf_text(document.content)
    assert done == ["health check answered", "statement drawn"]
