"""The organiser's event page: sales, holds, free places, check-ins, and offline door conflicts flagged."""

from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.checkin.test_redeem import door_team, paid_tickets
from tests.support.orders import place_order


async def test_the_event_page_counts_and_flags_conflicts(client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door1 = await door_team(now, slug=slug)
    door2 = await door_team(now, name="Door 2", email="door2@test.example", slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    await place_order(client, slug, quantity=3)  # held, not paid
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 3}, headers=organiser)).json()
    await client.post("/api/claims", json={"code": link["code"], "name": "Leila"})
    for door, nonce, at in ((door1, "d1-conflict-01", now - timedelta(minutes=5)), (door2, "d2-conflict-01", now)):
        await client.post(
            "/api/checkin/sync",
            headers=door,
            json={"event": slug, "scans": [{"secret": ticket.code, "nonce": nonce, "scanned_at": at.isoformat(), "result": "ok"}]},
        )

    anonymous = await client.get(f"/manage/events/{slug}", headers={"accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    await accounts.create_user("boss@test.example", role="organiser", password="a long password")
    await sign_in(client, "boss@test.example", "a long password")
    page = await client.get(f"/manage/events/{slug}")
    assert page.status_code == 200
    text = page.text
    assert '<dd class="sold">2</dd>' in text and '<dd class="held">3</dd>' in text
    assert '<dd class="claimed">1</dd>' in text and '<dd class="checked-in">1 / 3</dd>' in text
    assert "1 ticket was let in at two doors while offline." in text
    assert "Door 2" in text and "Door 1" in text


async def test_the_dashboard_shows_revenue_funds_per_partner_and_sales_over_time(client: httpx.AsyncClient, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.backoffice.test_orders import bought
    from tests.support.backoffice import post_form, sign_in_organiser

    slug = await make_event(now, booking_fee_pence=100, pay_it_forward_place_pence=3000)
    amal = await bought(client, slug, name="Amal Haddad", email="amal@example.org", quantity=2)  # 2 × £30 + 2 × £1
    created = (await place_order(client, slug, quantity=1, donation_pence=1500, pay_it_forward_places=1)).json()
    from tests.support.orders import pay_with_test_page

    await pay_with_test_page(client, created)  # £30 + £1 + £15 donation + £30 pay it forward
    await sign_in_organiser(client)
    order_page = f"/manage/orders/{amal['reference']}"
    await post_form(client, f"{order_page}/refund", {"scope": "part", "amount": "10", "reason": "Late", "confirm": "yes"}, page=order_page)

    page = await client.get(f"/manage/events/{slug}")
    assert page.status_code == 200
    text = page.text
    assert '<td class="ticket-income">£90</td>' in text and '<td class="booking-fees">£3</td>' in text
    assert '<td class="pay-it-forward">£30</td>' in text and '<td class="donations">£15</td>' in text
    # Gross income counts the pay-it-forward money as soon as it is paid; it is set aside until used.
    assert '<td class="gross-income">£138</td>' in text and '<td class="refunds">-£10</td>' in text
    assert '<td class="pay-it-forward-not-yet-used">-£30</td>' in text and '<td class="net-due">£98</td>' in text
    assert 'href="/manage/partners/welcome-kitchen/statement"' in text and 'href="/manage/partners/welcome-cinema/statement"' in text
    from events.ledger.statements import event_reconciliation
    from events.money import format_money

    reconciliation = await event_reconciliation(slug)
    for line in reconciliation.partners:  # the same amounts as the statement, partner by partner
        row = text.split(f'href="/manage/partners/{line.partner}/statement"')[1].split("</tr>")[0]
        assert f"<td>{format_money(line.net_pence, 'GBP')}</td>" in row
    assert sum(line.net_pence for line in reconciliation.partners) > 0
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="dashboard-sales-chart"' in text
        and "<script" not in text.split("<main")[1].split("</main>")[0]
    )  # the chart needs no JavaScript
    assert 'aria-current="page">Dashboard' in text
    assert '<dd class="sold">3</dd>' in text and '<dd class="funded">1</dd>' in text
