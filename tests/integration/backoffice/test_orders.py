"""The organiser's order pages: finding orders, one order in full, resending, changing a holder, refunding,
and the attendee list, all through the browser's forms (CSRF tokens included), each action audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.accounts import service as accounts
from events.audit.tables import AuditEntry
from events.orders.tables import Order
from events.payments.tables import Refund
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.checkin.test_redeem import door_team, scan
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order

PASSWORD = "a long password"


async def bought(client: httpx.AsyncClient, slug: str, *, name: str, email: str, quantity: int = 1) -> dict[str, Any]:
    created = (await place_order(client, slug, quantity=quantity, buyer={"name": name, "email": email})).json()
    assert (await pay_with_test_page(client, created)).status_code in (200, 303)
    return created


async def audit_entries(action: str) -> list[dict[str, Any]]:
    import json

    rows = await AuditEntry.select().where(AuditEntry.action == action).order_by(AuditEntry.id)
    for row in rows:
        for key in ("before", "after"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return rows


@pytest.fixture
async def supper(client: httpx.AsyncClient, now: datetime) -> str:
    return await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}], booking_fee_pence=100)


async def test_only_organisers_reach_the_order_pages(client: httpx.AsyncClient, supper: str, now: datetime) -> None:
    anonymous = await client.get(f"/manage/events/{supper}/orders", headers={"accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    await accounts.create_user("door@test.example", role="door", password=PASSWORD)
    await sign_in(client, "door@test.example", PASSWORD)
    for path in (f"/manage/events/{supper}/orders", f"/manage/events/{supper}/attendees.csv", "/manage/audit", "/manage/guests"):
        assert (await client.get(path)).status_code == 403, path


async def test_search_finds_orders_by_name_email_or_reference_and_pages(client: httpx.AsyncClient, supper: str) -> None:
    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org", quantity=2)
    await bought(client, supper, name="Yusuf Karimi", email="yusuf@example.net")
    await place_order(client, supper, quantity=1, buyer={"name": "Nadia Held", "email": "nadia@example.org"})  # pending
    await sign_in_organiser(client)
    listing = await client.get(f"/manage/events/{supper}/orders")
    assert listing.status_code == 200
    assert "3 orders." in listing.text and amal["reference"] in listing.text and "Nadia Held" in listing.text
    path = f"/manage/events/{supper}/orders"

    by_name = await post_form(client, path, {"q": "haddad"}, page=path)
    assert by_name.status_code == 200 and "1 order matches" in by_name.text
    assert amal["reference"] in by_name.text and "Yusuf" not in by_name.text
    by_email = await post_form(client, path, {"q": "@EXAMPLE.NET"}, page=path)
    assert "Yusuf Karimi" in by_email.text and "Amal Haddad" not in by_email.text
    by_reference = await post_form(client, path, {"q": amal["reference"].replace("-", "").lower()}, page=path)
    assert "1 order matches" in by_reference.text and amal["reference"] in by_reference.text
    wildcard = await post_form(client, path, {"q": "%"}, page=path)
    assert "0 orders match" in wildcard.text  # LIKE wildcards are searched for literally
    assert "haddad" not in str(by_name.url)  # searches are posted: no guest's name in a URL
    pending = await client.get(path, params={"status": "pending"})
    assert "1 order." in pending.text and "Nadia Held" in pending.text and amal["reference"] not in pending.text
    paid_example = await post_form(client, path, {"q": "example.org", "status": "paid"}, page=path)
    assert "1 order matches" in paid_example.text and amal["reference"] in paid_example.text and "Nadia" not in paid_example.text

    from events.backoffice import orders

    first, second = await orders.search_orders(supper, "example", 1, per_page=2), await orders.search_orders(supper, "example", 2, per_page=2)
    assert (first.total, first.pages, len(first.orders), len(second.orders)) == (3, 2, 2, 1)
    assert {o.reference for o in first.orders}.isdisjoint({o.reference for o in second.orders})


async def test_search_takes_like_wildcards_and_backslashes_literally(client: httpx.AsyncClient, supper: str) -> None:
    literal = (await place_order(client, supper, quantity=1, buyer={"name": "Ana_Lyn 100% \\o/", "email": "ana@example.org"})).json()
    await place_order(client, supper, quantity=1, buyer={"name": "AnaXLyn 1000 o/", "email": "anax@example.org"})
    from events.backoffice import orders

    for query in ("a_l", "A_LYN", "100%", "\\o"):
        found = await orders.search_orders(supper, query)
        assert [order.reference for order in found.orders] == [literal["reference"]], query


async def test_the_order_page_shows_lines_payments_tickets_and_history(client: httpx.AsyncClient, supper: str) -> None:
    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org", quantity=2)
    await sign_in_organiser(client)
    page = await client.get(f"/manage/orders/{amal['reference']}")
    assert page.status_code == 200
    text = page.text
    assert "Amal Haddad" in text and "amal@example.org" in text
    assert "£62" in text  # 2 × £30 + 2 × £1 booking fee
    assert "Payment (test payment)" in text and "not checked in" in text
    assert text.count('class="card ticket-row') == 2
    assert "£62 can still be refunded." in text
    assert (await client.get("/manage/orders/XXX-XXX")).status_code == 404


async def test_resending_queues_the_tickets_email_and_is_audited(client: httpx.AsyncClient, supper: str) -> None:
    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org")
    await sign_in_organiser(client)
    page = f"/manage/orders/{amal['reference']}"
    before = await OutboxMessage.count().where(OutboxMessage.kind == "tickets_resent")
    response = await post_form(client, f"{page}/resend", {}, page=page)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=resent")
    assert await OutboxMessage.count().where(OutboxMessage.kind == "tickets_resent") == before + 1
    [entry] = await audit_entries("order.tickets_resent")
    assert entry["actor"] == "Sam Organiser" and entry["subject_id"] == amal["reference"]
    assert "being emailed to the buyer again" in (await client.get(response.headers["location"])).text
    for _ in range(2):
        assert (await post_form(client, f"{page}/resend", {}, page=page)).status_code == 303
    too_often = await post_form(client, f"{page}/resend", {}, page=page)
    assert too_often.status_code == 429 and 'id="resend-error"' in too_often.text and "several times in the last hour" in too_often.text
    assert 0 < int(too_often.headers["retry-after"]) <= 3600
    assert await OutboxMessage.count().where(OutboxMessage.kind == "tickets_resent") == before + 3


async def test_changing_the_holder_reissues_the_ticket_and_revokes_the_old_code(
    client: httpx.AsyncClient, app: Litestar, supper: str, now: datetime
) -> None:
    from events.tickets.views import tickets_of_order

    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org")
    [old] = await tickets_of_order(amal["reference"], secret_key=app.state.settings.secret_key, now=now)
    ticket = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == amal["reference"]).first()
    await sign_in_organiser(client)
    page = f"/manage/orders/{amal['reference']}"
    action = f"{page}/tickets/{ticket['id']}/holder"

    unconfirmed = await post_form(client, action, {"holder": "Sara Haddad"}, page=page)
    assert unconfirmed.status_code == 422 and "the old ticket code will stop working" in unconfirmed.text
    assert 'aria-invalid="true"' in unconfirmed.text
    assert (await Ticket.select(Ticket.holder_name).where(Ticket.id == ticket["id"]).first())["holder_name"] == "Amal Haddad"
    empty = await post_form(client, action, {"holder": "  ", "confirm": "yes"}, page=page)
    assert empty.status_code == 422 and "give the ticket holder" in empty.text

    done = await post_form(client, action, {"holder": "Sara Haddad", "confirm": "yes"}, page=page)
    assert done.status_code == 303
    row = await Ticket.select(Ticket.holder_name, Ticket.version).where(Ticket.id == ticket["id"]).first()
    assert row == {"holder_name": "Sara Haddad", "version": 2}
    door = await door_team(now, slug=supper)
    refused = (await client.post("/api/checkin/redeem", json=scan(supper, old.code), headers=door)).json()
    assert refused["status"] == "error"
    [entry] = await audit_entries("ticket.holder_changed")
    assert entry["before"]["version"] == 1 and entry["after"]["version"] == 2 and entry["after"]["old_code"] == "revoked"
    assert "Amal" not in str(entry["before"]) + str(entry["after"])  # no guest names in the audit log


async def test_refunding_one_ticket_then_an_amount_then_the_rest(client: httpx.AsyncClient, supper: str) -> None:
    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org", quantity=3)  # 3 × £31 = £93
    tickets = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == amal["reference"]).order_by(Ticket.id)
    await sign_in_organiser(client)
    page = f"/manage/orders/{amal['reference']}"
    action = f"{page}/refund"

    one = await post_form(client, action, {"scope": "part", "tickets": [tickets[0]["id"]], "reason": "Cannot come", "confirm": "yes"}, page=page)
    assert one.status_code == 303, one.text
    order = await Order.select(Order.refunded_pence, Order.status).where(Order.reference == amal["reference"]).first()
    assert order == {"refunded_pence": 3100, "status": "paid"}
    statuses = [t["status"] for t in await Ticket.select(Ticket.status).where(Ticket.order_id.reference == amal["reference"]).order_by(Ticket.id)]
    assert statuses == ["refunded", "valid", "valid"]

    money_only = await post_form(client, action, {"scope": "part", "amount": "12.50", "reason": "Goodwill", "confirm": "yes"}, page=page)
    assert money_only.status_code == 303
    assert (await Order.select(Order.refunded_pence).where(Order.reference == amal["reference"]).first())["refunded_pence"] == 4350
    assert await Ticket.count().where(Ticket.order_id.reference == amal["reference"], Ticket.status == "valid") == 2

    rest = await post_form(client, action, {"scope": "all", "reason": "Event moved", "confirm": "yes"}, page=page)
    assert rest.status_code == 303
    order = await Order.select(Order.refunded_pence, Order.status).where(Order.reference == amal["reference"]).first()
    assert order == {"refunded_pence": 9300, "status": "refunded"}
    assert await Ticket.count().where(Ticket.order_id.reference == amal["reference"], Ticket.status == "valid") == 0
    assert [r["amount_pence"] for r in await Refund.select(Refund.amount_pence).order_by(Refund.id)] == [3100, 1250, 4950]
    assert "Nothing is left to refund" in (await client.get(page)).text

    entries = await audit_entries("order.refunded")
    assert [(e["before"]["refunded_pence"], e["after"]["refunded_pence"]) for e in entries] == [(0, 3100), (3100, 4350), (4350, 9300)]
    assert entries[0]["after"]["tickets_refunded"] == [tickets[0]["id"]] and entries[-1]["after"]["status"] == "refunded"
    assert {e["actor"] for e in entries} == {"Sam Organiser"}


async def test_a_refund_over_what_is_left_is_refused_with_a_clear_message(client: httpx.AsyncClient, supper: str) -> None:
    amal = await bought(client, supper, name="Amal Haddad", email="amal@example.org")  # £31
    await sign_in_organiser(client)
    page = f"/manage/orders/{amal['reference']}"
    action = f"{page}/refund"

    over = await post_form(client, action, {"scope": "part", "amount": "40", "reason": "Oops", "confirm": "yes"}, page=page)
    assert over.status_code == 422
    assert "at most £31 is left of the payment" in over.text and 'value="40"' in over.text
    unconfirmed = await post_form(client, action, {"scope": "all", "reason": "Cannot come"}, page=page)
    assert unconfirmed.status_code == 422 and "Tick the box to confirm the refund" in unconfirmed.text
    nothing_chosen = await post_form(client, action, {"scope": "part", "reason": "?", "confirm": "yes"}, page=page)
    assert nothing_chosen.status_code == 422 and "Choose the tickets to refund, or enter an amount" in nothing_chosen.text
    not_money = await post_form(client, action, {"scope": "part", "amount": "ten", "reason": "?", "confirm": "yes"}, page=page)
    assert not_money.status_code == 422 and "like 12.50" in not_money.text
    no_token = await client.post(action, data={"scope": "all", "reason": "x", "confirm": "yes"})
    assert no_token.status_code == 403
    assert await Refund.count() == 0 and await AuditEntry.count().where(AuditEntry.action == "order.refunded") == 0
    assert (await Order.select(Order.refunded_pence).where(Order.reference == amal["reference"]).first())["refunded_pence"] == 0


async def test_the_attendee_list_never_marks_free_guests_and_defuses_formulas(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], supper: str, now: datetime
) -> None:
    await bought(client, supper, name='=HYPERLINK("http://evil.example","x")', email="a@example.org")
    paid = await bought(client, supper, name="Amal Haddad", email="amal@example.org")
    link = (await client.post(f"/api/events/{supper}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()
    claimed = await client.post("/api/claims", json={"code": link["code"], "name": "Leila"})
    assert claimed.status_code in (200, 201), claimed.text
    refunded = await bought(client, supper, name="Gone Guest", email="gone@example.org")
    await sign_in_organiser(client)
    page = f"/manage/orders/{refunded['reference']}"
    await post_form(client, f"{page}/refund", {"scope": "all", "reason": "x", "confirm": "yes"}, page=page)
    door = await door_team(now, slug=supper)
    from events.tickets.views import tickets_of_order

    [amal_ticket] = await tickets_of_order(paid["reference"], secret_key=app.state.settings.secret_key, now=now)
    assert (await client.post("/api/checkin/redeem", json=scan(supper, amal_ticket.code), headers=door)).json()["status"] == "ok"

    response = await client.get(f"/manage/events/{supper}/attendees.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["holder", "ticket_type", "order_reference", "booked_by", "language", "checked_in_at"]
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {'\'=HYPERLINK("http://evil.example","x")', "Amal Haddad", "Leila"}  # no refunded ticket
    assert body["Leila"][1] == body["Amal Haddad"][1] == "Supper"  # the free guest's row reads like any other
    assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", body["Leila"][2])
    assert body["Amal Haddad"][3:5] == ["Amal Haddad", "en"] and body["Leila"][3:5] == ["Leila", "en"]  # who booked, in what language
    assert body["Amal Haddad"][5] and not body["Leila"][5]
    lowered = response.text.lower()
    assert "claim" not in lowered and "free" not in lowered and "gift" not in lowered and "£" not in lowered


async def test_the_order_history_shows_times_at_the_venue_and_money_in_pounds(client: httpx.AsyncClient, now: datetime) -> None:
    """Stored notes stay as written ("held until 2026-12-05T06:19:54.737993+00:00", "1000 pence"); the page shows
    the time at the event's venue and the amount in pounds."""
    from zoneinfo import ZoneInfo

    from events import i18n
    from events.orders.tables import OrderHistory

    slug = await make_event(now, slug="new-york-supper", timezone="America/New_York", ticket_types=[{"name": "Supper", "price_pence": 3000}])
    amal = await bought(client, slug, name="Amal Haddad", email="amal@example.org", quantity=2)
    await sign_in_organiser(client)
    page = f"/manage/orders/{amal['reference']}"
    await post_form(client, f"{page}/refund", {"scope": "part", "amount": "10", "reason": "Late", "confirm": "yes"}, page=page)
    notes = {row["kind"]: row["detail"] for row in await OrderHistory.select().where(OrderHistory.order_id.reference == amal["reference"])}
    held_until = datetime.fromisoformat(notes["created"].rsplit(" ", 1)[1])
    assert notes["refunded"].startswith("1000 pence")  # as stored, untouched

    text = (await client.get(page)).text
    history = text.split('<ol class="history">')[1].split("</ol>")[0]
    venue = ZoneInfo("America/New_York")
    assert (
        f'2 places held until <time datetime="{held_until.astimezone(venue).isoformat(timespec="seconds")}">{i18n.timestamp(held_until.astimezone(venue), "en")}</time>'
        in history
    )
    assert 'refunded: <span dir="auto" class="history-detail">£10, 0 tickets: Late</span>' in history
    assert "pence" not in history and held_until.isoformat() not in history and "+00:00" not in history
    [order] = await Order.select(Order.created_at).where(Order.reference == amal["reference"])
    assert f">{i18n.timestamp(order['created_at'].astimezone(venue), 'en')}</time> · created" in history  # when it happened, at the venue
