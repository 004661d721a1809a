"""People on waiting lists: their names and contact details are erased with the event's other guest data after the
event (their place and counts stay), and a guest asking for their data finds, downloads and erases their entries."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event
from events.privacy import service as privacy
from events.waitlist import organiser
from events.waitlist.statuses import WaitingStatus
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.waitlist import add_waiting_entry


async def ended(slug: str, days_ago: int, now: datetime) -> None:
    ends = now - timedelta(days=days_ago)
    await Event.update({Event.starts_at: ends - timedelta(hours=3), Event.ends_at: ends}).where(Event.slug == slug)


async def contact_details(slug: str) -> list[tuple[str, str, str]]:
    rows = await WaitingEntry.select(WaitingEntry.name, WaitingEntry.email, WaitingEntry.phone).where(WaitingEntry.event.slug == slug)
    return sorted((row["name"], row["email"], row["phone"]) for row in rows if any(row.values()))


async def test_the_worker_erases_waiting_lists_after_the_retention_period_and_not_before(client: httpx.AsyncClient, now: datetime) -> None:
    old = await make_event(now, slug="spring-supper")
    recent = await make_event(now, slug="summer-supper")
    await add_waiting_entry(old, now=now, name="Amal Haddad", email="amal@example.org", quantity=2)
    await add_waiting_entry(old, now=now, name="Leila", phone="+447911123123", partner="Drop-in")
    await add_waiting_entry(old, now=now, name="Bea", email="bea@example.org", status=WaitingStatus.accepted)
    await add_waiting_entry(recent, now=now, name="Yusuf Karimi", email="yusuf@example.net")
    await ended(old, 91, now)
    await ended(recent, 89, now)
    counts_before = (await organiser.waiting_list(old)).partners

    assert await privacy.erase_expired(now, retention_days=90) == 3
    assert await contact_details(old) == []
    assert await contact_details(recent) == [("Yusuf Karimi", "yusuf@example.net", "")]  # ended 89 days ago: not yet
    listed = await organiser.waiting_list(old)
    assert [(entry.status, entry.quantity) for entry in listed.entries] == [("waiting", 2), ("accepted", 1), ("waiting", 1)]
    assert listed.partners == counts_before  # the counts per referral partner read the same
    [logged] = await list_entries(action="guest_data.expired")
    assert logged.after == {"waiting_entries": 3, "retention_days": 90}

    assert await privacy.erase_expired(now, retention_days=90) == 0  # nothing left, nothing logged
    assert await AuditEntry.count().where(AuditEntry.action == "guest_data.expired") == 1
    assert await privacy.erase_expired(now + timedelta(days=2), retention_days=90) == 1


async def test_a_guest_on_a_waiting_list_is_found_exported_and_erased_on_request(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    amal = await add_waiting_entry(slug, now=now, name="Amal Haddad", email="Amal@Example.org", quantity=2)
    other = await add_waiting_entry(slug, now=now, name="Yusuf Karimi", email="yusuf@example.net")
    leila = await add_waiting_entry(slug, now=now, name="Leila", phone="+447911123123", partner="Drop-in")
    await sign_in_organiser(client)

    found = await post_form(client, "/manage/guests", {"contact": "amal@example.org"}, page="/manage/guests")
    assert found.status_code == 200 and "Amal Haddad" in found.text and "Yusuf" not in found.text
    assert f'name="waiting" value="{amal}" checked' in found.text
    by_phone = await post_form(client, "/manage/guests", {"contact": "07911 123123"}, page="/manage/guests")
    assert by_phone.status_code == 200 and f'name="waiting" value="{leila}"' in by_phone.text

    export = await post_form(client, "/manage/guests/export", {"contact": "amal@example.org", "waiting": [str(amal)]}, page="/manage/guests")
    assert export.status_code == 200, export.text
    document = export.json()
    [entry] = document["waiting_lists"]
    assert (entry["name"], entry["email"], entry["quantity"], entry["status"], entry["ticket_type"]) == (
        "Amal Haddad",
        "Amal@Example.org",
        2,
        "waiting",
        "Supper",
    )
    assert document["orders"] == [] and "token" not in entry
    # Someone else's entry, named in the form, is neither exported nor erased.
    assert (
        await post_form(client, "/manage/guests/export", {"contact": "amal@example.org", "waiting": [str(other)]}, page="/manage/guests")
    ).status_code == 422

    erased = await post_form(
        client, "/manage/guests/erase", {"contact": "amal@example.org", "waiting": [str(amal), str(other)], "confirm": "yes"}, page="/manage/guests"
    )
    assert erased.status_code == 200 and "1 place on a waiting list no longer holds a name or contact details." in erased.text
    row = await WaitingEntry.select(WaitingEntry.name, WaitingEntry.email, WaitingEntry.status).where(WaitingEntry.id == amal).first()
    assert row == {"name": "", "email": "", "status": "left"}  # nobody could tell them of an offer
    assert (await WaitingEntry.select(WaitingEntry.name).where(WaitingEntry.id == other).first())["name"] == "Yusuf Karimi"
    [logged] = await list_entries(action="guest_data.erased")
    assert logged.after["waiting_entries"] == [amal] and "Amal" not in repr(logged.after)
    assert (await post_form(client, "/manage/guests", {"contact": "amal@example.org"}, page="/manage/guests")).status_code == 404
