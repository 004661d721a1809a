"""A name on every ticket: the guests a buyer names at checkout (API and buy form), their tickets, the buyer changing
a holder from the order page or the API until the event's cut-off, and the names in the guest's data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.catalogue.tables import Event
from events.orders.tables import Order, OrderGuestName
from events.privacy import service as privacy
from events.tickets.outbox import drain_outbox
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, scan
from tests.integration.tickets.test_email import SmtpServer, clock, outbox_of, smtp, smtp_server  # noqa: F401 - the fixtures
from tests.support.orders import get_order, pay_with_test_page, place_order, ticket_type_id

TWO_TYPES = [{"name": "Supper", "price_pence": 3000, "max_per_order": 6}, {"name": "Child", "price_pence": 1000, "max_per_order": 6}]


async def two_type_order(client: httpx.AsyncClient, slug: str, **extra: Any) -> httpx.Response:
    supper, child = await ticket_type_id(client, slug, "Supper"), await ticket_type_id(client, slug, "Child")
    return await client.post(
        f"/api/events/{slug}/orders",
        json={
            "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
            "items": [{"ticket_type": supper, "quantity": 2}, {"ticket_type": child, "quantity": 1}],
            **extra,
        },
    )


def bearer(created: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {created['access_token']}"}


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, "the page's form carries a CSRF token"
    return found.group(1)


async def places_left(client: httpx.AsyncClient, slug: str) -> int:
    return (await client.get(f"/api/events/{slug}")).json()["places_left"]


async def test_each_named_guest_gets_their_ticket_and_the_others_carry_the_buyers_name(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=TWO_TYPES)
    response = await two_type_order(client, slug, guest_names=["", "  Bob Newcomer ", "Chloé Martin"])
    assert response.status_code == 201, response.text
    created = response.json()
    held = await OrderGuestName.select(OrderGuestName.position, OrderGuestName.name).order_by(OrderGuestName.position)
    assert held == [{"position": 1, "name": "Bob Newcomer"}, {"position": 2, "name": "Chloé Martin"}]

    await pay_with_test_page(client, created)
    tickets = (await get_order(client, created))["tickets"]
    assert [(t["type"], t["holder"]) for t in tickets] == [("Supper", "Amal Haddad"), ("Supper", "Bob Newcomer"), ("Child", "Chloé Martin")]
    assert await OrderGuestName.count() == 0  # the tickets carry the names now; the order keeps no copy
    assert "Chloé Martin" in (await client.get(tickets[2]["url"])).text


async def test_guest_names_that_cannot_be_used_are_refused_before_anything_is_held(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=TWO_TYPES)
    left = await places_left(client, slug)
    too_many = await two_type_order(client, slug, guest_names=["A", "B", "C", "D"])
    assert too_many.status_code == 422 and "guest_names" in too_many.json()["fields"], too_many.text
    control = await two_type_order(client, slug, guest_names=["Bob", "Chloé\u0007"])
    assert control.status_code in (400, 422), control.text
    too_long = await two_type_order(client, slug, guest_names=["B" * 201])
    assert too_long.status_code in (400, 422), too_long.text
    assert await places_left(client, slug) == left and await Order.count() == 0 and await OrderGuestName.count() == 0


async def test_the_buy_form_takes_a_name_per_ticket_and_shows_a_wrong_one_beside_its_field(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    assert 'class="guest-names"' in page.text and "from your order page after paying" in page.text
    form = {"_csrf_token": csrf_of(page), f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal@example.org"}

    wrong = await client.post(f"/events/{slug}/buy", data={**form, "guest_name_0": "", "guest_name_1": "Bob\r\nNewcomer"})
    assert wrong.status_code == 422, wrong.text
    field = re.search(r"<input id=\"guest_name_1\"[^>]*>", wrong.text)
    assert field and 'aria-invalid="true"' in field.group(0)
    assert 'id="guest_name_1-error"' in wrong.text and 'id="guest_name_0"' in wrong.text and 'id="guest_name_2"' not in wrong.text
    assert ">Name on ticket 2 (optional)</label>" in wrong.text  # several tickets: each field says which
    alone = await client.post(f"/events/{slug}/buy", data={**form, f"quantity_{type_id}": "1", "guest_name_0": "Bob\r\nNewcomer"})
    assert alone.status_code == 422, alone.text
    assert ">Name on the ticket (optional)</label>" in alone.text and ">Name on ticket 1 (optional)</label>" not in alone.text
    assert await Order.count() == 0

    # A field left from a larger choice (guest_name_2, with two tickets chosen) does not count.
    placed = await client.post(f"/events/{slug}/buy", data={**form, "guest_name_0": "", "guest_name_1": "Bob Newcomer", "guest_name_2": "Nobody"})
    assert placed.status_code == 303, placed.text
    reference = (await Order.select(Order.reference).first())["reference"]
    token = re.search(r"token=([^&]+)", placed.headers["location"]).group(1)  # type: ignore[union-attr]
    await pay_with_test_page(client, {"reference": reference, "access_token": token, "payment": {"url": placed.headers["location"]}})
    holders = await Ticket.select(Ticket.holder_name).order_by(Ticket.id)
    assert [row["holder_name"] for row in holders] == ["Amal Haddad", "Bob Newcomer"]


async def test_the_buyer_changes_a_holder_from_the_order_page_and_the_old_code_is_refused(
    client: httpx.AsyncClient, app: Litestar, now: datetime
) -> None:
    from events.tickets.views import tickets_of_order

    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2, guest_names=["", "Bob Newcomer"])).json()
    await pay_with_test_page(client, created)
    reference, token = created["reference"], created["access_token"]
    old_first, old_second = await tickets_of_order(reference, secret_key=app.state.settings.secret_key, now=now)
    order_page = await client.get(f"/orders/{reference}?token={token}")
    holder_url = f"/orders/{reference}/tickets/{old_second.id}/holder"
    assert f'href="{holder_url}?token={token}"' in order_page.text and "You can change a name until" in order_page.text

    page = await client.get(f"{holder_url}?token={token}")
    assert page.status_code == 200 and 'value="Bob Newcomer"' in page.text and page.headers["x-robots-tag"] == "noindex"
    assert (await client.get(f"{holder_url}?token=wrong")).status_code == 404
    no_csrf = await client.post(holder_url, data={"token": token, "holder": "Sara Haddad"})
    assert no_csrf.status_code == 403
    blank = await client.post(holder_url, data={"token": token, "holder": "  ", "_csrf_token": csrf_of(page)})
    assert blank.status_code == 422 and 'aria-invalid="true"' in blank.text and "give the ticket holder" in blank.text

    done = await client.post(holder_url, data={"token": token, "holder": "Sara Haddad", "_csrf_token": csrf_of(page)})
    assert done.status_code == 303, done.text
    shown = await client.get(done.headers["location"])
    assert 'id="holder-changed"' in shown.text and "Sara Haddad" in shown.text
    [first, second] = await tickets_of_order(reference, secret_key=app.state.settings.secret_key, now=now)
    assert (second.holder, second.version) == ("Sara Haddad", 2) and second.secret != old_second.secret
    assert (first.holder, first.secret) == ("Amal Haddad", old_first.secret)  # the other ticket is untouched
    assert [m["kind"] for m in await outbox_of(reference)] == ["order_confirmation", "tickets_reissued"]

    door = await door_team(now, slug=slug)
    refused = (await client.post("/api/checkin/redeem", json=scan(slug, old_second.code), headers=door)).json()
    assert refused["status"] == "error"
    admitted = (await client.post("/api/checkin/redeem", json=scan(slug, second.code), headers=door)).json()
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Sara Haddad"


async def test_the_guest_api_changes_a_holder_of_its_own_order_only_and_until_the_cut_off(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2)).json()
    other = (await place_order(client, slug, quantity=1)).json()
    for order in (created, other):
        await pay_with_test_page(client, order)
    [first, _] = (await get_order(client, created))["tickets"]
    [theirs] = (await get_order(client, other))["tickets"]
    url = f"/api/orders/{created['reference']}/tickets/{first['id']}/holder"

    changed = await client.post(url, json={"holder": " Samir Haddad "}, headers=bearer(created))
    assert changed.status_code == 200, changed.text
    assert changed.json()["holder"] == "Samir Haddad" and changed.json()["secret"] != first["secret"]
    assert (await client.get(first["url"])).status_code == 404  # the old link no longer opens the ticket
    assert (await client.post(url, json={"holder": "X"}, headers=bearer(other))).status_code == 404  # another order's token
    not_ours = f"/api/orders/{created['reference']}/tickets/{theirs['id']}/holder"
    assert (await client.post(not_ours, json={"holder": "X"}, headers=bearer(created))).status_code == 404
    assert (await client.post(url, json={"holder": "a\nb"}, headers=bearer(created))).status_code in (400, 422)
    assert (await get_order(client, other))["tickets"][0]["holder"] == "Amal Haddad"

    # 24 hours before the start by default: an event starting in 12 hours takes no more changes.
    starts = now + timedelta(hours=12)
    await Event.update({Event.starts_at: starts, Event.ends_at: starts + timedelta(hours=3)}).where(Event.slug == slug)
    closed = await client.post(url, json={"holder": "Late Guest"}, headers=bearer(created))
    assert closed.status_code == 409 and closed.json()["error"] == "name_changes_closed"
    order_page = await client.get(f"/orders/{created['reference']}?token={created['access_token']}")
    assert "/holder?token=" not in order_page.text and "Samir Haddad" in order_page.text
    holder_page = await client.get(f"/orders/{created['reference']}/tickets/{first['id']}/holder?token={created['access_token']}")
    assert holder_page.status_code == 200 and 'id="holder"' not in holder_page.text and "Names could be changed until" in holder_page.text
    # The organiser sets the cut-off per event: 0 lets names change until the start.
    await Event.update({Event.name_changes_close_hours_before: 0}).where(Event.slug == slug)
    assert (await client.post(url, json={"holder": "Late Guest"}, headers=bearer(created))).status_code == 200


async def test_the_new_ticket_is_emailed_in_the_guests_language(client: httpx.AsyncClient, smtp: SmtpServer, now: datetime) -> None:  # noqa: F811
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2)).json()
    await pay_with_test_page(client, created)
    await Order.update({Order.locale: "fr"}).where(Order.reference == created["reference"])
    assert await drain_outbox(clock(), settings=smtp.settings) == 1  # the confirmation
    [ticket, _] = (await get_order(client, created))["tickets"]
    response = await client.post(
        f"/api/orders/{created['reference']}/tickets/{ticket['id']}/holder", json={"holder": "Bob Newcomer"}, headers=bearer(created)
    )
    assert response.status_code == 200
    assert await drain_outbox(clock(), settings=smtp.settings) == 1
    message = smtp.inbox.messages()[-1]
    assert message["Subject"] == "Vos billets mis à jour pour Supper Club"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Bob Newcomer" in text and response.json()["url"] in text


async def test_the_organiser_sets_the_cut_off_through_the_events_api(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    assert (await client.get(f"/api/events/{slug}")).json()["name_changes_close_hours_before"] == 24
    changed = await client.patch(f"/api/events/{slug}", json={"name_changes_close_hours_before": 48}, headers=organiser)
    assert changed.status_code == 200, changed.text
    assert changed.json()["name_changes_close_hours_before"] == 48
    too_far = await client.patch(f"/api/events/{slug}", json={"name_changes_close_hours_before": 337}, headers=organiser)
    assert too_far.status_code in (400, 422)
    assert (await Event.select(Event.name_changes_close_hours_before).where(Event.slug == slug).first())["name_changes_close_hours_before"] == 48


async def test_names_given_for_an_unpaid_order_are_exported_and_erased_with_the_guest(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2, guest_names=["", "Bob Newcomer"])).json()
    organisation_id = (await Event.select(Event.organisation).where(Event.slug == slug).first())["organisation"]
    document = await privacy.export_guest("amal@example.org", [created["reference"]], organisation_id=organisation_id, now=now)
    [order] = document.orders
    assert [(g.ticket, g.name) for g in order.guest_names] == [(2, "Bob Newcomer")]
    await privacy.erase_guest("amal@example.org", [created["reference"]], organisation_id=organisation_id, now=now)
    assert await OrderGuestName.count() == 0


async def test_the_names_travel_through_the_questions_step(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    from tests.integration.questions.test_buy_form_questions import hidden_fields
    from tests.support.questions import add_course

    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    course = await add_course(client, slug, organiser)
    page = await client.get(f"/events/{slug}")
    form = {f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal@example.org", "guest_name_1": "Bob Newcomer"}
    step = await client.post(f"/events/{slug}/buy", data={**form, "_csrf_token": csrf_of(page)})
    assert step.status_code == 200 and await Order.count() == 0
    carried = hidden_fields(step.text)
    assert carried["guest_name_1"] == "Bob Newcomer"
    answered = {**carried, f"answer_{course['id']}_0": "lamb", f"answer_{course['id']}_1": "aubergine", "_csrf_token": csrf_of(step)}
    placed = await client.post(f"/events/{slug}/buy", data=answered)
    assert placed.status_code == 303, placed.text
    assert await OrderGuestName.select(OrderGuestName.position, OrderGuestName.name) == [{"position": 1, "name": "Bob Newcomer"}]
