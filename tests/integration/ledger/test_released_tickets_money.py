""" "Can't come?" through the releases API, worked by hand to the penny: a ticket donated inside the refund window with a
Gift Aid declaration, a ticket refunded inside it, and a ticket donated outside it (where a declaration is refused);
the ledger, the event's reconciliation, the partners' statements and the Gift Aid schedule all agree, and the schedule
claims the donated ticket only with its declaration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from events.catalogue.tables import Event
from events.payments.tables import RefundDonation
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.ledger.test_donated_refunds import ledger, paid, schedule_rows, ticket_ids

GIFT_AID = {"first_name": "Maria", "last_name": "Lopez-Garcia", "house": "12", "postcode": "sw1a 1aa", "confirmed": True}


async def release(client: httpx.AsyncClient, created: dict[str, Any], ticket_id: int, body: dict[str, Any]) -> httpx.Response:
    """POST /api/tickets/{id}/release with the order's bearer token, as the guest's phone sends it."""
    return await client.post(f"/api/tickets/{ticket_id}/release", json=body, headers={"Authorization": f"Bearer {created['access_token']}"})


async def books(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, now: datetime) -> dict[str, Any]:
    """Everything that must not move when a release is refused."""
    return {
        "ledger": await ledger(slug),
        "reconciliation": (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json(),
        "schedule": await schedule_rows(client, organiser, now),
        "donations": await RefundDonation.count(),
        "tickets": [(t["id"], t["status"]) for t in await Ticket.select(Ticket.id, Ticket.status).order_by(Ticket.id)],
    }


async def test_released_tickets_keep_the_ledger_statements_and_gift_aid_exact_to_the_penny(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    # Tickets £30 with a 50p booking fee; the partners share 70/30; the test provider charges no fee. The event is 30
    # days away and refunds are offered until 7 days before (the default): the releases below are inside the window.
    slug = await make_event(now, booking_fee_pence=50)
    maria = await paid(client, slug, "Maria", 2, donation_pence=500)  # 2 × 3050 + £5 shared = 6600
    leila = await paid(client, slug, "Leila", 1)  # 3050
    omar = await paid(client, slug, "Omar", 1)  # 3050

    # Inside the window Maria donates her first ticket instead of the refund she is offered, with Gift Aid.
    first, _ = await ticket_ids(client, maria)
    donated = await release(client, maria, first, {"choice": "donate", "gift_aid": GIFT_AID})
    assert donated.status_code == 200, donated.text
    assert (donated.json()["donated_pence"], donated.json()["refund_pence"], donated.json()["gift_aid"]) == (3050, 0, True)
    # Leila takes her refund instead.
    [leilas] = await ticket_ids(client, leila)
    refunded = await release(client, leila, leilas, {"choice": "refund"})
    assert refunded.status_code == 200 and refunded.json()["refund_pence"] == 3050, refunded.text

    # The refund window closes (the organiser now refunds only until 60 days before: the event is 30 days away).
    await Event.update({Event.refund_days_before: 60}).where(Event.slug == slug)
    [omars] = await ticket_ids(client, omar)
    before = await books(client, organiser, slug, now)
    refused = await release(client, omar, omars, {"choice": "donate", "gift_aid": GIFT_AID})
    assert refused.status_code == 422 and "gift_aid" in refused.json()["fields"]
    assert await books(client, organiser, slug, now) == before  # a refused declaration changes nothing
    outside = await release(client, omar, omars, {"choice": "donate"})
    assert outside.status_code == 200 and (outside.json()["donated_pence"], outside.json()["gift_aid"]) == (3050, False), outside.text

    assert await ledger(slug) == {
        ("payment", "tickets"): 12_000,  # four tickets
        ("payment", "booking_fees"): 200,
        ("payment", "donations"): 500,  # Maria's own donation
        # Maria's and Omar's donated tickets (£30 + 50p each): ticket income and booking fees to donations.
        ("donated_refund", "tickets"): -6_000,
        ("donated_refund", "booking_fees"): -100,
        ("donated_refund", "donations"): 6_100,
        # Leila's ticket and its fee, refunded.
        ("refund", "tickets"): -3_000,
        ("refund", "booking_fees"): -50,
    }
    kept = 6600 + 3050 + 3050 - 3050
    assert sum((await ledger(slug)).values()) == kept == 9_650

    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    partners = {p["partner"]: p for p in reconciliation["partners"]}
    # Pooled 70/30: tickets 12 000 − 6 000 = 6 000, fees 200 − 100 = 100, donations 500 + 6 100 = 6 600; the refund 3 050.
    assert partners["welcome-kitchen"]["income_pence"] == {"tickets": 4_200, "booking_fees": 70, "contributions": 0, "donations": 4_620}
    assert partners["welcome-cinema"]["income_pence"] == {"tickets": 1_800, "booking_fees": 30, "contributions": 0, "donations": 1_980}
    assert (partners["welcome-kitchen"]["refunds_pence"], partners["welcome-cinema"]["refunds_pence"]) == (2_135, 915)
    assert (partners["welcome-kitchen"]["net_pence"], partners["welcome-cinema"]["net_pence"]) == (6_755, 2_895)
    assert reconciliation["totals"]["net_pence"] == kept == 6_755 + 2_895
    # Gift Aid: 25% of Maria's donated ticket only (3050 → 762), shared as pooled money is: 2135 and 915 of it → 533 and 229.
    assert (partners["welcome-kitchen"]["gift_aid_claimable_pence"], partners["welcome-cinema"]["gift_aid_claimable_pence"]) == (533, 229)

    # Each partner's statement for the period says the same.
    period = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    for partner, net in (("welcome-kitchen", 6_755), ("welcome-cinema", 2_895)):
        statement = await client.get(f"/api/partners/{partner}/statement", params=period, headers=organiser)
        assert statement.status_code == 200, statement.text
        assert statement.json()["totals"]["net_pence"] == net

    # The schedule: Maria's donated ticket, with her declaration; not Omar's (no refund was on offer, no declaration).
    rows = await schedule_rows(client, organiser, now)
    assert [row[1:5] + row[8:] for row in rows] == [["Maria", "Lopez Garcia", "12", "SW1A 1AA", "30.50"]]
