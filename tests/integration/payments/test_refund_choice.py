"""Cancelling an event with time for guests to donate their refund instead: card-paid guests are told the date of
their refund and may take it now or give it to the partner projects (with Gift Aid), once; the worker refunds
everyone who did not choose when the time ends; door sales are refunded at once; bad input changes nothing."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.ledger.tables import LedgerEntry
from events.orders.tables import Order
from events.payments import cancellation
from events.payments.gateway import ProviderRefund, TestGateway
from events.payments.gateways import Gateways
from events.payments.tables import Refund, RefundDonation
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order, ticket_type_id

GIFT_AID = {"first_name": "Maria", "last_name": "Lopez-Garcia", "house": "12", "postcode": "sw1a1aa", "confirmed": True}


class CountingStripe(TestGateway):
    """Stripe as far as refunds go: one refund per local refund id, each succeeding at once."""

    def __init__(self) -> None:
        self.created: dict[int, ProviderRefund] = {}

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        self.created.setdefault(local_refund_id, ProviderRefund(f"re_{local_refund_id}", amount_pence, "succeeded", local_refund_id))
        return self.created[local_refund_id]


@pytest.fixture
def stripe(app: Litestar) -> Any:
    original = app.state.gateways
    counting = CountingStripe()
    app.state.gateways = Gateways(counting, app.state.settings)
    yield counting
    app.state.gateways = original


async def buy(client: httpx.AsyncClient, slug: str, email: str, *, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    buyer = {"name": email.split("@")[0].title(), "email": email}
    created = (await place_order(client, slug, quantity=quantity, buyer=buyer, **extra)).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    return created


def bearer(created: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {created['access_token']}"}


async def choose(client: httpx.AsyncClient, created: dict[str, Any], body: Any) -> httpx.Response:
    return await client.post(f"/api/orders/{created['reference']}/refund-choice", json=body, headers=bearer(created))


async def money_of(reference: str) -> tuple[int, int, int]:
    """What the order refunded, what it donated instead, and how many of its refunds exist."""
    order = await Order.select(Order.id, Order.refunded_pence).where(Order.reference == reference).first()
    donated = sum(r["amount_pence"] for r in await RefundDonation.select(RefundDonation.amount_pence).where(RefundDonation.order_id == order["id"]))
    return order["refunded_pence"], donated, await Refund.count().where(Refund.order_id == order["id"])


async def ledger_by(kind: str, slug: str) -> dict[str, int]:
    rows = await LedgerEntry.select(LedgerEntry.component, LedgerEntry.amount_pence).where(LedgerEntry.kind == kind, LedgerEntry.event.slug == slug)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["component"]] = totals.get(row["component"], 0) + row["amount_pence"]
    return totals


async def test_guests_donate_or_take_their_refund_once_and_the_rest_are_refunded_when_the_time_ends(
    client: httpx.AsyncClient, app: Litestar, stripe: CountingStripe, organiser: dict[str, str], now: datetime, tmp_path: Path
) -> None:
    slug = await make_event(now, booking_fee_pence=50)
    giver = await buy(client, slug, "maria@example.org", quantity=2, donation_pence=500)  # 2 × (£30 + 50p) + £5
    taker = await buy(client, slug, "omar@example.org")
    silent = await buy(client, slug, "leila@example.org")
    door_type = await ticket_type_id(client, slug)
    door = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 1}], "payment_method": "cash"}, headers=organiser
    )
    assert door.status_code == 201, door.text
    await OutboxMessage.delete(force=True)

    cancelled = await client.post(
        f"/api/events/{slug}/cancel",
        json={"reason": "The venue flooded", "donation_choice_days": 7, "guest_message": "We will be back in <i>spring</i>."},
        headers=organiser,
    )
    assert cancelled.status_code == 200, cancelled.text
    progress = cancelled.json()
    # The door sale is refunded at once, as arranged at the door; card payments wait for their guest's choice.
    assert progress["refunds_done"] == 1 and progress["refunded_pence"] == 3000
    assert progress["awaiting_choice"] == 3 and progress["awaiting_choice_pence"] == 6600 + 3050 + 3050
    assert progress["complete"] is False
    assert await Ticket.count().where(Ticket.status == "valid") == 0  # every ticket stops working now
    until = datetime.fromisoformat(progress["choice_until"])
    assert timedelta(days=7) - timedelta(minutes=1) < until - now < timedelta(days=7) + timedelta(minutes=1)
    assert [e.after["donation_choice_days"] for e in await list_entries(action="event.cancelled")] == [7]

    # Each card guest is told the date and where to choose.
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    assert await drain_outbox(now + timedelta(minutes=1), settings=settings) == 3  # the door sale left no address
    emails = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        emails[message["To"]] = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "We will refund £66 to you on" in emails["maria@example.org"] and "unless you choose to give it" in emails["maria@example.org"]
    link = re.search(r"(http\S+/orders/\S+/cancelled\?token=\S+)", emails["maria@example.org"])
    assert link and giver["reference"] in link.group(1) and giver["access_token"] in link.group(1)

    # The choice page, in the guest's language.
    page = await client.get(f"/orders/{giver['reference']}/cancelled", params={"token": giver["access_token"]}, headers={"accept-language": "ar"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text and 'name="choice" value="donate"' in page.text
    # The text a guest gets links here: the organisers' words are here too, as they wrote them.
    assert "We will be back in &lt;i&gt;spring&lt;/i&gt;." in page.text
    assert (await client.get(f"/orders/{giver['reference']}/cancelled", params={"token": taker["access_token"]})).status_code == 404

    # Maria donates, with Gift Aid: booked at once, ticket income and booking fees to donations, net zero.
    donated = await choose(client, giver, {"choice": "donate", "gift_aid": GIFT_AID})
    assert donated.status_code == 200, donated.text
    assert donated.json() == {"choice": "donate", "amount_pence": 6600, "currency": "GBP", "refund_status": None, "gift_aid": True}
    assert await money_of(giver["reference"]) == (0, 6600, 0)
    assert await ledger_by("donated_refund", slug) == {"tickets": -6000, "booking_fees": -100, "donations": 6100}
    [row] = await RefundDonation.select().where(RefundDonation.order_id.reference == giver["reference"])
    assert row["cause"] == "cancelled" and row["refund_offered"] and row["gift_aid_postcode"] == "SW1A 1AA"
    # A second choice is refused and changes nothing.
    again = await choose(client, giver, {"choice": "refund"})
    assert again.status_code == 409 and again.json()["error"] == "already_chosen"
    assert await money_of(giver["reference"]) == (0, 6600, 0) and not stripe.created

    # Omar takes his refund now from the page (a form with its CSRF token).
    page = await client.get(f"/orders/{taker['reference']}/cancelled", params={"token": taker["access_token"]})
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    chosen = await client.post(
        f"/orders/{taker['reference']}/cancelled", data={"token": taker["access_token"], "choice": "refund", "_csrf_token": csrf.group(1)}
    )
    assert chosen.status_code == 303
    assert await money_of(taker["reference"]) == (3050, 0, 1) and sum(r.amount_pence for r in stripe.created.values()) == 3050
    shown = await client.get(chosen.headers["location"])
    assert "We are refunding £30.50 to you." in shown.text and 'value="donate"' not in shown.text
    second = await choose(client, taker, {"choice": "donate"})
    assert second.status_code == 409 and second.json()["error"] == "already_chosen"
    assert await money_of(taker["reference"]) == (3050, 0, 1)

    # The worker does nothing before the time ends, then refunds Leila (who never chose), once.
    assert await cancellation.refund_unchosen(now + timedelta(days=6), gateways=app.state.gateways) == 0
    assert await cancellation.refund_unchosen(until + timedelta(minutes=1), gateways=app.state.gateways) == 1
    assert await cancellation.refund_unchosen(until + timedelta(minutes=2), gateways=app.state.gateways) == 0
    assert await money_of(silent["reference"]) == (3050, 0, 1)
    notice = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.order_id.reference == silent["reference"], OutboxMessage.kind == "refund_notice"
    )
    assert len(notice) == 1  # the ordinary refund notice
    late = await choose(client, silent, {"choice": "donate"})
    assert late.status_code == 409 and late.json()["error"] == "already_chosen"

    final = (await client.post(f"/api/events/{slug}/cancel", json={}, headers=organiser)).json()
    assert final["complete"] is True and final["awaiting_choice"] == 0
    assert final["refunds_donated"] == 1 and final["donated_pence"] == 6600
    assert final["refunded_pence"] == 3000 + 3050 + 3050
    # Only Maria's money stays with the event: her tickets and booking fees as a donation, her own £5 donation as it was.
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert reconciliation["totals"]["net_pence"] == 6600
    assert sum(p["net_pence"] for p in reconciliation["partners"]) == 6600


async def test_a_donation_after_the_time_to_choose_is_refused_but_the_refund_can_still_be_asked_for(
    client: httpx.AsyncClient, stripe: CountingStripe, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    guest = await buy(client, slug, "ana@example.org")
    assert (await client.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 3}, headers=organiser)).status_code == 200
    await Order.update({Order.refund_choice_until: now - timedelta(minutes=1)}).where(Order.reference == guest["reference"])  # time has passed
    closed = await choose(client, guest, {"choice": "donate"})
    assert closed.status_code == 409 and closed.json()["error"] == "choice_closed"
    assert await money_of(guest["reference"]) == (0, 0, 0)
    refunded = await choose(client, guest, {"choice": "refund"})
    assert refunded.status_code == 200 and refunded.json()["refund_status"] == "succeeded"
    assert await money_of(guest["reference"]) == (3000, 0, 1)


async def test_bad_choices_get_a_clear_answer_and_change_nothing(
    client: httpx.AsyncClient, stripe: CountingStripe, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    guest = await buy(client, slug, "ana@example.org")
    other_slug = await make_event(now, slug="not-cancelled")
    not_offered = await buy(client, other_slug, "ben@example.org")
    bad_days = await client.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 31}, headers=organiser)
    assert (
        bad_days.status_code == 422
        and (await Order.select(Order.refund_choice_until).where(Order.reference == guest["reference"]).first())["refund_choice_until"] is None
    )
    assert (await client.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 5}, headers=organiser)).status_code == 200

    for body, status, field in [
        ({"choice": "maybe"}, 422, None),
        ({"choice": "refund", "gift_aid": GIFT_AID}, 422, "gift_aid"),
        ({"choice": "donate", "gift_aid": {**GIFT_AID, "postcode": "not a postcode"}}, 422, "gift_aid.postcode"),
        ({"choice": "donate", "gift_aid": {**GIFT_AID, "confirmed": False}}, 422, "gift_aid.confirmed"),
        ({"choice": "donate", "gift_aid": {**GIFT_AID, "first_name": "Ma\x00ria"}}, 422, None),
        ({"choice": "donate", "extra": 1}, 422, None),
        ("donate", 422, None),
    ]:
        response = await choose(client, guest, body)
        assert response.status_code == status, (body, response.text)
        if field:
            assert field in response.json()["fields"], response.json()
    wrong_token = await client.post(f"/api/orders/{guest['reference']}/refund-choice", json={"choice": "donate"}, headers=bearer(not_offered))
    assert wrong_token.status_code == 404
    never_offered = await choose(client, not_offered, {"choice": "donate"})
    assert never_offered.status_code == 409 and never_offered.json()["error"] == "no_refund_choice"
    assert await money_of(guest["reference"]) == (0, 0, 0) and await money_of(not_offered["reference"]) == (0, 0, 0)
    assert await RefundDonation.count() == 0 and await LedgerEntry.count().where(LedgerEntry.kind == "donated_refund") == 0
    assert not stripe.created

    # The page says what is wrong, keeps what was typed and changes nothing either.
    page = await client.get(f"/orders/{guest['reference']}/cancelled", params={"token": guest["access_token"]})
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"token": guest["access_token"], "choice": "donate", "gift_aid": "yes", "gift_aid_first_name": "Maria", "_csrf_token": csrf.group(1)}
    shown = await client.post(f"/orders/{guest['reference']}/cancelled", data=form)
    assert shown.status_code == 422 and "Please give your last name for Gift Aid." in shown.text and 'value="Maria"' in shown.text
    assert await RefundDonation.count() == 0 and await money_of(guest["reference"]) == (0, 0, 0)


async def test_choices_sent_at_once_make_one_choice(
    client: httpx.AsyncClient, stripe: CountingStripe, organiser: dict[str, str], now: datetime
) -> None:
    """A double tap, or the guest's phone and laptop at once: the order's lock lets exactly one choice through."""
    import asyncio

    slug = await make_event(now)
    guest = await buy(client, slug, "ana@example.org")
    assert (await client.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 7}, headers=organiser)).status_code == 200
    answers = await asyncio.gather(*[choose(client, guest, {"choice": choice}) for choice in ["donate", "refund"] * 4])
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 7
    assert {answer.json()["error"] for answer in answers if answer.status_code == 409} == {"already_chosen"}
    refunded, donated, refunds = await money_of(guest["reference"])
    assert (refunded, donated) in ((3000, 0), (0, 3000)) and refunds == (1 if refunded else 0)
    assert len(stripe.created) == refunds


async def test_a_guest_who_donates_their_refund_is_thanked_once_by_email_or_text_in_their_language(
    client: httpx.AsyncClient, app: Litestar, stripe: CountingStripe, organiser: dict[str, str], now: datetime, tmp_path: Path
) -> None:
    slug = await make_event(now)
    maria = await buy(client, slug, "maria@example.org", quantity=2)
    omar = await buy(client, slug, "omar@example.org")
    leila = await buy(client, slug, "leila@example.org")
    await Order.update({Order.locale: "fr"}).where(Order.reference == maria["reference"])
    # Omar's order reaches him by text only (as an order with a phone number and no email address does), in Arabic.
    await Order.update({Order.buyer_email: "", Order.buyer_phone: "07911 123456", Order.locale: "ar"}).where(Order.reference == omar["reference"])
    assert (await client.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 7}, headers=organiser)).status_code == 200
    await OutboxMessage.delete(force=True)  # the cancellation notices

    # Maria donates through the API, with Gift Aid; Omar from the choice page; Leila takes her refund.
    assert (await choose(client, maria, {"choice": "donate", "gift_aid": GIFT_AID})).status_code == 200
    page = await client.get(f"/orders/{omar['reference']}/cancelled", params={"token": omar["access_token"]})
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"token": omar["access_token"], "choice": "donate", "_csrf_token": csrf.group(1)}
    assert (await client.post(f"/orders/{omar['reference']}/cancelled", data=form)).status_code == 303
    assert (await choose(client, leila, {"choice": "refund"})).status_code == 200
    # Choosing again changes nothing and thanks nobody twice.
    assert (await choose(client, maria, {"choice": "donate"})).status_code == 409
    assert (await client.post(f"/orders/{omar['reference']}/cancelled", data=form)).status_code == 409

    thanks = (
        await OutboxMessage.select(OutboxMessage.order_id.reference, OutboxMessage.recipient, OutboxMessage.channel)
        .where(OutboxMessage.kind == "refund_donated")
        .order_by(OutboxMessage.id)
    )
    assert [(row["order_id.reference"], row["recipient"], row["channel"]) for row in thanks] == [
        (maria["reference"], "maria@example.org", "email"),
        (omar["reference"], "+447911123456", "sms"),
    ]
    assert await OutboxMessage.count().where(OutboxMessage.order_id.reference == leila["reference"], OutboxMessage.kind == "refund_donated") == 0

    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await drain_outbox(now + timedelta(minutes=1), settings=settings)
    [eml] = sorted((tmp_path / "outbox").glob("*-refund_donated.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert message["To"] == "maria@example.org" and "Supper Club" in message["Subject"] and 'lang="fr"' in html
    assert "Bonjour Maria," in plain and "60" in plain and "Gift Aid" in plain and maria["reference"] in plain
    assert "cancelled?token=" not in plain  # nothing left to choose: the link is the order page
    [txt] = sorted((tmp_path / "outbox").glob("*-refund_donated.txt"))
    body = txt.read_text()
    assert "+447911123456" in body and f"/orders/{omar['reference']}?token=" in body and "Gift Aid" not in body
    assert await drain_outbox(now + timedelta(minutes=2), settings=settings) == 0  # sent once


async def test_by_default_guests_have_a_week_to_donate_their_refund_and_finishing_keeps_it(
    client: httpx.AsyncClient, stripe: CountingStripe, organiser: dict[str, str], now: datetime
) -> None:
    """Donating instead of a refund is offered wherever a refund is: a cancellation gives guests 7 days unless the
    organiser refunds at once (0). The form offers the 7; a repeat, or "Finish the cancellation", keeps the first's."""
    slug = await make_event(now)
    guest = await buy(client, slug, "ana@example.org")
    await sign_in_organiser(client)
    form = await client.get(f"/manage/events/{slug}/status/cancel")
    assert re.search(r'name="donation_choice_days"[^>]*value="7"', form.text), form.text
    cancelled = await post_form(client, f"/manage/events/{slug}/status/cancel", {"reason": "The venue flooded"})
    assert cancelled.status_code == 303, cancelled.text
    until = (await Order.select(Order.refund_choice_until).where(Order.reference == guest["reference"]).first())["refund_choice_until"]
    assert until is not None and timedelta(days=7) - timedelta(minutes=5) < until - now <= timedelta(days=7) + timedelta(minutes=5)
    assert await Refund.count() == 0 and not stripe.created

    late = await buy(client, await make_event(now, slug="second-night"), "ben@example.org")  # another event, refunded at once when asked
    assert (await post_form(client, f"/manage/events/{slug}/cancellation", {})).status_code == 303
    assert await Refund.count() == 0  # finishing keeps the week
    progress = (await client.post("/api/events/second-night/cancel", json={"donation_choice_days": 0}, headers=organiser)).json()
    assert progress["complete"] is True and progress["refunded_pence"] == 3000
    assert await money_of(late["reference"]) == (3000, 0, 1)
    api = (await client.post(f"/api/events/{slug}/cancel", json={}, headers=organiser)).json()
    assert api["awaiting_choice"] == 1 and api["refunded_pence"] == 0


