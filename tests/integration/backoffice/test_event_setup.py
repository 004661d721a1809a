"""Setting an event up in the back office: the event form with inline errors, ticket types, partner shares
and costs, publishing, claim links, free places and the door team; every action in the audit log."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import BeneficiaryShare, Event, TicketType
from events.checkin.tables import DoorAssignment
from events.ledger.tables import EventCost
from events.orders.tables import ClaimCode, Order
from tests.factories import make_event, make_partner
from tests.integration.accounts.test_login import sign_in
from tests.support.audit import list_entries
from tests.support.backoffice import event_form, post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order

SLUG = "august-supper-club"


async def test_only_organisers_reach_the_set_up_pages(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/manage/events/new", headers={"accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    await accounts.create_user("door@test.example", role="door", password="a long password")
    await sign_in(client, "door@test.example", "a long password")
    assert (await client.get("/manage")).status_code == 403
    assert (await client.get("/manage/events/new")).status_code == 403


async def test_creating_an_event_keeps_values_and_marks_each_problem(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    bad = await post_form(client, "/manage/events/new", event_form(capacity="", ends_at="2031-08-15T18:00", booking_fee="lots"))
    assert bad.status_code == 422
    assert 'id="error-summary"' in bad.text and 'href="#capacity"' in bad.text
    assert re.search(r'id="capacity"[^>]*aria-describedby="capacity-hint capacity-error" aria-invalid="true"', bad.text)
    assert re.search(r'id="booking_fee"[^>]*aria-invalid="true"', bad.text)
    assert 'value="August Supper Club"' in bad.text  # what the person typed is kept
    assert await Event.count() == 0

    reversed_times = await post_form(client, "/manage/events/new", event_form(ends_at="2031-08-15T18:00"))
    assert reversed_times.status_code == 422 and "The event must end after it starts." in reversed_times.text
    assert re.search(r'id="ends_at"[^>]*aria-invalid="true"', reversed_times.text)

    created = await post_form(client, "/manage/events/new", event_form())
    assert created.status_code == 303 and created.headers["location"] == f"/manage/events/{SLUG}/tickets?notice=created"
    event = await Event.select().where(Event.slug == SLUG).first()
    assert event["status"] == "draft"
    # 19:00 in London in August is 18:00 UTC (summer time).
    assert event["starts_at"] == datetime(2031, 8, 15, 18, 0, tzinfo=timezone.utc)
    assert (event["booking_fee_pence"], event["pay_it_forward_place_pence"], event["cost_per_attendee_pence"]) == (50, 2500, 400)
    assert (event["capacity"], event["reserved_free_places"], event["booking_fees_to_cause"]) == (60, 10, True)

    taken = await post_form(client, "/manage/events/new", event_form(slug=SLUG))
    assert taken.status_code == 422 and "Already in use." in taken.text and re.search(r'id="slug"[^>]*aria-invalid="true"', taken.text)

    home = await client.get("/manage")
    assert home.status_code == 200 and f'href="/manage/events/{SLUG}"' in home.text and "Draft" in home.text
    assert "0 / 60" in home.text and 'href="/manage/events/new"' in home.text
    [entry] = await list_entries(action="event.created")
    assert entry.actor == "Sam Organiser" and entry.after["title"] == "August Supper Club"


async def test_editing_an_event_logs_only_what_changed(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    await post_form(client, "/manage/events/new", event_form())
    page = await client.get(f"/manage/events/{SLUG}/edit")
    assert 'value="2031-08-15T19:00"' in page.text and 'value="0.50"' in page.text  # local time and pounds, as typed
    saved = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(venue="St Mary's Crypt", booking_fees_to="costs", allow_reentry="on"))
    assert saved.status_code == 303
    event = await Event.select().where(Event.slug == SLUG).first()
    assert event["venue"] == "St Mary's Crypt" and event["booking_fees_to_cause"] is False and event["allow_reentry"] is True
    [entry] = await list_entries(action="event.updated")
    assert entry.before == {
        "venue": "Community Hall",
        "booking_fees_to_cause": True,
        "allow_reentry": False,
    }  # the slug field was empty: unchanged
    assert entry.after == {"venue": "St Mary's Crypt", "booking_fees_to_cause": False, "allow_reentry": True}

    # A draft's web address can still change; a published event's cannot.
    moved = await post_form(
        client,
        f"/manage/events/{SLUG}/edit",
        event_form(slug="supper-in-august", venue="St Mary's Crypt", booking_fees_to="costs", allow_reentry="on"),
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/manage/events/supper-in-august/edit?notice=saved"
    [renamed] = await list_entries(action="event.updated", limit=1)
    assert renamed.before == {"slug": SLUG} and renamed.after == {"slug": "supper-in-august"}
    back = await post_form(
        client, "/manage/events/supper-in-august/edit", event_form(slug=SLUG, venue="St Mary's Crypt", booking_fees_to="costs", allow_reentry="on")
    )
    assert back.status_code == 303
    await Event.update({Event.status: "on_sale"}).where(Event.slug == SLUG)
    refused = await client.patch(
        f"/api/events/{SLUG}",
        json={"slug": "elsewhere"},
        headers={"Authorization": f"Bearer {await accounts.create_api_token('boss@test.example', now=datetime.now(timezone.utc))}"},
    )
    assert refused.status_code == 422 and refused.json()["fields"]["slug"] == "Cannot change after publishing."
    assert 'id="slug"' not in (await client.get(f"/manage/events/{SLUG}/edit")).text

    too_small = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(capacity="5"))
    assert too_small.status_code == 422 and "Reserved free places must be between 0 and the capacity." in too_small.text
    assert (await Event.select(Event.capacity).where(Event.slug == SLUG).first())["capacity"] == 60


async def test_an_event_is_published_once_it_has_ticket_types_and_shares_that_add_up(client: httpx.AsyncClient) -> None:
    await make_partner("welcome-kitchen", "Welcome Kitchen")
    await sign_in_organiser(client)
    await post_form(client, "/manage/events/new", event_form())

    refused = await post_form(client, f"/manage/events/{SLUG}/status/publish", {})
    assert refused.status_code == 422 and "Add at least one ticket type" in refused.text
    # The draft's dashboard says what publishing still needs, each with its page, and links to no public page yet.
    draft = await client.get(f"/manage/events/{SLUG}")
    assert f'<a href="/manage/events/{SLUG}/tickets">Add at least one ticket type</a>' in draft.text
    assert f'href="/manage/events/{SLUG}/partners">Say which partner projects benefit' in draft.text
    assert f'href="/events/{SLUG}"' not in draft.text and f'href="/manage/events/{SLUG}/status/publish"' not in draft.text

    bad_price = await post_form(client, f"/manage/events/{SLUG}/tickets", {"name": "Supper", "price": "thirty", "channel": "both"})
    assert bad_price.status_code == 422 and re.search(r'id="price"[^>]*aria-invalid="true"', bad_price.text)
    assert 'value="Supper"' in bad_price.text
    for name, price, channel in (("Supper", "30", "both"), ("Supper and drinks", "42.50", "online")):
        added = await post_form(client, f"/manage/events/{SLUG}/tickets", {"name": name, "price": price, "channel": channel, "max_per_order": "6"})
        assert added.status_code == 303
    types = await TicketType.select(TicketType.name, TicketType.price_pence, TicketType.channel).order_by(TicketType.id)
    assert [(t["name"], t["price_pence"], t["channel"]) for t in types] == [("Supper", 3000, "both"), ("Supper and drinks", 4250, "online")]

    # A new partner project made inline, then the split.
    assert (await post_form(client, f"/manage/events/{SLUG}/partners/new", {"name": "Welcome Cinema", "website": "not a url"})).status_code == 422
    assert (
        await post_form(client, f"/manage/events/{SLUG}/partners/new", {"name": "Welcome Cinema", "website": "https://cinema.example"})
    ).status_code == 303
    short = await post_form(
        client,
        f"/manage/events/{SLUG}/partners/shares",
        {"partner_0": "welcome-kitchen", "share_0": "60", "partner_1": "welcome-cinema", "share_1": "30"},
    )
    assert short.status_code == 422 and "The shares add up to 90%; they must add up to exactly 100%." in short.text
    assert 'value="60"' in short.text and await BeneficiaryShare.count() == 0
    split = await post_form(
        client,
        f"/manage/events/{SLUG}/partners/shares",
        {"partner_0": "welcome-kitchen", "share_0": "70", "partner_1": "welcome-cinema", "share_1": "30"},
    )
    assert split.status_code == 303
    shares = await BeneficiaryShare.select(BeneficiaryShare.partner.slug, BeneficiaryShare.share_bp).order_by(
        BeneficiaryShare.share_bp, ascending=False
    )
    assert [(s["partner.slug"], s["share_bp"]) for s in shares] == [("welcome-kitchen", 7000), ("welcome-cinema", 3000)]

    ready = await client.get(f"/manage/events/{SLUG}")
    assert "2 ticket types: done" in ready.text and "2 partner projects&#39; shares: done" in ready.text
    assert f'<a class="button" href="/manage/events/{SLUG}/status/publish">Publish this event</a>' in ready.text
    confirm = await client.get(f"/manage/events/{SLUG}/status/publish")
    assert confirm.status_code == 200 and "Publish and open sales" in confirm.text
    published = await post_form(client, f"/manage/events/{SLUG}/status/publish", {})
    assert published.status_code == 303
    assert (await Event.select(Event.status).where(Event.slug == SLUG).first())["status"] == "on_sale"
    assert (await client.get(f"/events/{SLUG}")).status_code == 200
    twice = await post_form(client, f"/manage/events/{SLUG}/status/publish", {})
    assert twice.status_code == 409 and "An event that is on sale cannot do this." in twice.text
    closed = await post_form(client, f"/manage/events/{SLUG}/status/close", {})
    assert closed.status_code == 303 and (await Event.select(Event.status).first())["status"] == "sales_closed"

    actions = [entry.action for entry in await list_entries()]
    assert actions[:2] == ["event.sales_closed", "event.published"]
    assert actions.count("ticket_type.created") == 2 and "event.shares_changed" in actions and "partner.created" in actions
    [shares_entry] = await list_entries(action="event.shares_changed")
    assert shares_entry.after == {"shares": {"welcome-kitchen": 7000, "welcome-cinema": 3000}}


async def test_ticket_types_are_edited_removed_when_unsold_and_otherwise_stopped(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000}, {"name": "Early bird", "price_pence": 2000}])
    await sign_in_organiser(client)
    [supper, early] = await TicketType.select().order_by(TicketType.id)

    edit = await client.get(f"/manage/events/{slug}/tickets/{supper['id']}/edit")
    assert 'value="30"' in edit.text
    changed = await post_form(
        client,
        f"/manage/events/{slug}/tickets/{supper['id']}/edit",
        {"name": "Supper", "price": "32.50", "channel": "both", "quota": "25", "max_per_order": "4"},
    )
    assert changed.status_code == 303
    supper = await TicketType.select().where(TicketType.id == supper["id"]).first()
    assert (supper["price_pence"], supper["quota"], supper["max_per_order"]) == (3250, 25, 4)
    [updated] = await list_entries(action="ticket_type.updated")
    assert updated.before == {"price_pence": 3000, "quota": None, "max_per_order": 10} and updated.after["price_pence"] == 3250

    created = (await place_order(client, slug, type_name="Supper")).json()
    await pay_with_test_page(client, created)
    refused = await post_form(client, f"/manage/events/{slug}/tickets/{supper['id']}/remove", {})
    assert refused.status_code == 409 and "Stop its sales instead" in refused.text
    assert await TicketType.count() == 2
    page = await client.get(f"/manage/events/{slug}/tickets")
    assert f"/tickets/{supper['id']}/stop" in page.text and f"/tickets/{early['id']}/remove" in page.text

    assert (await post_form(client, f"/manage/events/{slug}/tickets/{supper['id']}/stop", {})).status_code == 303
    public = (await client.get(f"/api/events/{slug}")).json()
    assert [t["on_sale"] for t in public["ticket_types"] if t["name"] == "Supper"] == [False]
    assert (await post_form(client, f"/manage/events/{slug}/tickets/{early['id']}/remove", {})).status_code == 303
    assert [t["name"] for t in await TicketType.select(TicketType.name)] == ["Supper"]
    actions = {entry.action for entry in await list_entries()}
    assert {"ticket_type.sales_stopped", "ticket_type.removed"} <= actions


async def test_costs_are_recorded_and_corrected_with_negative_entries(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    zero = await post_form(client, f"/manage/events/{slug}/partners/costs", {"cost_description": "Hall hire", "amount": "0"})
    assert zero.status_code == 422 and re.search(r'id="amount"[^>]*aria-invalid="true"', zero.text)
    for description, amount in (("Hall hire", "120"), ("Hall hire refund of deposit", "-20.50")):
        assert (
            await post_form(client, f"/manage/events/{slug}/partners/costs", {"cost_description": description, "amount": amount})
        ).status_code == 303
    assert sorted(c["amount_pence"] for c in await EventCost.select()) == [-2050, 12000]
    page = await client.get(f"/manage/events/{slug}/partners")
    assert "£99.50" in page.text
    assert len(await list_entries(action="event_cost.recorded")) == 2


async def test_claim_links_are_created_shown_with_a_qr_and_revoked(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    empty = await post_form(client, f"/manage/events/{slug}/claims", {"partner_name": "", "places": "4"})
    assert empty.status_code == 422 and re.search(r'id="partner_name"[^>]*aria-invalid="true"', empty.text)
    created = await post_form(client, f"/manage/events/{slug}/claims", {"partner_name": "Women's Drop-in", "places": "4"})
    assert created.status_code == 303
    code = (await ClaimCode.select(ClaimCode.code).first())["code"]
    page = await client.get(f"/manage/events/{slug}/claims")
    assert f"/claim/{code}" in page.text and "<svg" in page.text and "0 of 4 places claimed" in page.text

    assert (await client.post("/api/claims", json={"code": code, "name": "Leila"})).status_code in (200, 201)
    assert "1 of 4 places claimed" in (await client.get(f"/manage/events/{slug}/claims")).text
    # A claimed reserved place cannot be taken away by lowering the reserved number below it.
    fewer = await client.patch(
        f"/api/events/{slug}",
        json={"reserved_free_places": 0},
        headers={"Authorization": f"Bearer {await accounts.create_api_token('boss@test.example', now=now)}"},
    )
    assert fewer.status_code == 422 and "already claimed" in fewer.json()["fields"]["reserved_free_places"]

    assert (await post_form(client, f"/manage/events/{slug}/claims/{code}/revoke", {})).status_code == 303
    assert (await client.post("/api/claims", json={"code": code, "name": "Nour"})).status_code == 404
    log = await list_entries()
    assert {"claim_link.created", "claim_link.revoked"} <= {entry.action for entry in log}
    assert all(code not in str(entry) for entry in log)  # the link's key never reaches the log

    # A link that closes by itself: the time is read at the venue, shown with the link, and a bad one is refused.
    garbled = await post_form(client, f"/manage/events/{slug}/claims", {"partner_name": "Shelter", "places": "2", "closes_at": "next tuesday"})
    assert garbled.status_code == 422 and re.search(r'id="closes_at"[^>]*aria-invalid="true"', garbled.text)
    closes = (now + timedelta(days=2)).astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")
    timed = await post_form(client, f"/manage/events/{slug}/claims", {"partner_name": "Shelter", "places": "2", "closes_at": closes})
    assert timed.status_code == 303
    stored = (await ClaimCode.select(ClaimCode.closes_at).where(ClaimCode.partner_name == "Shelter").first())["closes_at"]
    assert stored.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M") == closes
    assert "closes " in (await client.get(f"/manage/events/{slug}/claims")).text

    bad = await post_form(client, f"/manage/events/{slug}/claims/free-place", {"name": "", "email": "x"})
    assert bad.status_code == 422
    given = await post_form(client, f"/manage/events/{slug}/claims/free-place", {"name": "Samir", "email": "samir@example.org"})
    assert given.status_code == 303
    gift = await Order.select().where(Order.channel == "gift").first()
    assert gift["buyer_name"] == "Samir" and gift["total_pence"] == 0
    [entry] = await list_entries(action="free_place.given")
    assert entry.subject_id == gift["reference"] and "Samir" not in str(entry)


async def test_door_staff_are_created_assigned_removed_and_phones_paired(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).first())["id"]
    volunteer = await accounts.create_user("amal@test.example", role="door", password=None, display_name="Amal")
    await sign_in_organiser(client)

    page = await client.get(f"/manage/events/{slug}/door-staff")
    assert "Amal (amal@test.example)" in page.text
    assert (await post_form(client, f"/manage/events/{slug}/door-staff/assign", {"user": str(volunteer.id)})).status_code == 303

    short = await post_form(
        client, f"/manage/events/{slug}/door-staff/new", {"display_name": "Yusuf", "email": "yusuf@test.example", "password": "short"}
    )
    assert short.status_code == 422 and re.search(r'id="password"[^>]*aria-invalid="true"', short.text)
    assert 'value="short"' not in short.text and 'value="yusuf@test.example"' in short.text
    made = await post_form(
        client, f"/manage/events/{slug}/door-staff/new", {"display_name": "Yusuf", "email": "yusuf@test.example", "password": "door-password-1"}
    )
    assert made.status_code == 303
    assert await DoorAssignment.count().where(DoorAssignment.event == event_id) == 2
    yusuf = await accounts.authenticate("yusuf@test.example", "door-password-1", client="test", now=now)
    assert yusuf is not None and yusuf.role == "door"
    taken = await post_form(
        client, f"/manage/events/{slug}/door-staff/new", {"display_name": "Again", "email": "yusuf@test.example", "password": "door-password-1"}
    )
    assert taken.status_code == 409 and re.search(r'id="email"[^>]*aria-invalid="true"', taken.text)

    assert (await post_form(client, f"/manage/events/{slug}/door-staff/{volunteer.id}/remove", {})).status_code == 303
    assert [a["user"] for a in await DoorAssignment.select(DoorAssignment.user)] == [yusuf.id]

    paired = await post_form(client, f"/door/{slug}/pairings", {"device": "Door 2 phone"})
    assert paired.status_code == 201 and "<svg" in paired.text
    pairing_code = re.search(r"/door/pair/([A-Za-z0-9_-]+)", paired.text).group(1)  # type: ignore[union-attr]
    log = await list_entries(event_id=event_id)
    actions = [entry.action for entry in log]
    assert actions.count("door_staff.assigned") == 2 and "door_staff.removed" in actions and "door_staff.created" in actions
    assert "door.pairing_created" in actions
    assert all(pairing_code not in str(entry) and "door-password-1" not in str(entry) for entry in log)


async def test_claim_link_places_and_door_staff_ids_that_are_not_plain_digits_are_refused(client: httpx.AsyncClient, now: datetime) -> None:
    """'²' and Arabic-Indic one pass str.isdigit(); int() refuses the first and a 5,000-digit number: a 422, not a 500."""
    slug = await make_event(now)
    await sign_in_organiser(client)
    for typed in ("²", "\u0661", "9" * 5000):
        places = await post_form(client, f"/manage/events/{slug}/claims", {"partner_name": "Drop-in", "places": typed})
        assert places.status_code == 422 and "Enter a number of places" in places.text, typed[:10]
        user = await post_form(client, f"/manage/events/{slug}/door-staff/assign", {"user": typed})
        assert user.status_code == 422, typed[:10]
    assert await ClaimCode.count() == 0 and await DoorAssignment.count() == 0
