"""The door's shared test vectors (tests/vectors/door.json) say what the offline bundle calls a ticket in each
state ("door_status"); tests/js/door.test.mjs decides offline from that. Here the real bundle is asked."""

from datetime import datetime

import httpx

from events.orders.tables import Order
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, paid_tickets
from tests.support import door_vectors


async def test_the_offline_bundle_describes_each_ticket_state_as_the_vectors_say(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket] = await paid_tickets(client, app, slug, quantity=1, now=now)
    expected: dict[tuple[str, str, bool], str] = {}
    for case in door_vectors.build()["decisions"]:
        state = case["ticket"]
        key = (state["status"], state["order_status"], state["checked_in"])
        assert expected.setdefault(key, case["door_status"]) == case["door_status"], key  # the vectors agree with themselves
    assert len({(status, order) for status, order, _ in expected}) == 15

    for (status, order_status, checked_in), door_status in expected.items():
        await Ticket.update({Ticket.status: status, Ticket.checked_in_at: now if checked_in else None}).where(Ticket.id == ticket.id)
        await Order.update({Order.status: order_status}).where(Order.reference == ticket.order_reference)
        bundle = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
        [entry] = [t for t in bundle["tickets"] if t["id"] == ticket.id]
        assert (entry["status"], entry["checked_in"]) == (door_status, checked_in), (status, order_status)
        assert (ticket.id in bundle["revoked"]) == (door_status != "valid")
