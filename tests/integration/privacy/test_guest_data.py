"""Guests' personal data: erased by the worker a set number of days after the event (not before), and
exported or erased for one guest on request; statements, reconciliation and door counts do not move."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event
from events.orders.tables import GiftAidDeclaration, Order
from events.privacy import service as privacy
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.backoffice.test_orders import bought
from tests.integration.checkin.test_redeem import door_team, scan
from tests.support.backoffice import post_form, sign_in_organiser

AMAL_GIFT_AID = {"title": "Ms", "first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "e8 1dy", "confirmed": True}


async def ended(slug: str, days_ago: int, now: datetime) -> None:
    """Move an event into the past, as if it had happened."""
    ends = now - timedelta(days=days_ago)
    await Event.update({Event.starts_at: ends - timedelta(hours=3), Event.ends_at: ends}).where(Event.slug == slug)


async def personal_data(slug: str) -> dict[str, Any]:
    orders = await Order.select(Order.buyer_name, Order.buyer_email, Order.buyer_phone).where(Order.event.slug == slug)
    holders = await Ticket.select(Ticket.holder_name).where(Ticket.event.slug == slug)
    emails = await OutboxMessage.count().where(OutboxMessage.order_id.event.slug == slug)
    return {
        "names": sorted(({o["buyer_name"] for o in orders} | {t["holder_name"] for t in holders}) - {""}),
        "emails": sorted({o["buyer_email"] for o in orders} - {""}),
        "phones": sorted({o["buyer_phone"] for o in orders} - {""}),
        "outbox": emails,
    }


async def figures(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, door: dict[str, str]) -> dict[str, Any]:
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    counts = (await client.get(f"/api/checkin/events/{slug}/counts", headers=door)).json()
    return {"reconciliation": reconciliation, "counts": counts}


async def test_the_worker_erases_guests_after_the_retention_period_and_not_before(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    from events.tickets.views import tickets_of_order

    old = await make_event(now, slug="spring-supper")
    recent = await make_event(now, slug="summer-supper")
    amal = await bought(client, old, name="Amal Haddad", email="amal@example.org", quantity=2)
    await client.post("/api/events/spring-supper/orders", json={})  # noise: refused, writes nothing
    from tests.support.orders import pay_with_test_page, place_order

    donor = (
        await place_order(
            client, old, quantity=1, donation_pence=2000, gift_aid=AMAL_GIFT_AID, buyer={"name": "Amal Haddad", "email": "amal@example.org"}
        )
    ).json()
    await pay_with_test_page(client, donor)
    link = (await client.post(f"/api/events/{old}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()
    claim = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "phone": "07911 123123"})
    assert claim.status_code in (200, 201), claim.text
    await bought(client, recent, name="Yusuf Karimi", email="yusuf@example.net")
    door = await door_team(now, slug=old)
    [ticket, _] = await tickets_of_order(amal["reference"], secret_key=app.state.settings.secret_key, now=now)
    assert (await client.post("/api/checkin/redeem", json=scan(old, ticket.code), headers=door)).json()["status"] == "ok"
    await client.post(f"/api/events/{old}/costs", json={"description": "Venue", "amount_pence": 5000}, headers=organiser)
    await ended(old, 91, now)
    await ended(recent, 89, now)
    before = await figures(client, organiser, old, door)
    assert before["reconciliation"]["totals"]["net_pence"] != 0
    assert (await personal_data(old))["phones"] == ["+447911123123"]  # kept in E.164

    erased = await privacy.erase_expired(now, retention_days=90)
    assert erased == 3  # Amal's two orders and Leila's free place
    assert await personal_data(old) == {"names": [], "emails": [], "phones": [], "outbox": 0}
    assert (await personal_data(recent))["names"] == ["Yusuf Karimi"]  # ended 89 days ago: not yet
    assert await figures(client, organiser, old, door) == before
    assert await Ticket.count().where(Ticket.event.slug == old, Ticket.status == "valid") == 4
    # HMRC needs the declaration behind a Gift Aid claim for years yet: it is kept.
    declaration = await GiftAidDeclaration.select(GiftAidDeclaration.first_name, GiftAidDeclaration.postcode).first()
    assert declaration == {"first_name": "Amal", "postcode": "E8 1DY"}
    entries = await AuditEntry.select(AuditEntry.actor, AuditEntry.after, AuditEntry.event.slug).where(AuditEntry.action == "guest_data.expired")
    assert [(e["actor"], e["event.slug"]) for e in entries] == [("system", old)]
    after = entries[0]["after"]
    assert (json.loads(after) if isinstance(after, str) else after)["orders"] == 3

    assert await privacy.erase_expired(now, retention_days=90) == 0  # idempotent: nothing left, nothing logged
    assert await AuditEntry.count().where(AuditEntry.action == "guest_data.expired") == 1
    assert await privacy.erase_expired(now + timedelta(days=2), retention_days=90) == 1  # the recent event's turn

    seven_years_on = now + timedelta(days=7 * 366)
    await privacy.erase_expired(seven_years_on, retention_days=90)
    declaration = await GiftAidDeclaration.select(
        GiftAidDeclaration.first_name, GiftAidDeclaration.postcode, GiftAidDeclaration.eligible_pence
    ).first()
    assert declaration == {"first_name": "", "postcode": "", "eligible_pence": 2000}
    assert await AuditEntry.count().where(AuditEntry.action == "gift_aid.records_expired") == 1


async def test_the_worker_runs_the_erasure_job(app: Litestar, client: httpx.AsyncClient, now: datetime) -> None:
    from events.jobs.registry import periodic_jobs
    from events.jobs.worker import run_due_jobs

    slug = await make_event(now, slug="autumn-supper")
    await bought(client, slug, name="Amal Haddad", email="amal@example.org")
    await ended(slug, app.state.settings.retention_days + 1, now)
    jobs = [job for job in periodic_jobs(app.state.gateways.environment, app.state.settings) if job.name == "erase-guest-data"]
    assert await run_due_jobs(jobs, now=now, holder="test") == ["erase-guest-data"]
    assert (await personal_data(slug))["names"] == []


async def test_an_organiser_exports_then_erases_one_guest_on_request(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    from tests.support.orders import pay_with_test_page, place_order

    amal = (
        await place_order(
            client, slug, quantity=2, donation_pence=1000, gift_aid=AMAL_GIFT_AID, buyer={"name": "Amal Haddad", "email": "Amal@Example.org"}
        )
    ).json()
    await pay_with_test_page(client, amal)
    other = await bought(client, slug, name="Yusuf Karimi", email="yusuf@example.net")
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    await sign_in_organiser(client)

    missing = await post_form(client, "/manage/guests", {"contact": "nobody@example.org"}, page="/manage/guests")
    assert missing.status_code == 404 and "We hold no orders for that email address." in missing.text
    malformed = await post_form(client, "/manage/guests", {"contact": "not an email"}, page="/manage/guests")
    assert malformed.status_code == 422 and 'aria-invalid="true"' in malformed.text
    found = await post_form(client, "/manage/guests", {"contact": " amal@example.org "}, page="/manage/guests")
    assert found.status_code == 200 and amal["reference"] in found.text and other["reference"] not in found.text

    export = await post_form(client, "/manage/guests/export", {"contact": "amal@example.org", "orders": [amal["reference"]]}, page="/manage/guests")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    document = export.json()
    [order] = document["orders"]
    assert order["reference"] == amal["reference"] and order["name"] == "Amal Haddad" and order["email"] == "Amal@Example.org"
    assert [t["holder_name"] for t in order["tickets"]] == ["Amal Haddad", "Amal Haddad"]
    assert order["payments"][0]["amount_pence"] == order["total_pence"]
    assert document["gift_aid_declarations"][0]["last_name"] == "Haddad"
    assert document["emails"] and document["emails"][0]["recipient"] == "Amal@Example.org"
    assert "secret" not in json.dumps(document) and "yusuf" not in json.dumps(document).lower()
    [exported] = await AuditEntry.select(AuditEntry.actor, AuditEntry.after).where(AuditEntry.action == "guest_data.exported")
    assert exported["actor"] == "Sam Organiser" and "amal@" not in str(exported).lower()

    unconfirmed = await post_form(
        client, "/manage/guests/erase", {"contact": "amal@example.org", "orders": [amal["reference"]]}, page="/manage/guests"
    )
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.text
    assert f'value="{amal["reference"]}" checked' in unconfirmed.text  # the ticked orders stay ticked
    none_ticked = await post_form(client, "/manage/guests/erase", {"contact": "amal@example.org", "confirm": "yes"}, page="/manage/guests")
    assert none_ticked.status_code == 422 and "Tick at least one order." in none_ticked.text
    assert (await Order.select(Order.buyer_name).where(Order.reference == amal["reference"]).first())["buyer_name"] == "Amal Haddad"

    erased = await post_form(
        client, "/manage/guests/erase", {"contact": "amal@example.org", "orders": [amal["reference"]], "confirm": "yes"}, page="/manage/guests"
    )
    assert erased.status_code == 200 and "personal data was erased" in erased.text
    assert "1 Gift Aid declaration is kept" in erased.text
    row = await Order.select(Order.buyer_name, Order.buyer_email, Order.status).where(Order.reference == amal["reference"]).first()
    assert row == {"buyer_name": "", "buyer_email": "", "status": "paid"}
    assert await Ticket.count().where(Ticket.order_id.reference == amal["reference"], Ticket.holder_name != "") == 0
    assert await OutboxMessage.count().where(OutboxMessage.order_id.reference == amal["reference"]) == 0
    assert (await Order.select(Order.buyer_name).where(Order.reference == other["reference"]).first())["buyer_name"] == "Yusuf Karimi"
    assert (await GiftAidDeclaration.select(GiftAidDeclaration.last_name).first())["last_name"] == "Haddad"
    assert (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json() == reconciliation
    [entry] = await AuditEntry.select(AuditEntry.actor, AuditEntry.after, AuditEntry.event.slug).where(AuditEntry.action == "guest_data.erased")
    assert entry["actor"] == "Sam Organiser" and entry["event.slug"] == slug
    again = await post_form(client, "/manage/guests", {"contact": "amal@example.org"}, page="/manage/guests")
    assert again.status_code == 404  # nothing is held under that address any more


async def test_a_guest_who_claimed_with_only_a_phone_number_is_found_by_it_however_it_is_written(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Free places ask for a first name and an email or a phone number. A guest who gave only a phone number
    can still have their data sent or erased; the number is matched whether written with 0 or +44, spaced or
    not. Guests can share a number (a drop-in centre's): each order shows its name, and only the orders the
    organiser ticks are exported or erased."""
    slug = await make_event(now)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 4}, headers=organiser)).json()
    for name, phone in (("Leila", "07911 123123"), ("Omid", "07911 123456"), ("Samira", "+447911123123")):
        claimed = await client.post("/api/claims", json={"code": link["code"], "name": name, "phone": phone})
        assert claimed.status_code in (200, 201), claimed.text
    references = {
        row["buyer_name"]: row["reference"] for row in await Order.select(Order.buyer_name, Order.reference).where(Order.event.slug == slug)
    }
    await sign_in_organiser(client)

    found = await post_form(client, "/manage/guests", {"contact": "+44 (0)7911-123123"}, page="/manage/guests")
    assert found.status_code == 200, found.text
    assert references["Leila"] in found.text and references["Samira"] in found.text and references["Omid"] not in found.text
    assert "These orders carry different names" in found.text
    # With names that differ nothing starts ticked: the organiser chooses the guest's own orders.
    boxes = re.findall(r'<input type="checkbox" name="orders" value="([^"]+)"([^>]*)>', found.text)
    assert len(boxes) == 2 and {ref for ref, attributes in boxes if "checked" not in attributes} == {references["Leila"], references["Samira"]}
    export = await post_form(client, "/manage/guests/export", {"contact": "+447911123123", "orders": [references["Leila"]]}, page="/manage/guests")
    [order] = export.json()["orders"]
    assert order["name"] == "Leila" and order["phone"] == "+447911123123" and order["channel"] == "claim"
    assert "Samira" not in export.text
    sneaky = await post_form(client, "/manage/guests/export", {"contact": "07911 123123", "orders": [references["Omid"]]}, page="/manage/guests")
    assert sneaky.status_code == 422  # an order not held under that number is not exported with it
    missing = await post_form(client, "/manage/guests", {"contact": "07911 123999"}, page="/manage/guests")
    assert missing.status_code == 404 and "We hold no orders for that phone number." in missing.text
    nonsense = await post_form(client, "/manage/guests", {"contact": "12"}, page="/manage/guests")
    assert nonsense.status_code == 422 and "or the phone number the guest booked with" in nonsense.text

    erased = await post_form(
        client, "/manage/guests/erase", {"contact": "07911123123", "orders": [references["Leila"]], "confirm": "yes"}, page="/manage/guests"
    )
    assert erased.status_code == 200 and "personal data was erased" in erased.text
    left = {row["buyer_name"]: row["buyer_phone"] for row in await Order.select(Order.buyer_name, Order.buyer_phone).where(Order.event.slug == slug)}
    assert left == {"": "", "Omid": "+447911123456", "Samira": "+447911123123"}  # Samira shares the number: hers stays
    entries = await AuditEntry.select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action.like("guest_data.%"))
    assert entries and "7911" not in str(entries) and "Leila" not in str(entries)
    again = await post_form(client, "/manage/guests", {"contact": "07911 123123"}, page="/manage/guests")
    assert again.status_code == 200 and references["Samira"] in again.text and references["Leila"] not in again.text
