"""A refund Stripe refuses (the guest's card was closed, say) leaves the guest without their money: the organiser sees
it on the order, gives the money back another way, and records how. Until then the ledger books nothing of it (the
money is still in the charity's account); from then the statements count it as given back, by that method."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import httpx

from events.audit.tables import AuditEntry
from events.ledger.tables import LedgerEntry
from events.orders.tables import Order, OrderHistory
from events.payments import service as payments
from events.payments.tables import Refund
from tests.integration.ledger.test_refund_parts import ORDER, gift_aid_claimed, supper_club
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import place_order
from tests.support.stripe_account import AccountSays, succeeded


async def paid_by_card(client: httpx.AsyncClient, slug: str, intent: str, now: datetime) -> tuple[dict, AccountSays]:
    created = (await place_order(client, slug, **ORDER)).json()
    await Order.update({Order.payment_intent_id: intent}).where(Order.reference == created["reference"])
    paid = succeeded(intent, created["total_pence"], created["reference"])
    await payments.refresh_order(created["reference"], gateway=AccountSays(paid), now=now)
    return created, AccountSays(paid, refund_status="failed")


async def refund_everything(reference: str, stripe: AccountSays, now: datetime) -> payments.RefundRow:
    return await payments.refund_order(
        reference, ticket_ids=None, amount_pence=None, reason="Guest cannot come", requested_by="boss@test.example", gateway=stripe, now=now
    )


async def booked(reference: str) -> dict[tuple[str, str], int]:
    """What the ledger booked of the order's refunds: pence by (method, component)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for refund in await Refund.select(Refund.id).where(Refund.order_id.reference == reference):
        for entry in await LedgerEntry.select().where(LedgerEntry.source.like(f"refund:{refund['id']}:%")):
            totals[(entry["method"], entry["component"])] += entry["amount_pence"]
    return dict(totals)


async def history(reference: str) -> list[tuple[str, str]]:
    rows = (
        await OrderHistory.select(OrderHistory.kind, OrderHistory.detail)
        .where(OrderHistory.order_id.reference == reference)
        .order_by(OrderHistory.id)
    )
    return [(row["kind"], row["detail"]) for row in rows]


