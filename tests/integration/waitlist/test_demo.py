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
