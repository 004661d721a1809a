"""Organisers browse the audit log: who did what and when, before and after, filtered by action and paged,
for every event or one (an event's door scans: tests/integration/checkin/test_scan_log.py)."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
from litestar import Litestar

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event
from tests.factories import make_event
from tests.integration.backoffice.test_orders import bought
from tests.support import audit as audit_support
from tests.support.backoffice import post_form, sign_in_organiser


async def test_the_log_shows_who_what_and_before_and_after_filtered_and_paged(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now)
    other = await make_event(now, slug="winter-supper")
    amal = await bought(client, slug, name="Amal Haddad", email="amal@example.org", quantity=2)
    yusuf = await bought(client, other, name="Yusuf Karimi", email="yusuf@example.net")
    await sign_in_organiser(client)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    # Setting the events up is audited too (event.created); count what the order actions add to it.
    earlier = await AuditEntry.count()
    earlier_here = await AuditEntry.count().where(AuditEntry.event == event_id)
    page = f"/manage/orders/{amal['reference']}"
    assert (
        await post_form(client, f"{page}/refund", {"scope": "part", "amount": "5", "reason": "Late", "confirm": "yes"}, page=page)
    ).status_code == 303
    assert (await post_form(client, f"{page}/resend", {}, page=page)).status_code == 303
    other_page = f"/manage/orders/{yusuf['reference']}"
    assert (await post_form(client, f"{other_page}/resend", {}, page=other_page)).status_code == 303

    everything = await client.get("/manage/audit")
    assert everything.status_code == 200
    assert f"{earlier + 3} entries." in everything.text and "order refunded" in everything.text and "Sam Organiser" in everything.text
    # refunded_pence 0 -> 500, as an organiser reads it
    assert (
        '<span class="change-key">refunded</span>: <span class="before" dir="auto">£0</span> → <span class="after" dir="auto">£5</span>'
        in everything.text
    )
    assert 'aria-current="page">Audit log' in everything.text
    one_event = await client.get(f"/manage/events/{slug}/audit")
    assert f"{earlier_here + 2} entries." in one_event.text and yusuf["reference"] not in one_event.text
    refunds_only = await client.get(f"/manage/events/{slug}/audit", params={"action": "order.refunded"})
    assert "1 entry." in refunds_only.text and 'data-action="order.tickets_resent"' not in refunds_only.text
    unknown_action = await client.get("/manage/audit", params={"action": "<script>"})
    assert unknown_action.status_code == 200 and f"{earlier + 3} entries." in unknown_action.text and "<script>" not in unknown_action.text

    first = await audit_support.audit_page(event_id, page=1, per_page=1)
    second = await audit_support.audit_page(event_id, page=2, per_page=1)
    assert (first.pages, first.entries[0].action, second.entries[0].action) == (
        earlier_here + 2,
        "order.tickets_resent",
        "order.refunded",
    )
    assert second.entries[0].changes[0][0] in {"refunded_pence", "status", "refund_pence", "reason", "tickets_refunded"}
    beyond = await audit_support.audit_page(event_id, page=99, per_page=1)
    assert beyond.page == earlier_here + 2  # clamped to the last page


async def test_door_sales_and_device_set_up_are_recorded_with_the_door_person_and_device(client: httpx.AsyncClient, now: datetime) -> None:
    from tests.integration.door_sales.test_door_sales import club_night, door_headers
    from tests.support.orders import ticket_type_id

    slug = await club_night(now)
    door = await door_headers(now, slug)
    door_type = await ticket_type_id(client, slug, "Door")
    sale = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 2}], "payment_method": "cash"}, headers=door
    )
    assert sale.status_code == 201, sale.text
    [entry] = await AuditEntry.select(AuditEntry.actor, AuditEntry.subject_id, AuditEntry.after).where(AuditEntry.action == "door.sale")
    assert entry["actor"] == "Door 1" and entry["subject_id"] == sale.json()["reference"]
    after = json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]
    assert after == {"places": 2, "total_pence": 1800, "payment_method": "cash"}

    await sign_in_organiser(client)
    registered = await post_form(client, f"/door/{slug}/device", {"device": "Front door phone"}, page=f"/door/{slug}")
    assert registered.status_code == 200, registered.text
    paired = await post_form(client, f"/door/{slug}/pairings", {"device": "Back door phone"}, page=f"/door/{slug}")
    assert paired.status_code == 201
    log = await client.get(f"/manage/events/{slug}/audit")
    assert "door pairing created" in log.text and "Back door phone" in log.text and "door sale" in log.text
    everything = await client.get("/manage/audit", params={"action": "door.device_registered"})
    assert "1 entry." in everything.text and "Front door phone" in everything.text and "Sam Organiser" in everything.text