async def test_a_refund_stripe_refused_is_recorded_as_given_back_by_bank_transfer_and_then_booked(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    created, closed_card = await paid_by_card(client, slug, "pi_closed_card", now)
    reference = created["reference"]
    refund = await refund_everything(reference, closed_card, now)

    assert refund.status == "failed"
    assert ("refund_refused", "10200 pence: Stripe refused the refund (failed)") in await history(reference)
    assert await booked(reference) == {}  # the money never left the charity's account
    assert await gift_aid_claimed(client, organiser, now) == []  # the gifts are owed back: nothing to claim on them

    await sign_in_organiser(client)
    page = f"/manage/orders/{reference}"
    opened = await client.get(page)
    assert "Refunds Stripe refused" in opened.text and "(Stripe, refused by Stripe)" in opened.text
    action = f"/manage/orders/{reference}/refunds/{refund.id}/given-back"
    assert f'action="{action}"' in opened.text

    # Neither how nor the confirmation: a clear 422 on the page, and nothing changes.
    unsure = await post_form(client, action, {}, page=page)
    assert unsure.status_code == 422
    assert "Choose how the money was given back: by bank transfer or in cash." in unsure.text
    assert "Tick the box to confirm the guest has the money back." in unsure.text
    odd = await post_form(client, action, {"method": "stripe", "confirm": "yes"}, page=page)
    assert odd.status_code == 422 and "Choose how the money was given back" in odd.text
    assert (await Refund.select(Refund.status).where(Refund.id == refund.id).first())["status"] == "failed"
    assert await booked(reference) == {}

    done = await post_form(client, action, {"method": "bank_transfer", "confirm": "yes"}, page=page)
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=given_back"
    row = await Refund.select().where(Refund.id == refund.id).first()
    assert (row["status"], row["method"], row["amount_pence"]) == ("succeeded", "bank_transfer", 10200)
    # The whole £102 is booked as given back by bank transfer, each part as the refund recorded it.
    assert await booked(reference) == {
        ("bank_transfer", "tickets"): -6000,
        ("bank_transfer", "booking_fees"): -200,
        ("bank_transfer", "contributions"): -3000,
        ("bank_transfer", "donations"): -1000,
    }
    assert ("refund_given_back", "10200 pence by bank_transfer (Stripe had refused it), recorded by boss@test.example") in await history(reference)
    audited = await AuditEntry.select().where(AuditEntry.action == "refund.given_back")
    assert len(audited) == 1 and audited[0]["actor"] == "Sam Organiser"
    shown = await client.get(f"{page}?done=given_back")
    assert "Recorded: the guest has the money back." in shown.text and "Refunds Stripe refused" not in shown.text
    assert "(bank transfer, done)" in shown.text

    # The refund is booked when the money was given back, not when Stripe was first asked.
    entries = await LedgerEntry.select(LedgerEntry.occurred_at).where(LedgerEntry.source.like(f"refund:{refund.id}:%"))
    assert {entry["occurred_at"] for entry in entries} == {row["given_back_at"]} and row["given_back_at"] > row["created_at"]

    # The form sent again (a double click, or a second tab): nothing more is booked or noted. A second person recording
    # another way is told how it was recorded, and nothing changes either.
    replay = await post_form(client, action, {"method": "bank_transfer", "confirm": "yes"}, page=page)
    assert replay.status_code == 303
    other_way = await post_form(client, action, {"method": "cash", "confirm": "yes"}, page=page)
    assert other_way.status_code == 409 and "This refund was already recorded as given back by bank transfer." in other_way.text
    assert (await Refund.select(Refund.method).where(Refund.id == refund.id).first())["method"] == "bank_transfer"
    assert len(await LedgerEntry.select().where(LedgerEntry.source.like("refund:%"))) == 4
    assert [kind for kind, _ in await history(reference)].count("refund_given_back") == 1


async def test_only_a_refused_refund_of_that_very_order_can_be_recorded_as_given_back(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    refused_order, closed_card = await paid_by_card(client, slug, "pi_refused", now)
    refused = await refund_everything(refused_order["reference"], closed_card, now)
    waiting_order, stripe = await paid_by_card(client, slug, "pi_waiting", now)
    stripe.refund_status = "pending"
    waiting = await refund_everything(waiting_order["reference"], stripe, now)
    await sign_in_organiser(client)

    # A refund still waiting for Stripe may yet go through: recording it as given back would give the money twice.
    page = f"/manage/orders/{waiting_order['reference']}"
    early = await post_form(client, f"{page}/refunds/{waiting.id}/given-back", {"method": "cash", "confirm": "yes"}, page=page)
    assert early.status_code == 409
    assert "Only a refund Stripe refused can be recorded as given back another way." in early.text
    # Another order's refund, named under this order: not found, as if it did not exist.
    crossed = await post_form(client, f"{page}/refunds/{refused.id}/given-back", {"method": "cash", "confirm": "yes"}, page=page)
    assert crossed.status_code == 404
    # An id no row can have (PostgreSQL's integers end at 2,147,483,647) is refused before it reaches the database.
    too_far = await post_form(client, f"{page}/refunds/3000000000/given-back", {"method": "cash", "confirm": "yes"}, page=page)
    assert too_far.status_code == 422
    statuses = {row["id"]: row["status"] for row in await Refund.select(Refund.id, Refund.status)}
    assert statuses == {refused.id: "failed", waiting.id: "pending"}
    assert await LedgerEntry.count().where(LedgerEntry.source.like("refund:%")) == 0


async def test_an_api_client_records_a_refused_refund_given_back_in_cash(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await supper_club(now)
    created, closed_card = await paid_by_card(client, slug, "pi_api", now)
    refund = await refund_everything(created["reference"], closed_card, now)
    path = f"/api/orders/{created['reference']}/refunds/{refund.id}/given-back"

    assert (await client.post(path, json={"method": "cash"})).status_code == 401
    for body in ({"method": "cheque"}, {"method": "cash", "note": "x"}, {}):
        refused = await client.post(path, json=body, headers=organiser)
        assert refused.status_code == 422, (body, refused.text)
    assert await booked(created["reference"]) == {}

    given = await client.post(path, json={"method": "cash"}, headers=organiser)
    assert given.status_code == 200, given.text
    assert given.json() == {"id": refund.id, "amount_pence": 10200, "method": "cash", "status": "succeeded", "reason": "Guest cannot come"}
    assert sum((await booked(created["reference"])).values()) == -10200
    again = await client.post(path, json={"method": "cash"}, headers=organiser)
    assert again.status_code == 200 and again.json() == given.json()
    other_way = await client.post(path, json={"method": "bank_transfer"}, headers=organiser)
    assert other_way.status_code == 409, other_way.text
    assert other_way.json()["error"] == "refund_already_given_back"
    too_far = await client.post(f"/api/orders/{created['reference']}/refunds/3000000000/given-back", json={"method": "cash"}, headers=organiser)
    assert too_far.status_code == 422, too_far.text
    assert set(await booked(created["reference"])) == {
        ("cash", "tickets"),
        ("cash", "booking_fees"),
        ("cash", "contributions"),
        ("cash", "donations"),
    }
