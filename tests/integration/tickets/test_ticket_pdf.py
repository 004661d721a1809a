"""Ticket PDFs end to end: bought and paid through the API, rendered by poppler, scanned with zxing, verified
against the event's public keys; Arabic and Farsi names come out shaped and in order; refunded tickets
lose their PDF but not their (still genuine) signature, so the door has to check the ticket's status; an
order's PDFs, emailed PDF and calendar file are in the order's language."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import os
import re
import shutil
import signal
import subprocess
import threading
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email import policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import arabic_reshaper
import httpx
import pytest
import zxingcpp
from babel.dates import format_date
from icalendar import Calendar
from litestar import Litestar
from PIL import Image

from events import cpu, i18n
from events.catalogue.tables import Event
from events.config import Settings
from events.orders.tables import Order
from events.tickets import pdf
from events.tickets.keys import public_keys
from events.tickets.outbox import drain_outbox
from events.tickets.signing import TicketClaims, verify_ticket
from events.tickets.views import TicketView
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order
from tests.support.ticket_pdfs import lines_read_right_to_left

ARABIC_NAME = "ليلى حداد"
FARSI_NAME = "سارا احمدی"
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or os.environ.get("EVENTS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{name} (poppler-utils) is needed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def scan_pages(document: bytes, directory: Path) -> list[str]:
    """Each page drawn at 150 dpi by pdftoppm, then read with zxing as a phone at the door would."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "tickets.pdf"
    source.write_bytes(document)
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", str(source), str(directory / "page")], check=True, timeout=60)
    codes = []
    for png in sorted(directory.glob("page-*.png")):
        found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
        assert [result.format for result in found] == [zxingcpp.BarcodeFormat.QRCode], f"one QR code on {png.name}"
        codes.append(found[0].text)
    return codes


