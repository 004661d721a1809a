"""The demo's supper club has people on both waiting lists, so the organiser's waiting-list page shows something."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.demo import seed_demo
from events.waitlist import organiser
from events.waitlist.tables import WaitingEntry


async def test_the_demo_supper_club_has_a_paid_and_a_free_waiting_list_once(client: httpx.AsyncClient, now: datetime) -> None:
    created = await seed_demo(now, with_demo_login=False)
    assert "waiting list of august-supper-club" in created
    listed = await organiser.waiting_list("august-supper-club")
    paid = [entry for entry in listed.entries if entry.kind == "paid"]
    free = [entry for entry in listed.entries if entry.kind == "free"]
    assert [entry.position for entry in paid] == [1, 2, 3] and [entry.position for entry in free] == [1, 2, 3]
    assert all(entry.ticket_type == "Supper" and (entry.email or entry.phone) for entry in paid)
    assert {(count.partner, count.waiting) for count in listed.partners} == {("Hackney Migrant Centre", 2), ("Refugee Women's Group", 1)}
    assert listed.open

    again = await seed_demo(now, with_demo_login=False)
    assert again == [] and await WaitingEntry.count() == len(listed.entries)


async def test_in_development_the_demo_screening_is_sold_out_online_with_people_waiting_once(client: httpx.AsyncClient, now: datetime) -> None:
    from events.demo import SCREENING_SLUG
    from events.ledger.tables import LedgerEntry
    from events.orders.tables import Order

    created = await seed_demo(now, with_demo_login=False, with_demo_sales=True)
    assert f"sales of {SCREENING_SLUG}" in created and f"waiting list of {SCREENING_SLUG}" in created
    event = (await client.get(f"/api/events/{SCREENING_SLUG}")).json()
    assert event["places_left"] == 0 and [t["available"] for t in event["ticket_types"]] == [0]
    assert [t["waiting_list_open"] for t in event["ticket_types"]] == [True]
    page = (await client.get(f"/events/{SCREENING_SLUG}")).text
    assert "Join the waiting list" in page and f'action="/events/{SCREENING_SLUG}/waiting-list"' in page and "Continue to payment" not in page
    listed = await organiser.waiting_list(SCREENING_SLUG)
    assert [(entry.kind, entry.position, entry.status) for entry in listed.entries] == [
        ("paid", 1, "waiting"),
        ("paid", 2, "waiting"),
        ("paid", 3, "waiting"),
    ]
    # The tickets were paid for (test payments), booked in the ledger as any payment is.
    paid = await Order.select(Order.total_pence).where(Order.event.slug == SCREENING_SLUG, Order.status == "paid")
    assert len(paid) == 3 and sum(row["total_pence"] for row in paid) == 10 * 800
    booked = await LedgerEntry.select(LedgerEntry.amount_pence).where(LedgerEntry.event.slug == SCREENING_SLUG)
    assert sum(row["amount_pence"] for row in booked) == 10 * 800

    # Seeded again: nothing more is sold, nobody more waits.
    assert await seed_demo(now, with_demo_login=False, with_demo_sales=True) == []
    assert await Order.count().where(Order.event.slug == SCREENING_SLUG) == 3
    assert len((await organiser.waiting_list(SCREENING_SLUG)).entries) == 3
