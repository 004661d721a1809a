"""Dignity: a free ticket is identical to a paid one everywhere a guest or the door sees it.

Both tickets below are for the same event, type and holder name; after blanking what is unique to
every ticket (its secret, code, QR and order reference) the outputs must be byte-for-byte equal."""

import re
import shutil
import subprocess
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from events.accounts import service as accounts
from events.catalogue.tables import Event
from events.checkin.door_team import assign_door_staff
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage
from events.tickets.views import ticket_by_id
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order


def blank(text: str, *tickets) -> str:  # type: ignore[no-untyped-def]
    for ticket in tickets:
        for unique in (ticket.code, ticket.secret, ticket.page_secret, ticket.order_reference):
            text = text.replace(unique, "<unique>")
        text = text.replace(f"/tickets/{ticket.id}/", "/tickets/<id>/")  # "Can't come?" names the ticket
    text = re.sub(r"<svg.*?</svg>", "<qr>", text, flags=re.DOTALL)
    text = re.sub(r"token=[A-Za-z0-9_-]+", "token=<token>", text)
    return text


@pytest.fixture
async def paid_and_free(client: httpx.AsyncClient, organiser: dict[str, str], app, now: datetime):  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=1)).json()
    created_body = {"buyer": {"name": "Leila", "email": "leila@example.org"}}
    order = (
        await client.post(
            f"/api/events/{slug}/orders",
            json={
                **created_body,
                "items": [{"ticket_type": (await client.get(f"/api/events/{slug}")).json()["ticket_types"][0]["id"], "quantity": 1}],
            },
        )
    ).json()
    await pay_with_test_page(client, order)
    paid_api = (await get_order(client, order))["tickets"][0]
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()
    free_api = (await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "email": "leila@example.org"})).json()
    secret_key = app.state.settings.secret_key
    paid = await ticket_by_id(paid_api["id"], secret_key=secret_key, now=now)
    free = await ticket_by_id(free_api["id"], secret_key=secret_key, now=now)
    del created
    return slug, paid_api, free_api, paid, free


async def test_the_api_ticket_and_the_mobile_page_are_the_same(client: httpx.AsyncClient, paid_and_free) -> None:  # type: ignore[no-untyped-def]
    _, paid_api, free_api, paid, free = paid_and_free
    assert set(paid_api) == set(free_api)
    for field in ("holder", "type", "status"):
        assert paid_api[field] == free_api[field]
    paid_page = (await client.get(paid.url)).text
    free_page = (await client.get(free.url)).text
    assert blank(paid_page, paid) == blank(free_page, free)
    assert "£" not in free_page and "free" not in blank(free_page, free).lower().replace("free places", "")


async def test_the_qr_payload_has_the_same_fields(paid_and_free) -> None:  # type: ignore[no-untyped-def]
    from events.tickets.signing import read_claims

    _, _, _, paid, free = paid_and_free
    paid_claims, free_claims = read_claims(paid.code), read_claims(free.code)
    assert len(paid.code) == len(free.code)  # the same QR symbol size: nothing at the door tells them apart
    for field in ("key_id", "event_id", "ticket_type_id", "version", "valid_from", "valid_until"):
        assert getattr(paid_claims, field) == getattr(free_claims, field), field


async def test_the_pdf_reads_the_same(client: httpx.AsyncClient, paid_and_free, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed; .ci/run installs it")
    _, _, _, paid, free = paid_and_free
    texts = []
    for ticket in (paid, free):
        pdf = tmp_path / f"{ticket.id}.pdf"
        pdf.write_bytes((await client.get(f"{ticket.url}/ticket.pdf")).content)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        # Centred codes of different widths shift the layout by a space; the words must be the same.
        texts.append(re.sub(r"[ \t]+", " ", blank(text, ticket)))
    assert texts[0] == texts[1]


async def test_the_door_sees_the_same(client: httpx.AsyncClient, paid_and_free, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug, _, _, paid, free = paid_and_free
    user = await accounts.create_user("door@test.example", role="door", password=None, display_name="Door 1")
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    await assign_door_staff(event["id"], user.id)
    door = {"Authorization": f"Bearer {await accounts.create_api_token('door@test.example', now=now)}"}
    bundle = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
    entries = {t["id"]: t for t in bundle["tickets"]}
    for field in ("holder", "type", "status", "checked_in"):
        assert entries[paid.id][field] == entries[free.id][field]
    results = []
    for n, ticket in enumerate((paid, free)):
        body = (await client.post("/api/checkin/redeem", json={"event": slug, "secret": ticket.code, "nonce": f"same-{n}-0000"}, headers=door)).json()
        body["ticket"].pop("checked_in_at")
        results.append(body)
    assert results[0] == results[1]
    search = (await client.get(f"/api/checkin/events/{slug}/search", params={"q": "leila"}, headers=door)).json()
    assert len(search) == 2 and {tuple(sorted(set(hit) - {"id", "secret", "order", "checked_in_at"})) for hit in search} == {
        ("holder", "notes", "status", "type")
    }
    assert search[0]["holder"] == search[1]["holder"] and search[0]["type"] == search[1]["type"] and search[0]["notes"] == search[1]["notes"]


async def test_the_email_is_the_same(paid_and_free, app, now: datetime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    _, _, _, paid, free = paid_and_free
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await drain_outbox(datetime.now(now.tzinfo) + timedelta(minutes=1), settings=settings)
    emails = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(emails) == 2 and await OutboxMessage.count() == 2
    bodies = []
    for path in emails:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        bodies.append(text)
    # Each email carries its order's receipt, which differs as it must (what was paid, and how; a free place's is
    # £0): the guest's own record, never shown at the door. Everything about the ticket reads the same.
    receipts = [re.search(r"\nReceipt · .*?\nPaid to [^\n]*\n", body, flags=re.DOTALL) for body in bodies]
    assert all(receipts)
    normalised = [
        blank(body.replace(receipt.group(0), "\n<receipt>\n"), paid, free) for body, receipt in zip(bodies, receipts, strict=True) if receipt
    ]
    assert normalised[0] == normalised[1]
