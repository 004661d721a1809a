""" "Can't come?" through the API and the guest's pages: a refund in the window, a donation (with Gift Aid only where a
refund was on offer), a free place given back, a ticket passed to a friend. Each changes the ticket, the places and
the money once, tells the guest once, and is in the audit log; every refusal is a clear 4xx that changes nothing."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event, TicketType
from events.orders.codes import order_access_token
from events.orders.tables import Order
from events.payments.tables import Refund, RefundDonation
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from events.tickets.views import tickets_of_order
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, scan
from tests.integration.tickets.test_email import SmtpServer, clock, smtp, smtp_server  # noqa: F401 - the SMTP server's fixtures
from tests.integration.waitlist.helpers import joined
from tests.integration.waitlist.test_waiting_list import raise_capacity, sweep
from tests.support.orders import pay_with_test_page, place_order


@pytest.fixture
def mailbox(request: pytest.FixtureRequest) -> SmtpServer:
    """A real SMTP server (aiosmtpd), running, and the app's settings sending to it (test_email's ``smtp``)."""
    server: SmtpServer = request.getfixturevalue("smtp")
    return server


GIFT_AID = {"first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "sw1a 1aa", "confirmed": True}


async def paid_order(client: httpx.AsyncClient, slug: str, quantity: int = 2) -> dict[str, Any]:
    """A paid order of ``quantity`` Supper tickets (£30 each), with its ticket ids and bearer header; its confirmation
    already sent (only what the release queues matters here)."""
    created = (await place_order(client, slug, quantity=quantity)).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    rows = (
        await Ticket.select(Ticket.id, Ticket.secret, Ticket.page_secret).where(Ticket.order_id.reference == created["reference"]).order_by(Ticket.id)
    )
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(OutboxMessage.order_id.reference == created["reference"])
    return created | {
        "ticket_ids": [row["id"] for row in rows],
        "secrets": [row["secret"] for row in rows],  # what their QR codes carry
        "page_secrets": [row["page_secret"] for row in rows],  # their pages' keys
        "bearer": {"Authorization": f"Bearer {created['access_token']}"},
    }


async def claimed_place(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, app: Litestar) -> dict[str, Any]:
    code = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Women's Group", "places": 5}, headers=organiser)).json()
    response = await client.post("/api/claims", json={"code": code["code"], "name": "Leila", "email": "leila@example.org"})
    assert response.status_code == 201, response.text
    ticket = response.json()
    row = await Ticket.select(Ticket.order_id.reference).where(Ticket.id == ticket["id"]).first()
    reference = row["order_id.reference"]
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(OutboxMessage.order_id.reference == reference)
    token = order_access_token(app.state.settings.secret_key, reference)
    return ticket | {"reference": reference, "bearer": {"Authorization": f"Bearer {token}"}}


async def counters(slug: str) -> dict[str, int]:
    row = await Event.select(Event.places_taken, Event.free_places_claimed).where(Event.slug == slug).first()
    return dict(row)


async def queued(reference: str) -> list[tuple[str, str, str | None]]:
    rows = (
        await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.dedupe_key)
        .where(OutboxMessage.order_id.reference == reference, OutboxMessage.status == "queued")
        .order_by(OutboxMessage.id)
    )
    return [(row["kind"], row["recipient"], row["dedupe_key"]) for row in rows]


async def released_entries() -> list[dict[str, Any]]:
    rows = await AuditEntry.select(AuditEntry.actor, AuditEntry.subject_id, AuditEntry.after).where(AuditEntry.action == "ticket.released")
    return [row | {"after": json.loads(row["after"])} for row in rows]


async def snapshot(slug: str) -> dict[str, Any]:
    """Everything a refused release must leave as it was."""
    return {
        "counters": await counters(slug),
        "tickets": [(t["id"], t["status"]) for t in await Ticket.select(Ticket.id, Ticket.status).order_by(Ticket.id)],
        "orders": await Order.count(),
        "refunds": await Refund.count(),
        "donations": await RefundDonation.count(),
        "messages": await OutboxMessage.count().where(OutboxMessage.status == "queued"),
        "audit": len(await released_entries()),
    }


async def delivered(mailbox: SmtpServer) -> list[EmailMessage]:
    before = len(mailbox.inbox.envelopes)
    await drain_outbox(clock(), settings=mailbox.settings)
    return mailbox.inbox.messages()[before:]


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


async def no_refunds(slug: str) -> None:
    await Event.update({Event.refund_days_before: None}).where(Event.slug == slug)


# --- a refund within the window ---------------------------------------------------------------------------------


async def test_a_paid_ticket_is_refunded_within_the_window_once(client: httpx.AsyncClient, mailbox: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug)
    first, second = order["ticket_ids"]
    before = await counters(slug)

    response = await client.post(f"/api/tickets/{first}/release", json={"choice": "refund"}, headers=order["bearer"])
    assert response.status_code == 200, response.text
    assert response.json() == {
        "ticket_id": first,
        "choice": "refund",
        "status": "refunded",
        "refund_pence": 3000,
        "donated_pence": 0,
        "gift_aid": False,
    }
    assert await counters(slug) == before | {"places_taken": before["places_taken"] - 1}
    statuses = {t["id"]: t["status"] for t in await Ticket.select(Ticket.id, Ticket.status)}
    assert statuses == {first: "refunded", second: "valid"}
    [refund] = await Refund.select(Refund.amount_pence, Refund.requested_by)
    assert refund == {"amount_pence": 3000, "requested_by": "guest"}
    # The refund notice is the guest's confirmation: one message, no second one of our own.
    assert [kind for kind, _, _ in await queued(order["reference"])] == ["refund_notice"]
    [entry] = await released_entries()
    assert entry["actor"] == "guest" and entry["subject_id"] == str(first)
    assert entry["after"] == {"choice": "refund", "order": order["reference"], "status": "refunded", "refund_pence": 3000}
    [notice] = await delivered(mailbox)
    assert "Refunded: £30" in plain(notice) and notice["To"] == "amal@example.org"

    # Asking again changes nothing: a clear 409.
    unchanged = await snapshot(slug)
    again = await client.post(f"/api/tickets/{first}/release", json={"choice": "refund"}, headers=order["bearer"])
    assert again.status_code == 409 and again.json()["error"] == "ticket_not_valid"
    assert await snapshot(slug) == unchanged


async def test_after_the_window_a_refund_is_refused_and_nothing_changes(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(
        now,
        starts_at=(now + timedelta(days=3)).replace(microsecond=0).isoformat(),
        ends_at=(now + timedelta(days=3, hours=3)).replace(microsecond=0).isoformat(),
    )
    order = await paid_order(client, slug)
    unchanged = await snapshot(slug)
    response = await client.post(f"/api/tickets/{order['ticket_ids'][0]}/release", json={"choice": "refund"}, headers=order["bearer"])
    assert response.status_code == 409 and response.json()["error"] == "refund_not_offered"
    assert await snapshot(slug) == unchanged


# --- donating a ticket ------------------------------------------------------------------------------------------


async def test_a_ticket_donated_instead_of_a_refund_may_carry_gift_aid(client: httpx.AsyncClient, mailbox: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug)
    first = order["ticket_ids"][0]
    before = await counters(slug)

    response = await client.post(f"/api/tickets/{first}/release", json={"choice": "donate", "gift_aid": GIFT_AID}, headers=order["bearer"])
    assert response.status_code == 200, response.text
    assert response.json() | {} == {
        "ticket_id": first,
        "choice": "donate",
        "status": "released",
        "refund_pence": 0,
        "donated_pence": 3000,
        "gift_aid": True,
    }
    assert await counters(slug) == before | {"places_taken": before["places_taken"] - 1}  # the general place is back
    [donation] = await RefundDonation.select(
        RefundDonation.amount_pence,
        RefundDonation.refund_offered,
        RefundDonation.gift_aid_last_name,
        RefundDonation.gift_aid_postcode,
        RefundDonation.ticket_ids,
    )
    assert donation == {
        "amount_pence": 3000,
        "refund_offered": True,
        "gift_aid_last_name": "Haddad",
        "gift_aid_postcode": "SW1A 1AA",
        "ticket_ids": f"[{first}]",
    }
    assert await Refund.count() == 0
    assert await queued(order["reference"]) == [("ticket_donated", "amal@example.org", f"release:{first}")]
    [entry] = await released_entries()
    assert entry["after"]["choice"] == "donate" and entry["after"]["gift_aid"] is True and "Haddad" not in json.dumps(entry)
    [confirmation] = await delivered(mailbox)
    text = plain(confirmation)
    assert "Your donation: £30" in text and "Gift Aid" in text and "Amal Haddad, Supper" in text
    assert "Your other ticket still works." in text

    unchanged = await snapshot(slug)
    again = await client.post(f"/api/tickets/{first}/release", json={"choice": "donate"}, headers=order["bearer"])
    assert again.status_code == 409 and again.json()["error"] == "ticket_not_valid"
    assert await snapshot(slug) == unchanged


async def test_outside_the_window_a_donated_ticket_gets_no_gift_aid(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug)
    first = order["ticket_ids"][0]
    unchanged = await snapshot(slug)
    refused = await client.post(f"/api/tickets/{first}/release", json={"choice": "donate", "gift_aid": GIFT_AID}, headers=order["bearer"])
    assert refused.status_code == 422 and "gift_aid" in refused.json()["fields"]
    assert await snapshot(slug) == unchanged

    response = await client.post(f"/api/tickets/{first}/release", json={"choice": "donate"}, headers=order["bearer"])
    assert response.status_code == 200 and response.json()["gift_aid"] is False
    [donation] = await RefundDonation.select(RefundDonation.refund_offered, RefundDonation.gift_aid_last_name)
    assert donation == {"refund_offered": False, "gift_aid_last_name": ""}


async def test_an_incomplete_gift_aid_declaration_names_each_field_and_donates_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug)
    unchanged = await snapshot(slug)
    response = await client.post(
        f"/api/tickets/{order['ticket_ids'][0]}/release",
        json={"choice": "donate", "gift_aid": {**GIFT_AID, "postcode": "nowhere", "confirmed": False}},
        headers=order["bearer"],
    )
    assert response.status_code == 422
    assert {"gift_aid.postcode", "gift_aid.confirmed"} <= set(response.json()["fields"])
    assert await snapshot(slug) == unchanged


# --- a free place given back ------------------------------------------------------------------------------------


async def test_a_free_place_goes_back_to_the_free_places(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    slug = await make_event(now)
    place = await claimed_place(client, organiser, slug, app)
    before = await counters(slug)
    assert before["free_places_claimed"] == 1
    available = (await client.get(f"/api/events/{slug}")).json()["free_places"]["available"]

    refund = await client.post(f"/api/tickets/{place['id']}/release", json={"choice": "refund"}, headers=place["bearer"])
    assert refund.status_code == 409 and refund.json()["error"] == "refund_not_offered"
    response = await client.post(f"/api/tickets/{place['id']}/release", json={"choice": "free_place"}, headers=place["bearer"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "released"
    # Back to the free places, not to general sale.
    assert await counters(slug) == {"places_taken": before["places_taken"], "free_places_claimed": 0}
    assert (await client.get(f"/api/events/{slug}")).json()["free_places"]["available"] == available + 1
    assert await queued(place["reference"]) == [("place_released", "leila@example.org", f"release:{place['id']}")]
    [confirmation] = await delivered(mailbox)
    assert "You gave back your place" in plain(confirmation) and confirmation["To"] == "leila@example.org"

    unchanged = await snapshot(slug)
    again = await client.post(f"/api/tickets/{place['id']}/release", json={"choice": "free_place"}, headers=place["bearer"])
    assert again.status_code == 409 and await snapshot(slug) == unchanged


async def test_a_free_place_beyond_the_reserved_ones_gives_its_general_place_back_too(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, reserved_free_places=0, capacity=10)
    place = await claimed_place_converted(client, organiser, slug, app)
    assert await counters(slug) == {"places_taken": 1, "free_places_claimed": 1}
    response = await client.post(f"/api/tickets/{place['id']}/release", json={"choice": "free_place"}, headers=place["bearer"])
    assert response.status_code == 200, response.text
    assert await counters(slug) == {"places_taken": 0, "free_places_claimed": 0}


async def test_a_nothing_to_pay_ticket_taken_from_the_waiting_list_goes_back_to_general_sale(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    """A £0 ticket type's waiting-list offer, taken up, is a general place (its order stays of channel waitlist; a
    free-place offer becomes a claim): given back, it returns to general sale and the free places are untouched."""
    slug = await make_event(now, capacity=3, reserved_free_places=1, ticket_types=[{"name": "RSVP", "price_pence": 0, "max_per_order": 4}])
    await claimed_place(client, organiser, slug, app)  # one free place claimed: a wrong give-back would "return" it
    for index in range(2):
        bought = await place_order(client, slug, quantity=1, buyer={"name": f"Diner {index}", "email": f"diner{index}@example.org"})
        assert bought.status_code == 201, bought.text
    amira = await joined(client, slug, "Amira")
    await raise_capacity(client, organiser, slug, by=1)
    assert await sweep(slug, now) == 1
    taken = await client.post(f"/api/waiting-list/{amira}/accept", json={})
    assert taken.status_code == 201, taken.text
    reference = taken.json()["reference"]
    assert (await Order.select(Order.channel, Order.total_pence).where(Order.reference == reference).first()) == {
        "channel": "waitlist",
        "total_pence": 0,
    }
    before = await counters(slug)
    type_before = (await TicketType.select(TicketType.places_taken).first())["places_taken"]
    [ticket] = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == reference)
    bearer = {"Authorization": f"Bearer {order_access_token(app.state.settings.secret_key, reference)}"}

    response = await client.post(f"/api/tickets/{ticket['id']}/release", json={"choice": "free_place"}, headers=bearer)
    assert response.status_code == 200, response.text
    assert await counters(slug) == {"places_taken": before["places_taken"] - 1, "free_places_claimed": before["free_places_claimed"]}
    assert (await TicketType.select(TicketType.places_taken).first())["places_taken"] == type_before - 1


async def claimed_place_converted(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, app: Litestar) -> dict[str, Any]:
    """A free place funded by pay-it-forward beyond the reserved ones: it took a general place (TAKE_CONVERTED_PLACE)."""
    await Event.update({Event.pay_it_forward_converts_general: True, Event.pay_it_forward_place_pence: 1000}).where(Event.slug == slug)
    funded = (await place_order(client, slug, quantity=1, pay_it_forward_places=1)).json()
    assert (await pay_with_test_page(client, funded)).status_code == 303
    await Ticket.update({Ticket.status: "void"}).where(Ticket.order_id.reference == funded["reference"])
    await Event.update({Event.places_taken: 0}).where(Event.slug == slug)  # only the free place's general place counts below
    return await claimed_place(client, organiser, slug, app)


# --- passing a ticket to a friend -------------------------------------------------------------------------------


async def test_a_ticket_passed_to_a_friend_stops_working_and_the_friend_gets_a_new_one(
    client: httpx.AsyncClient, app: Litestar, mailbox: SmtpServer, now: datetime
) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug)
    first, second = order["ticket_ids"]
    [old] = [t for t in await tickets_of_order(order["reference"], secret_key=app.state.settings.secret_key, now=now) if t.id == first]
    before = await counters(slug)

    response = await client.post(f"/api/tickets/{first}/transfer", json={"holder": "Sam Okoro", "email": "sam@example.org"}, headers=order["bearer"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ticket_id"] == first and body["status"] == "passed_on" and body["choice"] == "transfer"
    assert await counters(slug) == before  # the place is counted once: it moved from one ticket to the other
    [friends] = await Order.select(Order.channel, Order.total_pence, Order.status, Order.buyer_name, Order.buyer_email, Order.id).where(
        Order.reference == body["order"]
    )
    assert friends | {"id": 0} == {
        "channel": "transfer",
        "total_pence": 0,
        "status": "paid",
        "buyer_name": "Sam Okoro",
        "buyer_email": "sam@example.org",
        "id": 0,
    }
    [new] = await Ticket.select(Ticket.holder_name, Ticket.status, Ticket.secret, Ticket.page_secret, Ticket.ticket_type).where(
        Ticket.order_id == friends["id"]
    )
    assert new["holder_name"] == "Sam Okoro" and new["status"] == "valid" and new["secret"] != old.secret
    assert {t["id"]: t["status"] for t in await Ticket.select(Ticket.id, Ticket.status).where(Ticket.order_id.reference == order["reference"])} == {
        first: "passed_on",
        second: "valid",
    }
    assert await queued(order["reference"]) == [("ticket_passed_on", "amal@example.org", f"release:{first}")]
    assert [(kind, to) for kind, to, _ in await queued(body["order"])] == [("order_confirmation", "sam@example.org")]
    [entry] = await released_entries()
    assert entry["after"]["new_order"] == body["order"] and "Sam" not in json.dumps(entry)

    # The old code is refused at the door, online and in the offline lists; the friend's is admitted.
    door = await door_team(now, slug=slug)
    refused = (await client.post("/api/checkin/redeem", json=scan(slug, old.code), headers=door)).json()
    assert refused["status"] == "error" and refused["reason"] == "void"
    offline = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
    assert first in offline["revoked"]
    admitted = (await client.post("/api/checkin/redeem", json=scan(slug, new["secret"]), headers=door)).json()
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Sam Okoro"

    messages = await delivered(mailbox)
    by_recipient = {message["To"]: message for message in messages}
    assert set(by_recipient) == {"amal@example.org", "sam@example.org"}
    assert "passed your ticket on" in plain(by_recipient["amal@example.org"])
    assert f"/tickets/{new['page_secret']}" in plain(by_recipient["sam@example.org"])

    unchanged = await snapshot(slug)
    again = await client.post(f"/api/tickets/{first}/transfer", json={"holder": "Sam", "email": "sam@example.org"}, headers=order["bearer"])
    assert again.status_code == 409 and again.json()["error"] == "ticket_not_valid"
    assert await snapshot(slug) == unchanged


async def test_a_ticket_can_be_passed_to_a_friends_mobile(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug, quantity=1)
    response = await client.post(
        f"/api/tickets/{order['ticket_ids'][0]}/transfer", json={"holder": "Sam", "phone": "07911 123456"}, headers=order["bearer"]
    )
    assert response.status_code == 201, response.text
    [(kind, to, _)] = await queued(response.json()["order"])
    assert (kind, to) == ("order_confirmation", "+447911123456")
    channel = await OutboxMessage.select(OutboxMessage.channel).where(OutboxMessage.recipient == "+447911123456").first()
    assert channel["channel"] == "sms"


# --- refusals: a clear 4xx and nothing changed -----------------------------------------------------------------


async def test_a_checked_in_ticket_cannot_be_released_nor_passed_on(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug)
    first = order["ticket_ids"][0]
    door = await door_team(now, slug=slug)
    assert (await client.post("/api/checkin/redeem", json=scan(slug, order["secrets"][0]), headers=door)).json()["status"] == "ok"
    unchanged = await snapshot(slug)
    for choice in ("refund", "donate", "free_place"):
        response = await client.post(f"/api/tickets/{first}/release", json={"choice": choice}, headers=order["bearer"])
        assert response.status_code == 409 and response.json()["error"] == "ticket_checked_in", response.text
    transfer = await client.post(f"/api/tickets/{first}/transfer", json={"holder": "Sam", "email": "sam@example.org"}, headers=order["bearer"])
    assert transfer.status_code == 409 and transfer.json()["error"] == "ticket_checked_in"
    assert await snapshot(slug) == unchanged


async def test_a_refunded_ticket_cannot_be_passed_on(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug)
    first = order["ticket_ids"][0]
    refunded = await client.post(
        f"/api/orders/{order['reference']}/refunds", json={"tickets": [first], "reason": "Asked by phone"}, headers=organiser
    )
    assert refunded.status_code == 201
    unchanged = await snapshot(slug)
    response = await client.post(f"/api/tickets/{first}/transfer", json={"holder": "Sam", "email": "sam@example.org"}, headers=order["bearer"])
    assert response.status_code == 409 and response.json()["error"] == "ticket_not_valid"
    assert await snapshot(slug) == unchanged


async def test_another_orders_ticket_or_a_missing_token_is_not_found(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    mine = await paid_order(client, slug)
    theirs = await paid_order(client, slug)
    unchanged = await snapshot(slug)
    attempts = [
        (f"/api/tickets/{theirs['ticket_ids'][0]}/release", {"choice": "refund"}, mine["bearer"]),
        (f"/api/tickets/{theirs['ticket_ids'][0]}/transfer", {"holder": "Sam", "email": "sam@example.org"}, mine["bearer"]),
        (f"/api/tickets/{mine['ticket_ids'][0]}/release", {"choice": "refund"}, {}),
        (f"/api/tickets/{mine['ticket_ids'][0]}/release", {"choice": "refund"}, {"Authorization": "Bearer ord_forged"}),
        ("/api/tickets/999999/release", {"choice": "refund"}, mine["bearer"]),
    ]
    for url, body, headers in attempts:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 404 and response.json()["error"] == "ticket_not_found", (url, response.text)
    assert await snapshot(slug) == unchanged


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("release", {"choice": "everything"}, "choice"),
        ("release", {}, "choice"),
        ("release", {"choice": "refund", "extra": 1}, None),
        ("release", {"choice": "refund", "gift_aid": GIFT_AID}, "gift_aid"),
        ("transfer", {"holder": "Sam"}, "email"),
        ("transfer", {"holder": "", "email": "sam@example.org"}, "holder"),
        ("transfer", {"holder": "Sam\u0007", "email": "sam@example.org"}, "holder"),
        ("transfer", {"holder": "Sam", "email": "sam@"}, "email"),
        ("transfer", {"holder": "Sam", "phone": "not a number"}, "phone"),
    ],
)
async def test_bad_input_is_a_422_that_changes_nothing(
    client: httpx.AsyncClient, now: datetime, path: str, body: dict[str, Any], field: str | None
) -> None:
    slug = await make_event(now)
    await Event.update({Event.refund_days_before: 7 if path == "release" else None}).where(Event.slug == slug)
    order = await paid_order(client, slug, quantity=1)
    unchanged = await snapshot(slug)
    response = await client.post(f"/api/tickets/{order['ticket_ids'][0]}/{path}", json=body, headers=order["bearer"])
    assert response.status_code == 422, response.text
    if field is not None:
        assert any(name.startswith(field) for name in response.json().get("fields", {})) or field in response.json()["detail"], response.json()
    assert await snapshot(slug) == unchanged


# --- the guest's pages -------------------------------------------------------------------------------------------


def csrf_of(page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


async def test_the_ticket_page_leads_to_the_choices_that_apply_and_a_confirmation(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=1)  # its only ticket: its holder is the buyer
    secret = order["page_secrets"][0]
    ticket_page = await client.get(f"/tickets/{secret}")
    assert f'href="/tickets/{secret}/cant-come"' in ticket_page.text
    # On an order page with two tickets, each link's name says which ticket it is for (words for screen readers);
    # with one, there is nothing to tell apart.
    pair = await paid_order(client, slug, quantity=2)
    order_page = await client.get(f"/orders/{pair['reference']}?token={pair['access_token']}")
    for number in (1, 2):
        assert f'<span class="visually-hidden"> (ticket {number}, <bdi>' in order_page.text
    assert "(ticket 1, " not in (await client.get(f"/orders/{order['reference']}?token={order['access_token']}")).text

    choices = await client.get(f"/tickets/{secret}/cant-come")
    assert choices.status_code == 200
    assert f"/tickets/{secret}/cant-come/refund" in choices.text and f"/tickets/{secret}/cant-come/donate" in choices.text
    assert "/cant-come/transfer" not in choices.text and "/cant-come/free_place" not in choices.text  # only what applies
    assert "Get a refund of £30" in choices.text
    assert 'id="change-name"' not in choices.text  # the ticket's own link: changing its name is the buyer's
    # From the order page, where the buyer may put a friend's name on it instead, the page says so.
    ticket_id = order["ticket_ids"][0]
    buyer = await client.get(f"/orders/{order['reference']}/tickets/{ticket_id}/cant-come", params={"token": order["access_token"]})
    holder_link = f'href="/orders/{order["reference"]}/tickets/{ticket_id}/holder?token={order["access_token"]}"'
    assert 'id="change-name"' in buyer.text and holder_link in buyer.text
    starts = (await Event.select(Event.starts_at).where(Event.slug == slug).first())["starts_at"]
    until = (starts - timedelta(days=7)).astimezone(ZoneInfo("Europe/London"))  # the venue's clock, as the ticket shows it
    assert f"{until:%H:%M}." in choices.text

    confirm = await client.get(f"/tickets/{secret}/cant-come/donate")
    assert confirm.status_code == 200 and "Gift Aid" in confirm.text and 'for="gift_aid_postcode"' in confirm.text
    unchanged = await snapshot(slug)
    forged = await client.post(f"/tickets/{secret}/cant-come/donate", data={})
    assert forged.status_code == 403  # no CSRF token
    bad = await client.post(
        f"/tickets/{secret}/cant-come/donate", data={"_csrf_token": csrf_of(confirm.text), "gift_aid": "yes", "gift_aid_first_name": "Amal"}
    )
    assert bad.status_code == 422 and 'id="gift_aid_postcode-error"' in bad.text and 'value="Amal"' in bad.text
    assert await snapshot(slug) == unchanged

    done = await client.post(f"/tickets/{secret}/cant-come/donate", data={"_csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/tickets/{secret}/cant-come/done"
    page = await client.get(done.headers["location"])
    assert "Thank you for your donation" in page.text and "£30" in page.text
    assert await Ticket.select(Ticket.status).where(Ticket.page_secret == secret).first() == {"status": "released"}

    # Sent again (a reload): it says why nothing happened, and nothing does.
    unchanged = await snapshot(slug)
    again = await client.post(f"/tickets/{secret}/cant-come/donate", data={"_csrf_token": csrf_of(confirm.text)})
    assert again.status_code == 409 and "no longer works" in again.text
    assert await snapshot(slug) == unchanged
    assert "/cant-come" not in (await client.get(f"/tickets/{secret}")).text


async def test_passing_on_from_the_page_asks_for_the_friends_details(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug, quantity=1)
    secret = order["page_secrets"][0]
    confirm = await client.get(f"/tickets/{secret}/cant-come/transfer")
    assert confirm.status_code == 200 and 'for="holder"' in confirm.text
    missing = await client.post(f"/tickets/{secret}/cant-come/transfer", data={"_csrf_token": csrf_of(confirm.text), "holder": "Sam"})
    assert missing.status_code == 422 and 'id="email-error"' in missing.text
    done = await client.post(
        f"/tickets/{secret}/cant-come/transfer", data={"_csrf_token": csrf_of(confirm.text), "holder": "Sam", "email": "sam@example.org"}
    )
    assert done.status_code == 303
    passed = await client.get(done.headers["location"])
    assert "Your ticket is passed on" in passed.text
    # Where it went, masked: enough to recognise, not the friend's whole address (the old link may be anyone's).
    assert "s•••@example.org" in passed.text and "sam@example.org" not in passed.text
    assert (await client.get(f"/tickets/{secret}/cant-come/nonsense")).status_code == 404


async def test_a_ticket_that_no_longer_works_says_what_became_of_it(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Litestar, now: datetime
) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=3)
    refunded, donated, passed = order["ticket_ids"]
    assert (await client.post(f"/api/tickets/{refunded}/release", json={"choice": "refund"}, headers=order["bearer"])).status_code == 200
    assert (await client.post(f"/api/tickets/{donated}/release", json={"choice": "donate"}, headers=order["bearer"])).status_code == 200
    await no_refunds(slug)
    friend = {"holder": "Sam", "email": "sam@example.org"}
    assert (await client.post(f"/api/tickets/{passed}/transfer", json=friend, headers=order["bearer"])).status_code == 201
    free = await claimed_place(client, organiser, slug, app)
    assert (await client.post(f"/api/tickets/{free['id']}/release", json={"choice": "free_place"}, headers=free["bearer"])).status_code == 200

    said = {}
    for name, secret in zip(("refunded", "donated", "passed"), order["page_secrets"], strict=True):
        said[name] = re.sub(r"\s+", " ", html.unescape((await client.get(f"/tickets/{secret}")).text))
    said["free"] = re.sub(r"\s+", " ", html.unescape((await client.get(free["url"])).text))
    assert "This ticket was refunded. It no longer works." in said["refunded"]
    assert (
        "We refunded this ticket to the card it was paid with." in said["refunded"]
    )  # and when it arrives (not an amount: a refund may cover a ticket in part)
    assert "within 5 to 10 working days" in said["refunded"]
    assert "This ticket was donated to the event's partner projects." in said["donated"]
    assert "This ticket was passed on to a friend." in said["passed"]
    assert "This place was given back." in said["free"]
    for page in said.values():
        assert "<svg" not in page and "no longer valid" not in page
    # Its "Can't come?" page says the same, rather than listing everything it might have been.
    again = re.sub(r"\s+", " ", (await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come")).text)
    assert "This ticket was refunded. It no longer works." in again and "refunded, given back or passed on" not in again
    # The order page neither says "You're going!" nor "refunded" for an order none of whose tickets is in use.
    order_page = html.unescape((await client.get(f"/orders/{order['reference']}", params={"token": order["access_token"]})).text)
    assert "<h1>Your tickets are no longer in use</h1>" in order_page and "going!" not in order_page and "Add to calendar" not in order_page
    cards = re.findall(r'<li class="ticket-card[^"]*">(.*?)</li>', order_page, re.DOTALL)
    assert [re.sub(r"<[^>]+>|\s+", " ", card).split("·")[-1].split()[-1] for card in cards] == ["Refunded", "Donated", "friend"]
    free_token = free["bearer"]["Authorization"].removeprefix("Bearer ")
    free_order = html.unescape((await client.get(f"/orders/{free['reference']}", params={"token": free_token})).text)
    assert "<h1>Your ticket is no longer in use</h1>" in free_order and "Given back" in free_order and "Donated" not in free_order


async def test_without_a_refund_the_choices_say_why(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug, quantity=1)
    page = await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come")
    assert "This event does not offer refunds." in page.text and "/cant-come/refund" not in page.text

    starts = (await Event.select(Event.starts_at).where(Event.slug == slug).first())["starts_at"]
    days = (starts - now).days - 1  # the refund window closed a day or so ago
    await Event.update({Event.refund_days_before: days + 2}).where(Event.slug == slug)
    closed = re.sub(r"\s+", " ", (await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come")).text)
    until = (starts - timedelta(days=days + 2)).astimezone(ZoneInfo("Europe/London"))
    assert "Refunds closed on " in closed and f"{until:%H:%M}." in closed and "/cant-come/refund" not in closed

    await Event.update({Event.refund_days_before: 7}).where(Event.slug == slug)
    open_window = (await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come")).text
    assert "/cant-come/refund" in open_window and 'id="no-refund"' not in open_window


async def test_the_pages_speak_the_guests_language_right_to_left(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=1)
    page = await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come", headers={"Accept-Language": "ar"})
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text


async def test_a_token_that_is_not_ascii_is_not_found_rather_than_an_error(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=2)
    for path in (f"/orders/{order['reference']}", f"/orders/{order['reference']}/tickets/{order['ticket_ids'][0]}/cant-come"):
        assert (await client.get(path, params={"token": "é"})).status_code == 404


async def test_the_reminder_links_to_cant_come(client: httpx.AsyncClient, mailbox: SmtpServer, now: datetime) -> None:
    from events.tickets.reminders import queue_due_reminders

    slug = await make_event(now)
    one = await paid_order(client, slug, quantity=1)
    starts = (await Event.select(Event.starts_at).where(Event.slug == slug).first())["starts_at"]
    assert await queue_due_reminders(starts - timedelta(hours=47)) >= 1
    await OutboxMessage.update({OutboxMessage.next_attempt_at: clock() - timedelta(seconds=1)}).where(OutboxMessage.kind == "reminder")
    [reminder] = await delivered(mailbox)
    # The buyer's authority (the order's token), so every choice is theirs to make; the page opens with it.
    [ticket_id] = one["ticket_ids"]
    link = f"/orders/{one['reference']}/tickets/{ticket_id}/cant-come?token={one['access_token']}"
    assert link in plain(reminder)
    assert (await client.get(link)).status_code == 200


async def test_an_order_that_kept_its_donation_after_its_ticket_was_refunded_does_not_say_youre_going(
    client: httpx.AsyncClient, now: datetime
) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=1, donation_pence=500)).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    [ticket] = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == created["reference"])
    bearer = {"Authorization": f"Bearer {created['access_token']}"}
    assert (await client.post(f"/api/tickets/{ticket['id']}/release", json={"choice": "refund"}, headers=bearer)).status_code == 200
    assert (await Order.select(Order.status).where(Order.reference == created["reference"]).first())["status"] == "paid"  # the £5 stays given
    page = html.unescape((await client.get(f"/orders/{created['reference']}", params={"token": created["access_token"]})).text)
    assert "<h1>Your ticket is no longer in use</h1>" in page and "going!" not in page and "Add to calendar" not in page
