""" "Can't come?" and whose money it is: the buyer of a group order paid for every ticket, so a refund or a donation
(and a Gift Aid declaration with it) needs the order's authority. A ticket's own link leads to those only when the
order has that one ticket; otherwise its holder may pass it on where that is offered and is pointed to the buyer,
whose order page leads to every choice for each ticket."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.payments.tables import Refund, RefundDonation
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team
from tests.integration.releases.test_releases import GIFT_AID, csrf_of, no_refunds, paid_order, snapshot


async def test_a_ticket_link_of_a_group_order_cannot_refund_or_donate_the_buyers_money(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=2)
    secret = order["page_secrets"][0]

    page = await client.get(f"/tickets/{secret}/cant-come")
    assert page.status_code == 200
    assert "/cant-come/refund" not in page.text and "/cant-come/donate" not in page.text
    # Passing the place to a friend moves no money: offered, with the buyer pointed to for the rest.
    assert f"/tickets/{secret}/cant-come/transfer" in page.text and 'id="buyer-only"' in page.text
    confirm = await client.get(f"/tickets/{secret}/cant-come/donate")
    assert confirm.status_code == 200 and "gift_aid_postcode" not in confirm.text and "Only the person who booked" in confirm.text

    unchanged = await snapshot(slug)
    csrf = csrf_of((await client.get("/login")).text)  # the page has no form to take it from: a forged post
    for choice, form in (("refund", {}), ("donate", {"gift_aid": "yes", **{f"gift_aid_{k}": str(v) for k, v in GIFT_AID.items()}})):
        refused = await client.post(f"/tickets/{secret}/cant-come/{choice}", data={"_csrf_token": csrf, **form})
        assert refused.status_code == 409 and "Only the person who booked" in refused.text, refused.text
    assert await snapshot(slug) == unchanged

    # The buyer's API (the order's token) may.
    donated = await client.post(f"/api/tickets/{order['ticket_ids'][0]}/release", json={"choice": "donate"}, headers=order["bearer"])
    assert donated.status_code == 200 and donated.json()["donated_pence"] == 3000

    # The other ticket's holder passes their place to a friend, in the refund window: a new ticket, no money moved.
    other = order["page_secrets"][1]
    confirm = await client.get(f"/tickets/{other}/cant-come/transfer")
    assert 'id="buyer-refund-ends"' in confirm.text  # told first: the buyer could have had this ticket refunded
    passed = await client.post(
        f"/tickets/{other}/cant-come/transfer", data={"_csrf_token": csrf_of(confirm.text), "holder": "Sam", "email": "sam@example.org"}
    )
    assert passed.status_code == 303, passed.text
    assert (await Ticket.select(Ticket.status).where(Ticket.page_secret == other).first()) == {"status": "passed_on"}
    assert await Ticket.count().where(Ticket.holder_name == "Sam", Ticket.status == "valid") == 1
    assert await Refund.count() == 0


async def test_after_the_window_a_group_orders_ticket_link_may_pass_it_on_but_not_donate(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await no_refunds(slug)
    order = await paid_order(client, slug, quantity=2)
    secret = order["page_secrets"][1]

    page = await client.get(f"/tickets/{secret}/cant-come")
    assert f"/tickets/{secret}/cant-come/transfer" in page.text and "/cant-come/donate" not in page.text
    assert 'id="buyer-only"' in page.text  # pointed to the buyer for the rest
    confirm = await client.get(f"/tickets/{secret}/cant-come/transfer")
    done = await client.post(
        f"/tickets/{secret}/cant-come/transfer", data={"_csrf_token": csrf_of(confirm.text), "holder": "Sam", "email": "sam@example.org"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/tickets/{secret}/cant-come/done"
    assert (await Ticket.select(Ticket.status).where(Ticket.page_secret == secret).first()) == {"status": "passed_on"}


async def test_the_buyers_order_page_offers_every_choice_for_each_ticket(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=2)
    reference, token = order["reference"], order["access_token"]
    first, second = order["ticket_ids"]
    base = f"/orders/{reference}/tickets/{first}/cant-come"

    order_page = await client.get(f"/orders/{reference}?token={token}")
    assert f'href="{base}?token={token}"' in order_page.text and 'id="cant-come"' in order_page.text
    choices = await client.get(f"{base}?token={token}")
    assert choices.status_code == 200
    assert f'href="{base}/refund?token={token}"' in choices.text and f'href="{base}/donate?token={token}"' in choices.text
    assert "Back to my order" in choices.text

    # Without the order's token, with another's, or for a ticket of another order: not found, and nothing changes.
    theirs = await paid_order(client, slug, quantity=1)
    unchanged = await snapshot(slug)
    assert (await client.get(base)).status_code == 422  # no token at all
    for url in (
        f"{base}?token={theirs['access_token']}",
        f"/orders/{reference}/tickets/{theirs['ticket_ids'][0]}/cant-come?token={token}",
        f"/orders/{theirs['reference']}/tickets/{first}/cant-come?token={theirs['access_token']}",
    ):
        assert (await client.get(url)).status_code == 404, url
    confirm = await client.get(f"{base}/donate?token={token}")
    assert confirm.status_code == 200 and 'name="token"' in confirm.text and 'for="gift_aid_postcode"' in confirm.text
    csrf = csrf_of(confirm.text)
    forged = await client.post(f"{base}/donate", data={"_csrf_token": csrf, "token": theirs["access_token"]})
    assert forged.status_code == 404
    assert await snapshot(slug) == unchanged

    # The buyer donates one ticket with Gift Aid (a refund was on offer) and refunds the other.
    gift_aid = {"gift_aid": "yes", **{f"gift_aid_{k}": str(v) for k, v in GIFT_AID.items() if k != "confirmed"}}
    donated = await client.post(f"{base}/donate", data={"_csrf_token": csrf, "token": token, **gift_aid})
    assert donated.status_code == 303 and donated.headers["location"] == f"{base}/done?token={token}", donated.text
    assert "Thank you for your donation" in (await client.get(donated.headers["location"])).text
    [donation] = await RefundDonation.select(RefundDonation.amount_pence, RefundDonation.refund_offered, RefundDonation.gift_aid_last_name)
    assert donation == {"amount_pence": 3000, "refund_offered": True, "gift_aid_last_name": "Haddad"}

    other = f"/orders/{reference}/tickets/{second}/cant-come"
    refunded = await client.post(f"{other}/refund", data={"_csrf_token": csrf, "token": token})
    assert refunded.status_code == 303
    [refund] = await Refund.select(Refund.amount_pence)
    assert refund == {"amount_pence": 3000}
    statuses = {row["id"]: row["status"] for row in await Ticket.select(Ticket.id, Ticket.status).where(Ticket.id.is_in([first, second]))}
    assert statuses == {first: "released", second: "refunded"}


async def test_the_code_a_qr_code_carries_is_no_key_to_the_tickets_page_or_its_choices(client: httpx.AsyncClient, now: datetime) -> None:
    """Door staff's phones hold every ticket's code (the door's offline list), and anyone who sees a ticket, or a photo
    of it, can read the code its QR code carries. That code admits at the door and does nothing else: it opens neither
    the ticket's page nor its PDF, and cannot give the ticket up, donate it (with a Gift Aid declaration in the guest's
    name) or pass it on to someone else. Only the page's own link, sent to the guest, does."""
    slug = await make_event(now)
    order = await paid_order(client, slug, quantity=1)  # its only ticket: its link may refund, donate and pass it on
    door = await door_team(now, slug=slug)
    offline = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
    [code] = [ticket["secret"] for ticket in offline["tickets"] if ticket["id"] == order["ticket_ids"][0]]
    assert code == order["secrets"][0] != order["page_secrets"][0]

    unchanged = await snapshot(slug)
    for shown in (code, code.upper()):  # as the QR code carries it, in capitals
        for path in ("", "/ticket.pdf", "/calendar.ics", "/cant-come", "/cant-come/donate", "/cant-come/transfer"):
            assert (await client.get(f"/tickets/{shown}{path}")).status_code == 404, path
    csrf = csrf_of((await client.get("/login")).text)
    gift_aid = {"gift_aid": "yes", **{f"gift_aid_{k}": str(v) for k, v in GIFT_AID.items()}}
    for choice, form in (("refund", {}), ("donate", gift_aid), ("transfer", {"holder": "Someone Else", "email": "someone@example.org"})):
        refused = await client.post(f"/tickets/{code}/cant-come/{choice}", data={"_csrf_token": csrf, **form})
        assert refused.status_code == 404, choice
    assert (await client.post(f"/tickets/{code}/language", data={"_csrf_token": csrf, "lang": "ar"})).status_code == 404
    assert await snapshot(slug) == unchanged

    page = await client.get(f"/tickets/{order['page_secrets'][0]}/cant-come")
    assert page.status_code == 200 and f"/tickets/{order['page_secrets'][0]}/cant-come/donate" in page.text