def text_lines(document: bytes, directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "text.pdf"
    source.write_bytes(document)
    output = subprocess.run([tool("pdftotext"), str(source), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    return [line.translate(BIDI_CONTROLS).strip() for line in output.splitlines()]


def assert_name_rendered(lines: list[str], name: str, pages: int) -> None:
    """The name is drawn shaped (joined letter forms) and reads back in logical order.

    pdftotext finds the right-to-left run, reorders it to logical order and wraps it in U+202B/U+202C
    (stripped here). What it gives back are the glyphs' characters: presentation forms (U+FB50-U+FEFF),
    the initial, medial and final shapes a correctly joined word is drawn with. So:
      * the raw line equals arabic_reshaper's shaping of the name in logical order: the letters were
        joined, and nothing was drawn reversed (a reversed drawing would read back reversed);
      * NFKC maps the presentation forms back to the plain letters, which must give the name itself.
    """
    shaped = arabic_reshaper.reshape(name)
    assert any(0xFB50 <= ord(char) <= 0xFEFF for char in shaped)
    assert lines.count(shaped) == pages, (name, [line for line in lines if line and not line.isascii()])
    normalised = [unicodedata.normalize("NFKC", line) for line in lines]
    assert normalised.count(name) == pages


def page_count(document: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", document))


async def event_keys(slug: str) -> tuple[int, dict[str, Any]]:
    row = await Event.select(Event.id).where(Event.slug == slug).first()
    assert row is not None
    return row["id"], await public_keys(row["id"])


async def buy(client: httpx.AsyncClient, slug: str, name: str, email: str, quantity: int) -> tuple[dict[str, Any], dict[str, Any]]:
    response = await place_order(client, slug, quantity=quantity, buyer={"name": name, "email": email})
    assert response.status_code == 201, response.text
    created = response.json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    order = await get_order(client, created)
    assert order["status"] == "paid" and len(order["tickets"]) == quantity
    assert all(ticket["holder"] == name and ticket["status"] == "valid" for ticket in order["tickets"])
    return created, order


def assert_genuine(code: str, keys: dict[str, Any], event_id: int, ticket: dict[str, Any]) -> TicketClaims:
    claims = verify_ticket(code, keys)
    assert claims.event_id == event_id
    assert (claims.ticket_id, claims.secret) == (ticket["id"], ticket["secret"])
    return claims


async def test_order_and_phone_pdfs_scan_verify_and_show_arabic_and_farsi_names(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, tmp_path: Path
) -> None:
    slug = await make_event(now)
    created, order = await buy(client, slug, ARABIC_NAME, "layla@example.org", quantity=2)
    first, second = order["tickets"]

    # One PDF for the whole order: a page per ticket, each QR code genuine and naming its own ticket.
    response = await client.get(f"/orders/{created['reference']}/tickets.pdf", params={"token": created["access_token"]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    order_pdf = response.content
    assert page_count(order_pdf) == 2
    event_id, keys = await event_keys(slug)
    assert keys, "the event has a signing key once tickets are issued"
    codes = scan_pages(order_pdf, tmp_path / "order")
    for code, ticket in zip(codes, (first, second), strict=True):
        assert_genuine(code, keys, event_id, ticket)
    assert_name_rendered(text_lines(order_pdf, tmp_path / "order"), ARABIC_NAME, pages=2)
    # The wrong token gets nothing.
    assert (await client.get(f"/orders/{created['reference']}/tickets.pdf", params={"token": "ord_nope"})).status_code == 404

    # One ticket as a phone-sized page.
    response = await client.get(f"{first['url']}/ticket.pdf", params={"size": "phone"})
    assert response.status_code == 200, response.text
    phone_pdf = response.content
    assert page_count(phone_pdf) == 1
    assert re.search(rb"/MediaBox \[ 0 0 255\.1181 538\.5827 \]", phone_pdf)  # 90 x 190 mm
    [first_code] = scan_pages(phone_pdf, tmp_path / "phone")
    assert_genuine(first_code, keys, event_id, first)
    assert_name_rendered(text_lines(phone_pdf, tmp_path / "phone"), ARABIC_NAME, pages=1)

    # A Farsi name, on its own order.
    _, farsi_order = await buy(client, slug, FARSI_NAME, "sara@example.org", quantity=1)
    [farsi_ticket] = farsi_order["tickets"]
    response = await client.get(f"{farsi_ticket['url']}/ticket.pdf", params={"size": "phone"})
    assert response.status_code == 200, response.text
    [farsi_code] = scan_pages(response.content, tmp_path / "farsi")
    assert_genuine(farsi_code, keys, event_id, farsi_ticket)
    assert_name_rendered(text_lines(response.content, tmp_path / "farsi"), FARSI_NAME, pages=1)

    # Refund the first ticket: its PDFs are gone, the order PDF keeps only the other ticket...
    refund = await client.post(
        f"/api/orders/{created['reference']}/refunds", json={"tickets": [first["id"]], "reason": "Cannot come"}, headers=organiser
    )
    assert refund.status_code == 201, refund.text
    for size in ("a4", "phone"):
        gone = await client.get(f"{first['url']}/ticket.pdf", params={"size": size})
        assert gone.status_code == 404 and "no longer valid" in gone.text
    response = await client.get(f"/orders/{created['reference']}/tickets.pdf", params={"token": created["access_token"]})
    assert response.status_code == 200
    assert scan_pages(response.content, tmp_path / "after-refund") == [codes[1]]
    # ...its page says it was refunded, how much and where the money goes, and shows no QR code...
    page = await client.get(first["url"])
    assert page.status_code == 200 and "This ticket was refunded. It no longer works." in page.text and "<svg" not in page.text
    assert "to the card it was paid with" in page.text
    # ...but a copy printed before the refund still carries a genuine signature: codes are not revoked
    # cryptographically, so the door must look the ticket up, and the API says it was refunded.
    assert_genuine(first_code, keys, event_id, first)
    assert_genuine(codes[0], keys, event_id, first)
    after = await get_order(client, created)
    assert {ticket["id"]: ticket["status"] for ticket in after["tickets"]} == {first["id"]: "refunded", second["id"]: "valid"}


async def test_other_requests_are_answered_while_a_big_order_pdf_renders(
    app: Litestar, client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With EVENTS_CPU_PROCESSES=0 the PDF is drawn in a worker thread, so the event loop goes on serving: a health
    check sent once the PDF's drawing has begun is answered before the drawing is done. (In a pool process, the
    default, the event loop is not even asked to share its GIL: test_a_pdf_is_made_after_its_pool_process_was_killed.)

    To make the order certain on any machine, the drawing waits (up to 20 seconds) for the health check's
    answer before it draws the pages. Drawn on the event loop instead, that wait would hold up the loop,
    the health check could only be answered after the PDF was drawn, and the order would come out reversed.
    """
    slug = await make_event(now, capacity=150, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 100}])
    # One buyer holding 100 places is past the default hold limits (EVENTS_HOLD_PLACES_PER_EMAIL, EVENTS_HOLD_PLACES_PER_CLIENT): an organiser's settings.
    monkeypatch.setattr(app.state, "settings", dataclasses.replace(app.state.settings, hold_places_per_email=100, hold_places_per_client=100))
    created, _ = await buy(client, slug, "Amal Haddad", "amal@example.org", quantity=100)
    drawing = threading.Event()
    health_answered = threading.Event()
    done: list[str] = []  # appended to from the loop and from the drawing's thread (list.append is atomic)
    render = pdf.render_tickets_pdf

    def watched_render(tickets: Sequence[TicketView], *, page_size: str = "a4", branding: pdf.Branding | None = None, locale: str = "en") -> bytes:
        drawing.set()
        health_answered.wait(timeout=20)
        document = render(tickets, page_size=page_size, branding=branding, locale=locale)
        done.append("pdf drawn")
        return document

    monkeypatch.setattr(pdf, "render_tickets_pdf", watched_render)
    monkeypatch.setattr(cpu, "_running", cpu.CpuPool(0))  # the thread path: watched_render signals through threading.Event

    async def health_check() -> httpx.Response:
        while not drawing.is_set():
            await asyncio.sleep(0.005)
        response = await client.get("/healthz")
        done.append("health check answered")
        health_answered.set()
        return response

    document, health = await asyncio.gather(
        client.get(f"/orders/{created['reference']}/tickets.pdf", params={"token": created["access_token"]}), health_check()
    )
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert document.status_code == 200 and page_count(document.content) == 100
    assert done == ["health check answered", "pdf drawn"]


async def test_a_pdf_is_made_after_its_pool_process_was_killed(client: httpx.AsyncClient, now: datetime, tmp_path: Path) -> None:
    """The process that draws PDFs dies between two downloads (the OOM killer, a crash in a C library): the next
    download gets its PDF from a new pool, not an error and not a wait that never ends."""
    slug = await make_event(now)
    created, order = await buy(client, slug, "Amal Haddad", "amal@example.org", quantity=2)

    async def download() -> httpx.Response:
        url = f"/orders/{created['reference']}/tickets.pdf"
        return await asyncio.wait_for(client.get(url, params={"token": created["access_token"]}), timeout=60)

    before = await download()
    assert before.status_code == 200
    drawer = await cpu.run(os.getpid)
    assert drawer != os.getpid()  # drawn in the pool (EVENTS_CPU_PROCESSES defaults to 1)
    os.kill(drawer, signal.SIGKILL)
    after = await download()
    assert after.status_code == 200 and after.headers["content-type"] == "application/pdf"
    codes = scan_pages(after.content, tmp_path / "after")
    assert codes == scan_pages(before.content, tmp_path / "before") and len(codes) == len(order["tickets"])
    assert await cpu.run(os.getpid) != drawer


async def test_an_arabic_order_gets_its_pdfs_email_attachment_and_calendar_file_in_arabic_whatever_the_page_language(
    client: httpx.AsyncClient, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    slug = await make_event(now)
    client.headers["accept-language"] = "ar"  # the guest orders in Arabic
    try:
        created, order = await buy(client, slug, "Amal Haddad", "amal@example.org", quantity=1)
    finally:
        client.headers.pop("accept-language")
    assert await Order.select(Order.locale).where(Order.reference == created["reference"]).first() == {"locale": "ar"}
    [only] = order["tickets"]
    event = await Event.select(Event.starts_at, Event.timezone).where(Event.slug == slug).first()
    assert event is not None
    day = format_date(event["starts_at"].astimezone(ZoneInfo(event["timezone"])), format="full", locale="ar")
    name = i18n.translations("ar").gettext(pdf.NAME)
    assert "،" in day and name == "الاسم"

    def assert_arabic(document: bytes, label: str) -> None:
        path = tmp_path / f"{label}.pdf"
        path.write_bytes(document)
        for page in lines_read_right_to_left(path):
            assert day in page and name in page, (label, page)

    client.cookies.set(i18n.LOCALE_COOKIE, "en")  # the pages the guest is now reading are in English
    try:
        response = await client.get(f"/orders/{created['reference']}/tickets.pdf", params={"token": created["access_token"]})
        assert response.status_code == 200
        assert_arabic(response.content, "order")
        response = await client.get(f"{only['url']}/ticket.pdf", params={"size": "phone"})
        assert response.status_code == 200
        assert_arabic(response.content, "ticket")
        response = await client.get(f"{only['url']}/calendar.ics")
        assert response.status_code == 200
        [entry] = [component for component in Calendar.from_ical(response.content).walk() if component.name == "VEVENT"]
        assert entry["summary"].params["LANGUAGE"] == "ar" and "تنظّمه" in str(entry["description"])  # 'Run by …'
    finally:
        client.cookies.delete(i18n.LOCALE_COOKIE)

    # The tickets email's PDF (written to var/outbox/ without an SMTP host).
    assert await drain_outbox(datetime.now(ZoneInfo("UTC")), settings=dataclasses.replace(settings, var_dir=tmp_path)) == 1
    [written] = (tmp_path / "outbox").glob("*.eml")
    [attachment] = list(email.message_from_bytes(written.read_bytes(), policy=policy.default).iter_attachments())
    assert_arabic(attachment.get_content(), "emailed")