async def test_the_order_and_ticket_pages_of_a_cancelled_event_say_so_and_lead_to_the_choice(
    client: httpx.AsyncClient, stripe: CountingStripe, organiser: dict[str, str], now: datetime
) -> None:
    """A guest who lost the cancellation email finds the news, the refund date and the choice on their own pages."""
    slug = await make_event(now)
    giver = await buy(client, slug, "maria@example.org")
    taker = await buy(client, slug, "omar@example.org")
    ticket_url = (await client.get(f"/api/orders/{giver['reference']}", headers=bearer(giver))).json()["tickets"][0]["url"]
    order_page = f"/orders/{giver['reference']}"
    before = await client.get(order_page, params={"token": giver["access_token"]})
    assert "You&#39;re going!" in before.text and 'id="event-cancelled"' not in before.text

    cancelled = await client.post(f"/api/events/{slug}/cancel", json={"reason": "The venue flooded", "donation_choice_days": 7}, headers=organiser)
    assert cancelled.status_code == 200, cancelled.text

    page = await client.get(order_page, params={"token": giver["access_token"]})
    assert page.status_code == 200
    assert "<h1>This event is cancelled</h1>" in page.text and "re going!" not in page.text
    assert "We will refund £30 to you on" in page.text and "Add to calendar" not in page.text
    choice_link = f'href="/orders/{giver["reference"]}/cancelled?token={giver["access_token"]}"'
    assert choice_link in page.text
    ticket = await client.get(ticket_url)
    assert "This event has been cancelled." in ticket.text and "<svg" not in ticket.text

    assert (await choose(client, giver, {"choice": "donate"})).status_code == 200
    thanked = await client.get(order_page, params={"token": giver["access_token"]})
    assert "Your refund of £30 is now a donation" in thanked.text and choice_link not in thanked.text
    assert (await choose(client, taker, {"choice": "refund"})).status_code == 200
    refunded = await client.get(f"/orders/{taker['reference']}", params={"token": taker["access_token"]})
    assert "<h1>This event is cancelled</h1>" in refunded.text and "/cancelled?token=" not in refunded.text
    arabic = await client.get(order_page, params={"token": giver["access_token"]}, headers={"accept-language": "ar"})
    assert 'dir="rtl"' in arabic.text and "This event is cancelled" not in arabic.text
