"""A Gift Aid declaration made when donating a refund ("Can't come?", a cancelled event) is the guest's data like an
order's declaration: found and exported with their orders, kept for HMRC's period when their data is erased (on
request or after the event), then erased by the worker; the schedule and the statements read the same throughout."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event
from events.orders.gift_aid import CONFIRMATION_STATEMENT
from events.orders.tables import Order
from events.payments.tables import RefundDonation
from events.privacy import service as privacy
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.ledger.test_donated_refunds import schedule_rows
from tests.integration.privacy.test_guest_data import ended
from tests.integration.releases.test_releases import GIFT_AID
from tests.support.orders import pay_with_test_page, place_order


async def first_ticket(reference: str) -> int:
    row = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == reference).order_by(Ticket.id).first()
    return int(row["id"])


async def donate(client: httpx.AsyncClient, slug: str, name: str, email: str, gift_aid: dict[str, Any] | None = None) -> str:
    created = (await place_order(client, slug, quantity=2, buyer={"name": name, "email": email})).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    body: dict[str, Any] = {"choice": "donate"} | ({"gift_aid": gift_aid} if gift_aid else {})
    response = await client.post(
        f"/api/tickets/{await first_ticket(created['reference'])}/release", json=body, headers={"Authorization": f"Bearer {created['access_token']}"}
    )
    assert response.status_code == 200, response.text
    return str(created["reference"])


async def declarations() -> list[dict[str, Any]]:
    return (
        await RefundDonation.select(
            RefundDonation.order_id.reference,
            RefundDonation.gift_aid_first_name,
            RefundDonation.gift_aid_last_name,
            RefundDonation.gift_aid_house,
            RefundDonation.gift_aid_postcode,
            RefundDonation.amount_pence,
        )
        .where(RefundDonation.gift_aid_statement != "")
        .order_by(RefundDonation.id)
    )


async def test_a_donated_refunds_declaration_is_found_exported_and_kept_for_hmrc_then_erased(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    organisation = (await Event.select(Event.organisation).where(Event.slug == slug).first())["organisation"]
    amal = await donate(client, slug, "Amal Haddad", "amal@example.org", GIFT_AID)
    yusuf = await donate(client, slug, "Yusuf Karimi", "yusuf@example.net")
    # A declaration stored with a donation whose refund was not offered (by hand, or by an earlier version) backs no
    # claim: it is not kept for HMRC.
    await RefundDonation.update(
        {
            RefundDonation.gift_aid_first_name: "Yusuf",
            RefundDonation.gift_aid_last_name: "Karimi",
            RefundDonation.gift_aid_house: "3",
            RefundDonation.gift_aid_postcode: "E1 6AN",
            RefundDonation.gift_aid_statement: CONFIRMATION_STATEMENT,
            RefundDonation.refund_offered: False,
        }
    ).where(RefundDonation.order_id.reference == yusuf)

    guest = await privacy.find_guest("amal@example.org", organisation_id=organisation)
    assert [order.reference for order in guest.orders] == [amal] and guest.declarations == 1
    document = await privacy.export_guest("amal@example.org", [amal], organisation_id=organisation, now=now)
    [declaration] = document.gift_aid_declarations
    assert (declaration.order, declaration.first_name, declaration.last_name, declaration.house, declaration.postcode) == (
        amal,
        "Amal",
        "Haddad",
        "12",
        "SW1A 1AA",
    )
    assert declaration.donated_refund and declaration.eligible_pence == 3000 and declaration.statement == CONFIRMATION_STATEMENT
    assert now <= declaration.declared_at < now + timedelta(minutes=5)  # the day the guest chose

    schedule = await schedule_rows(client, organiser, now)
    assert [(row[1], row[2], row[8]) for row in schedule] == [("Amal", "Haddad", "30.00")]
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()

    # Erased on request: the order's name and email go, the declaration HMRC needs stays.
    erased = await privacy.erase_guest("amal@example.org", [amal], organisation_id=organisation, now=now)
    assert (erased.orders, erased.gift_aid_kept, erased.gift_aid_erased) == (1, 1, 0)
    assert (await Order.select(Order.buyer_name).where(Order.reference == amal).first())["buyer_name"] == ""
    assert [(row["order_id.reference"], row["gift_aid_last_name"]) for row in await declarations()] == [(amal, "Haddad"), (yusuf, "Karimi")]

    # The worker, after the event: Yusuf's (never claimable) declaration goes with his data, Amal's stays.
    await ended(slug, 91, now)
    assert await privacy.erase_expired(now, retention_days=90) == 1  # Yusuf's order (Amal's was erased already)
    assert [(row["order_id.reference"], row["gift_aid_first_name"], row["gift_aid_postcode"]) for row in await declarations()] == [
        (amal, "Amal", "SW1A 1AA"),
        (yusuf, "", ""),
    ]
    assert await schedule_rows(client, organiser, now) == schedule
    assert (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json() == reconciliation

    # Still kept the day before seven years are up; erased by the worker once they are, once.
    await privacy.erase_expired(now + timedelta(days=7 * 365), retention_days=90)
    assert (await declarations())[0]["gift_aid_last_name"] == "Haddad"
    await privacy.erase_expired(now + timedelta(days=7 * 366), retention_days=90)
    await privacy.erase_expired(now + timedelta(days=7 * 366 + 1), retention_days=90)
    assert [row | {"order_id.reference": ""} for row in await declarations()] == [
        {
            "order_id.reference": "",
            "gift_aid_first_name": "",
            "gift_aid_last_name": "",
            "gift_aid_house": "",
            "gift_aid_postcode": "",
            "amount_pence": 3000,
        }
    ] * 2
    [expired] = await AuditEntry.select(AuditEntry.after).where(AuditEntry.action == "gift_aid.records_expired")
    assert (expired["after"] if isinstance(expired["after"], dict) else json.loads(expired["after"]))["declarations"] == 1
    # The donation is still in the schedule for its day (without the name) and the statements do not move.
    assert [(row[1], row[2], row[8]) for row in await schedule_rows(client, organiser, now)] == [("", "", "30.00")]
    assert (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json() == reconciliation
