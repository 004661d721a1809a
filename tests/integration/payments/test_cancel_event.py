"""Cancelling an event from the back office: every paid order refunded once, every guest emailed in their
language, tickets voided and holds released; a crash half-way or a slow Stripe is finished by a retry."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.catalogue.tables import Event, TicketType
from events.door_sales.service import sell_at_door
from events.orders.tables import Order
from events.payments import cancellation
from events.payments.gateway import PaymentProviderError, ProviderRefund, TestGateway
from events.payments.gateways import Gateways
from events.payments.service import retry_pending_refunds
from events.payments.tables import Refund
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order


class SlowStripe(TestGateway):
    """Like Stripe with idempotency keys: one refund per key however often it is asked. While ``down``,
    every call fails as a timeout would."""

    def __init__(self) -> None:
        self.down = False
        self.created: dict[int, ProviderRefund] = {}
        self.intents: dict[int, str] = {}

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        if self.down:
            raise PaymentProviderError("Stripe did not answer in time")
        if local_refund_id not in self.created:
            self.created[local_refund_id] = ProviderRefund(f"re_{local_refund_id}", amount_pence, "succeeded", local_refund_id)
            self.intents[local_refund_id] = intent_id
        return self.created[local_refund_id]

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        if self.down:
            raise PaymentProviderError("Stripe did not answer in time")
        return [refund for key, refund in self.created.items() if self.intents[key] == intent_id]


@pytest.fixture
def stripe(app: Litestar) -> Any:
    original = app.state.gateways
    slow = SlowStripe()
    app.state.gateways = Gateways(slow, app.state.settings)  # the first organisation's, from the environment
    yield slow
    app.state.gateways = original


async def buy(client: httpx.AsyncClient, slug: str, email: str, *, quantity: int = 1, locale: str | None = None) -> dict[str, Any]:
    headers = {"accept-language": locale} if locale else {}
    client.headers.update(headers)
    try:
        created = (await place_order(client, slug, quantity=quantity, buyer={"name": email.split("@")[0].title(), "email": email})).json()
    finally:
        client.headers.pop("accept-language", None)
    assert (await pay_with_test_page(client, created)).status_code == 303
    return created


async def cancel(client: httpx.AsyncClient, slug: str, reason: str = "The venue flooded") -> httpx.Response:
    """Cancel with refunds at once (no days to choose a donation instead: those are test_refund_choice's)."""
    return await post_form(client, f"/manage/events/{slug}/status/cancel", {"reason": reason, "donation_choice_days": "0"})


async def test_cancelling_refunds_everyone_emails_every_guest_in_their_language_and_releases_holds(
    client: httpx.AsyncClient, app: Litestar, stripe: SlowStripe, organiser: dict[str, str], now: datetime, tmp_path: Path
) -> None:
    slug = await make_event(now)
    english = await buy(client, slug, "maria@example.org", quantity=2)
    arabic = await buy(client, slug, "omar@example.org", locale="ar")
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 3}, headers=organiser)).json()
    assert (await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "email": "leila@example.org"})).status_code in (200, 201)
    held = (await place_order(client, slug, quantity=3, buyer={"name": "Slow", "email": "slow@example.org"})).json()
    await OutboxMessage.delete(force=True)  # the confirmations; only the cancellation emails matter here
    await sign_in_organiser(client)

    confirm = await client.get(f"/manage/events/{slug}/status/cancel")
    assert confirm.status_code == 200 and "Every paid order is refunded in full" in confirm.text
    # What it reaches, before it is confirmed: Maria's 2 tickets, Omar's and Leila's free place; the unpaid hold is not an order yet.
    assert "4 tickets stop working." in confirm.text and "3 orders are cancelled: each guest is told" in confirm.text
    cancelled = await cancel(client, slug)
    assert cancelled.status_code == 303 and cancelled.headers["location"] == f"/manage/events/{slug}/cancellation"

    event = await Event.select().where(Event.slug == slug).first()
    assert event["status"] == "cancelled" and event["places_taken"] == 0  # sold places and the hold released
    refunds = await Refund.select(Refund.order_id.reference, Refund.amount_pence, Refund.status)
    assert sorted((r["order_id.reference"], r["amount_pence"], r["status"]) for r in refunds) == sorted(
        [(english["reference"], 6000, "succeeded"), (arabic["reference"], 3000, "succeeded")]
    )
    assert sum(refund.amount_pence for refund in stripe.created.values()) == 9000
    statuses = {o["reference"]: o["status"] for o in await Order.select(Order.reference, Order.status)}
    assert statuses[english["reference"]] == statuses[arabic["reference"]] == "refunded" and statuses[held["reference"]] == "expired"
    assert await Ticket.count().where(Ticket.status == "valid") == 0

    messages = await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient)
    assert sorted(m["recipient"] for m in messages) == ["leila@example.org", "maria@example.org", "omar@example.org"]
    assert {m["kind"] for m in messages} == {"event_cancelled"}
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    assert await drain_outbox(now + timedelta(minutes=1), settings=settings) == 3
    emails = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        emails[message["To"]] = message
    maria = emails["maria@example.org"].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "cancelled" in emails["maria@example.org"]["Subject"] and "We are refunding everything you paid: £60." in maria
    omar_html = emails["omar@example.org"].get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'lang="ar" dir="rtl"' in omar_html
    leila = emails["leila@example.org"].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "this event has been cancelled" in leila and "refunding" not in leila  # a free place has nothing to refund

    page = await client.get(f"/manage/events/{slug}/cancellation")
    assert "Done: every guest has been told and every refund has gone through." in page.text
    assert '<dd class="refunds-done">2 (£90)</dd>' in page.text and '<dd class="guests-told">3</dd>' in page.text

    # The guest whose hold was released pays anyway (a card payment can land late): refunded, no ticket.
    await pay_with_test_page(client, held)
    late = await Order.select(Order.status, Order.refunded_pence, Order.total_pence).where(Order.reference == held["reference"]).first()
    assert late["status"] == "refunded" and late["refunded_pence"] == late["total_pence"] == 9000
    assert await Ticket.count().where(Ticket.status == "valid") == 0
    assert (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"] == 0

    # A second click (or a retried request) changes nothing: no second refund, no second email.
    assert (await cancel(client, slug)).status_code == 303
    assert (await post_form(client, f"/manage/events/{slug}/cancellation", {})).status_code == 303
    assert await Refund.count() == 3 and len(stripe.created) == 3  # the cancellation's two and the late payment's
    assert await OutboxMessage.count().where(OutboxMessage.kind == "event_cancelled") == 3
    [entry] = await list_entries(action="event.cancelled")
    assert entry.before == {"status": "on_sale"} and entry.after["reason"] == "The venue flooded"
    assert entry.actor == "Sam Organiser"


async def test_a_cancellation_that_stops_half_way_is_finished_by_the_next_click_without_refunding_twice(
    client: httpx.AsyncClient, stripe: SlowStripe, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await make_event(now)
    orders = [await buy(client, slug, f"guest{n}@example.org") for n in range(3)]
    await OutboxMessage.delete(force=True)
    await sign_in_organiser(client)
    real_refund = cancellation.payments.record_refund
    calls = 0

    async def crash_on_the_second(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the server was stopped mid-way")
        return await real_refund(*args, **kwargs)

    monkeypatch.setattr(cancellation.payments, "record_refund", crash_on_the_second)
    assert (await cancel(client, slug)).status_code == 500
    assert await Refund.count() == 1
    page = await client.get(f"/manage/events/{slug}/cancellation")
    assert "Not finished yet" in page.text and "Finish the cancellation" in page.text
    assert '<dd class="tickets-valid">2</dd>' in page.text

    monkeypatch.setattr(cancellation.payments, "record_refund", real_refund)
    assert (await post_form(client, f"/manage/events/{slug}/cancellation", {})).status_code == 303
    refunds = await Refund.select(Refund.order_id.reference, Refund.amount_pence)
    assert sorted(r["order_id.reference"] for r in refunds) == sorted(o["reference"] for o in orders)
    assert len(stripe.created) == 3 and sum(r.amount_pence for r in stripe.created.values()) == 9000
    assert sorted(m["recipient"] for m in await OutboxMessage.select(OutboxMessage.recipient)) == [f"guest{n}@example.org" for n in range(3)]
    assert "Done: every guest has been told" in (await client.get(f"/manage/events/{slug}/cancellation")).text


async def test_refunds_stripe_cannot_take_now_stay_pending_and_the_worker_sends_them(
    app: Litestar, client: httpx.AsyncClient, stripe: SlowStripe, now: datetime
) -> None:
    slug = await make_event(now)
    await buy(client, slug, "ana@example.org")
    await buy(client, slug, "ben@example.org", quantity=2)
    await sign_in_organiser(client)
    stripe.down = True
    assert (await cancel(client, slug)).status_code == 303
    page = await client.get(f"/manage/events/{slug}/cancellation")
    assert '<dd class="refunds-pending">2 (£90)</dd>' in page.text and "retried automatically" in page.text
    assert page.text.count("waiting for Stripe</td>") == 2
    assert "Not finished yet" in page.text
    assert (await cancel(client, slug)).status_code == 303  # an impatient second click
    assert await Refund.count() == 2 and not stripe.created

    await retry_pending_refunds(now + timedelta(minutes=1), gateways=app.state.gateways)  # Stripe still down: still pending
    assert await Refund.count().where(Refund.status == "pending") == 2
    stripe.down = False
    assert await retry_pending_refunds(now + timedelta(minutes=2), gateways=app.state.gateways) == 2
    assert await retry_pending_refunds(now + timedelta(minutes=3), gateways=app.state.gateways) == 0
    assert len(stripe.created) == 2 and {r["status"] for r in await Refund.select(Refund.status)} == {"succeeded"}
    assert "Done: every guest has been told" in (await client.get(f"/manage/events/{slug}/cancellation")).text


async def test_the_api_cancels_through_the_same_service_and_patch_cannot_skip_the_refunds(
    client: httpx.AsyncClient, stripe: SlowStripe, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    await buy(client, slug, "ana@example.org")
    patched = await client.patch(f"/api/events/{slug}", json={"status": "cancelled"}, headers=organiser)
    assert patched.status_code in (400, 422)
    assert (await Event.select(Event.status).first())["status"] == "on_sale"
    first = await client.post(f"/api/events/{slug}/cancel", json={"reason": "Illness", "donation_choice_days": 0}, headers=organiser)
    assert first.status_code == 200 and first.json()["complete"] is True and first.json()["refunded_pence"] == 3000
    assert first.json()["outstanding"] == []
    again = await client.post(f"/api/events/{slug}/cancel", json={}, headers=organiser)
    assert again.json() == first.json() and await Refund.count() == 1
    finished = await make_event(now, slug="old-night")
    await client.patch(f"/api/events/{finished}", json={"status": "finished"}, headers=organiser)
    refused = await client.post(f"/api/events/{finished}/cancel", json={}, headers=organiser)
    assert refused.status_code == 409


async def test_two_cancellations_at_once_refund_and_email_each_order_exactly_once(
    client: httpx.AsyncClient, stripe: SlowStripe, now: datetime
) -> None:
    """Two organisers press Cancel at the same moment (real concurrency; on PostgreSQL, row locks decide)."""
    slug = await make_event(now)
    orders = [await buy(client, slug, f"guest{n}@example.org", quantity=1 + n % 2) for n in range(6)]
    await OutboxMessage.delete(force=True)

    async def press_cancel(who: str) -> cancellation.CancellationProgress:
        return await cancellation.cancel_event(slug, reason="", requested_by=who, gateway=stripe, now=now, donation_choice_days=0)

    await asyncio.gather(press_cancel("Sam"), press_cancel("Alex"))
    # (Each call's own report may show a refund the other call was still sending; afterwards all are done.)
    assert (await cancellation.cancellation_progress(slug)).complete
    refunds = await Refund.select(Refund.order_id, Refund.amount_pence)
    assert len(refunds) == len({r["order_id"] for r in refunds}) == 6
    assert sum(r["amount_pence"] for r in refunds) == sum(o["total_pence"] for o in orders) == sum(r.amount_pence for r in stripe.created.values())
    assert await OutboxMessage.count() == 6
    assert len(await list_entries(action="event.cancelled")) == 1


BAD_REASONS = {
    "NUL": "Flooded\x00",
    "control character": "Flooded\x07",
    "escape sequence": "\x1b[2J",
    "only invisible characters": "\u200b\u2060",
    "too long": "Flooded " * 40,
}


async def _nothing_changed(slug: str, paid: dict[str, Any], places_taken: int) -> None:
    event = await Event.select(Event.status, Event.places_taken).where(Event.slug == slug).first()
    assert event == {"status": "on_sale", "places_taken": places_taken}
    assert (await Order.select(Order.status).where(Order.reference == paid["reference"]).first())["status"] == "paid"
    assert await Refund.count() == 0 and await OutboxMessage.count() == 0
    assert await Ticket.count().where(Ticket.status == "valid") == 2
    assert await list_entries(action="event.cancelled") == []


@pytest.mark.parametrize("reason", BAD_REASONS.values(), ids=BAD_REASONS.keys())
async def test_a_cancellation_with_a_bad_reason_changes_nothing(
    client: httpx.AsyncClient, stripe: SlowStripe, organiser: dict[str, str], now: datetime, reason: str
) -> None:
    """Everything is checked before anything changes: no half-cancelled event, no refund, no email."""
    slug = await make_event(now)
    paid = await buy(client, slug, "maria@example.org", quantity=2)
    await OutboxMessage.delete(force=True)
    places_taken = (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"]

    api = await client.post(f"/api/events/{slug}/cancel", json={"reason": reason}, headers=organiser)
    assert api.status_code == 422, api.text
    assert "reason" in api.json()["fields"]
    await _nothing_changed(slug, paid, places_taken)

    await sign_in_organiser(client)
    page = await cancel(client, slug, reason)
    assert page.status_code == 422
    await _nothing_changed(slug, paid, places_taken)

    assert (await cancel(client, slug, "The venue flooded")).status_code == 303  # a good reason goes through
    assert (await Event.select(Event.status).where(Event.slug == slug).first())["status"] == "cancelled"
    assert await Refund.count() == 1


async def test_a_cancellation_reason_with_a_line_break_is_refused_by_the_api(
    client: httpx.AsyncClient, stripe: SlowStripe, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    paid = await buy(client, slug, "maria@example.org", quantity=2)
    await OutboxMessage.delete(force=True)
    places_taken = (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"]
    response = await client.post(f"/api/events/{slug}/cancel", json={"reason": "Flooded\r\nBcc: all@example.org"}, headers=organiser)
    assert response.status_code == 422 and "reason" in response.json()["fields"]
    await _nothing_changed(slug, paid, places_taken)


async def test_a_door_sale_with_no_contact_is_not_counted_as_told_and_is_listed_to_tell(
    client: httpx.AsyncClient, app: Litestar, stripe: SlowStripe, organiser: dict[str, str], now: datetime
) -> None:
    """Guests told are those a cancellation message went to (or is queued for); a cash sale at the door with no email
    address or mobile number was dealt with but not told, and the page names it so the organiser can reach them."""
    slug = await make_event(
        now, ticket_types=[{"name": "Advance", "price_pence": 3000, "channel": "online"}, {"name": "Door", "price_pence": 900, "channel": "door"}]
    )
    await buy(client, slug, "maria@example.org")
    await buy(client, slug, "omar@example.org")
    door_type = await TicketType.select(TicketType.id).where(TicketType.name == "Door").first()
    door_sale = await sell_at_door(slug, [(door_type["id"], 1)], payment_method="cash", buyer_name="", buyer_email="", seller="Door 1", now=now)
    await OutboxMessage.delete(force=True)
    await sign_in_organiser(client)
    assert (await cancel(client, slug)).status_code == 303

    emails = await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == "event_cancelled")
    assert sorted(m["recipient"] for m in emails) == ["maria@example.org", "omar@example.org"]
    page = await client.get(f"/manage/events/{slug}/cancellation")
    assert '<dd class="guests-told">2</dd>' in page.text and '<dd class="guests-not-told">1</dd>' in page.text
    assert f'href="/manage/orders/{door_sale.reference}"' in page.text
    again = await client.post(f"/api/events/{slug}/cancel", json={"reason": "The venue flooded"}, headers=organiser)  # safe to repeat
    assert again.status_code == 200, again.text
    assert again.json()["guests_told"] == 2 and again.json()["guests_not_told"] == 1


async def test_the_organisers_message_reaches_every_guest_as_written_and_only_the_cancellations_refunds_count(
    client: httpx.AsyncClient, app: Litestar, stripe: SlowStripe, organiser: dict[str, str], now: datetime, tmp_path: Path
) -> None:
    """The organiser's own words go with every cancellation email (text and HTML, escaped, line breaks kept) and on
    each order page, in whatever language the rest is; the page of the cancellation counts the refunds it made, not
    one given a guest before it."""
    slug = await make_event(now)
    maria = await buy(client, slug, "maria@example.org", quantity=2)
    await buy(client, slug, "omar@example.org", locale="fa")
    ben = await buy(client, slug, "ben@example.org")
    earlier = await client.post(f"/api/orders/{ben['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert earlier.status_code == 201, earlier.text
    await OutboxMessage.delete(force=True)
    await sign_in_organiser(client)
    words = "We are so sorry.\r\nNew date: <b>12 March</b> & the same seats.   \r\n\r\nFollow us at example.org"
    response = await post_form(
        client, f"/manage/events/{slug}/status/cancel", {"reason": "Flood", "guest_message": words, "donation_choice_days": "0"}
    )
    assert response.status_code == 303

    page = await client.get(f"/manage/events/{slug}/cancellation")
    assert "Your message to the guests" in page.text and "New date: &lt;b&gt;12 March&lt;/b&gt; &amp; the same seats." in page.text
    assert '<dd class="refunds-done">2 (£90)</dd>' in page.text  # Maria's £60 and Omar's £30, not Ben's earlier £30

    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    assert await drain_outbox(now + timedelta(minutes=1), settings=settings) == 2
    emails = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        emails[message["To"]] = message
    plain = emails["maria@example.org"].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    kept = "We are so sorry.\nNew date: <b>12 March</b> & the same seats.\n\nFollow us at example.org"
    assert kept.replace("\n", "\r\n") in plain or kept in plain
    html = emails["omar@example.org"].get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "We are so sorry.<br>New date: &lt;b&gt;12 March&lt;/b&gt; &amp; the same seats.<br><br>Follow us at example.org" in html
    assert "<b>12 March</b>" not in html and 'lang="fa" dir="rtl"' in html

    order_page = await client.get(f"/orders/{maria['reference']}", params={"token": maria["access_token"]})
    assert "A message from the organisers" in order_page.text
    assert "New date: &lt;b&gt;12 March&lt;/b&gt; &amp; the same seats." in order_page.text
    [entry] = await list_entries(action="event.cancelled")
    assert entry.after["guest_message"] == kept
    # A repeat finishes the job with the message the guests were sent; another message would reach only some of them.
    other = await client.post(f"/api/events/{slug}/cancel", json={"guest_message": "Something else"}, headers=organiser)
    assert other.status_code == 409 and other.json()["error"] == "guest_message_sent"
    api = await client.post(f"/api/events/{slug}/cancel", json={"guest_message": kept}, headers=organiser)
    assert api.status_code == 200 and api.json()["guest_message"] == kept and api.json()["refunds_done"] == 2


@pytest.mark.parametrize("words", ["Sorry\x00", "Sorry\x1b[2J", "x" * 1001], ids=["nul", "escape", "too long"])
async def test_a_bad_message_to_the_guests_changes_nothing(
    client: httpx.AsyncClient, stripe: SlowStripe, organiser: dict[str, str], now: datetime, words: str
) -> None:
    slug = await make_event(now)
    paid = await buy(client, slug, "maria@example.org", quantity=2)
    await OutboxMessage.delete(force=True)
    places_taken = (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"]
    api = await client.post(f"/api/events/{slug}/cancel", json={"guest_message": words}, headers=organiser)
    assert api.status_code in (400, 422) and "guest_message" in api.text
    await _nothing_changed(slug, paid, places_taken)
    await sign_in_organiser(client)
    page = await post_form(client, f"/manage/events/{slug}/status/cancel", {"reason": "Flood", "guest_message": words, "donation_choice_days": "0"})
    # A control character is refused with every form's guard, before the page's own reader; a message too long by it.
    assert page.status_code == 422
    assert "guest_message: This contains a control character." in page.text or "Keep the message to your guests under 1000" in page.text
    await _nothing_changed(slug, paid, places_taken)
