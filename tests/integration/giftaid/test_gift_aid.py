"""Gift Aid end to end: declaring at checkout (API and the page form), the HMRC schedule for a period,
refunds, and the Gift Aid each partner can claim on the reconciliation and statements."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from events.orders import gift_aid
from events.orders.tables import GiftAidDeclaration, Order
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order, ticket_type_id

UK = ZoneInfo("Europe/London")
HEADER = [
    "Title",
    "First name",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date (DD/MM/YY)",
    "Amount",
]
AMAL = {"title": "Ms", "first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "e8 1dy", "confirmed": True}


async def supper_club(now: datetime) -> str:
    return await make_event(now, booking_fee_pence=100, pay_it_forward_place_pence=3000)


async def paid(client: httpx.AsyncClient, slug: str, **extra: Any) -> dict[str, Any]:
    response = await place_order(client, slug, **extra)
    assert response.status_code == 201, response.text
    created = response.json()
    await pay_with_test_page(client, created)
    return created


async def schedule(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> list[list[str]]:
    today = now.astimezone(UK).date()
    response = await client.get(
        "/api/gift-aid/schedule.csv",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()},
        headers=organiser,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


async def test_the_schedule_claims_the_donation_parts_of_paid_orders_only(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    # Two £30 tickets with a £1 booking fee each, a £30 pay-it-forward place and £12.50 for the cinema.
    declared = await paid(
        client,
        slug,
        quantity=2,
        pay_it_forward_places=1,
        donation_pence=1250,
        donation_partner="welcome-cinema",
        gift_aid={**AMAL, "last_name": "Haddad-Khoury"},
    )
    assert declared["total_pence"] == 2 * 3100 + 3000 + 1250
    await paid(client, slug, quantity=1, donation_pence=5000)  # no declaration: not on the schedule
    pending = await place_order(client, slug, quantity=1, donation_pence=2000, gift_aid=AMAL)  # never paid
    assert pending.status_code == 201

    rows = await schedule(client, organiser, now)
    assert rows[0] == HEADER
    paid_at = datetime.fromisoformat((await get_order(client, declared))["paid_at"])
    assert rows[1:] == [["Ms", "Amal", "Haddad Khoury", "12", "E8 1DY", "", "", paid_at.astimezone(UK).strftime("%d/%m/%y"), "42.50"]]
    assert re.fullmatch(r"\d{2}/\d{2}/\d{2}", rows[1][7])

    stored = await GiftAidDeclaration.select().where(GiftAidDeclaration.order_id.reference == declared["reference"]).first()
    assert stored is not None
    assert stored["eligible_pence"] == 4250 and stored["postcode"] == "E8 1DY"
    assert stored["statement"] == gift_aid.CONFIRMATION_STATEMENT

    today = now.astimezone(UK).date()
    earlier = await client.get(
        "/api/gift-aid/schedule.csv",
        params={"from": (today - timedelta(days=9)).isoformat(), "to": (today - timedelta(days=2)).isoformat()},
        headers=organiser,
    )
    assert list(csv.reader(io.StringIO(earlier.text))) == [HEADER]  # another period, nothing to claim


async def test_the_period_and_the_donation_date_are_uk_days(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await supper_club(now)
    created = await paid(client, slug, quantity=1, donation_pence=1000, gift_aid=AMAL)
    # 23:30 UTC on 31 July 2027 is half past midnight on 1 August in London (BST).
    late = datetime(2027, 7, 31, 23, 30, tzinfo=ZoneInfo("UTC"))
    await Order.update({Order.paid_at: late}).where(Order.reference == created["reference"])

    async def rows(first: str, last: str) -> list[list[str]]:
        response = await client.get("/api/gift-aid/schedule.csv", params={"from": first, "to": last}, headers=organiser)
        assert response.status_code == 200, response.text
        return list(csv.reader(io.StringIO(response.text)))[1:]

    assert [row[7] for row in await rows("2027-08-01", "2027-08-01")] == ["01/08/27"]
    assert await rows("2027-07-01", "2027-07-31") == []
    assert len(await rows("2027-07-01", "2027-08-31")) == 1


async def test_a_refund_reduces_the_claim_by_what_it_gave_back_of_the_gifts_and_a_refunded_order_drops_out(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    whole = await paid(client, slug, quantity=1, donation_pence=1000, gift_aid=AMAL)
    half = await paid(client, slug, quantity=1, donation_pence=1000, gift_aid={**AMAL, "first_name": "Omar"})
    assert [row[-1] for row in (await schedule(client, organiser, now))[1:]] == ["10.00", "10.00"]

    refunded = await client.post(f"/api/orders/{whole['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refunded.status_code == 201, refunded.text
    assert (await Order.select(Order.status).where(Order.reference == whole["reference"]).first())["status"] == "refunded"
    # £20.50 back of £41 is within the ticket's £31 (price and booking fee): the £10 donation is still given.
    part = await client.post(f"/api/orders/{half['reference']}/refunds", json={"amount_pence": 2050, "reason": "Half"}, headers=organiser)
    assert part.status_code == 201, part.text
    assert [(row[1], row[-1]) for row in (await schedule(client, organiser, now))[1:]] == [("Omar", "10.00")]
    # £15.50 more is the ticket's last £10.50 and £5 of the donation.
    more = await client.post(f"/api/orders/{half['reference']}/refunds", json={"amount_pence": 1550, "reason": "More"}, headers=organiser)
    assert more.status_code == 201, more.text
    assert [(row[1], row[-1]) for row in (await schedule(client, organiser, now))[1:]] == [("Omar", "5.00")]


async def test_the_reconciliation_shows_each_partners_gift_aid(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await supper_club(now)
    # Pay-it-forward £30 and £12.50 designated to the cinema, declared.
    await paid(client, slug, quantity=2, pay_it_forward_places=1, donation_pence=1250, donation_partner="welcome-cinema", gift_aid=AMAL)
    # A general £10 donation, declared, then £36 of the £41 refunded: the ticket's £31 and £5 of the donation, so £5
    # of it stays claimable.
    half = await paid(client, slug, quantity=1, donation_pence=1000, gift_aid=AMAL)
    await client.post(f"/api/orders/{half['reference']}/refunds", json={"amount_pence": 3600, "reason": "Most"}, headers=organiser)
    await paid(client, slug, quantity=1, donation_pence=9000)  # not declared
    refunded = await paid(client, slug, quantity=1, pay_it_forward_places=2, gift_aid=AMAL)
    await client.post(f"/api/orders/{refunded['reference']}/refunds", json={"reason": "Cancelled"}, headers=organiser)

    response = await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)
    assert response.status_code == 200, response.text
    statement = response.json()
    kitchen, cinema = statement["partners"]
    # Eligible: pooled £30 + £5 = £35 split 70/30 (£24.50 / £10.50), the cinema's £12.50 wholly its own:
    # £47.50 in all, so £11.87 of Gift Aid, split £24.50 : £23.00 by largest remainder.
    eligible = 3000 + 500 + 1250
    assert kitchen["gift_aid_claimable_pence"] + cinema["gift_aid_claimable_pence"] == eligible // 4 == 1187
    assert (kitchen["gift_aid_claimable_pence"], cinema["gift_aid_claimable_pence"]) == (612, 575)
    assert statement["totals"]["gift_aid_claimable_pence"] == 1187
    assert statement["totals"]["net_pence"] == kitchen["net_pence"] + cinema["net_pence"]  # Gift Aid is not in the net

    csv_text = (await client.get(f"/api/events/{slug}/reconciliation.csv", headers=organiser)).text
    lines = list(csv.reader(io.StringIO(csv_text)))
    assert lines[0][-1] == "gift_aid_claimable_pence" and [line[-1] for line in lines[1:]] == ["612", "575", "1187"]

    partner = await client.get("/api/partners/welcome-cinema/statement", headers=organiser)
    assert partner.status_code == 200, partner.text
    assert partner.json()["totals"]["gift_aid_claimable_pence"] == 575
    page = await client.get(f"/manage/events/{slug}/statement", headers=organiser)
    assert page.status_code == 200 and "Gift Aid to claim" in page.text and "£11.87" in page.text


async def test_an_incomplete_declaration_is_refused_naming_each_field(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await supper_club(now)
    missing = await place_order(client, slug, donation_pence=500, gift_aid={"first_name": "Amal", "confirmed": True})
    assert missing.status_code == 422, missing.text
    assert set(missing.json()["fields"]) == {"gift_aid.last_name", "gift_aid.house", "gift_aid.postcode"}

    wrong = await place_order(client, slug, donation_pence=500, gift_aid={**AMAL, "postcode": "75001", "confirmed": False})
    assert wrong.status_code == 422
    fields = wrong.json()["fields"]
    assert set(fields) == {"gift_aid.postcode", "gift_aid.confirmed"}
    assert "postcode" in fields["gift_aid.postcode"]

    unconfirmed = await place_order(client, slug, donation_pence=500, gift_aid={key: value for key, value in AMAL.items() if key != "confirmed"})
    assert unconfirmed.status_code == 422 and set(unconfirmed.json()["fields"]) == {"gift_aid.confirmed"}

    unknown = await place_order(client, slug, donation_pence=500, gift_aid={**AMAL, "nationality": "x"})
    assert unknown.status_code == 422

    assert await Order.count() == 0 and await GiftAidDeclaration.count() == 0  # nothing held, nothing recorded


async def test_a_declaration_without_a_donation_or_contribution_is_refused(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await supper_club(now)
    response = await place_order(client, slug, quantity=2, gift_aid=AMAL)
    assert response.status_code == 422, response.text
    assert set(response.json()["fields"]) == {"gift_aid"}
    assert await Order.count() == 0 and await GiftAidDeclaration.count() == 0


async def test_the_schedule_is_for_organisers_and_needs_a_period(client: httpx.AsyncClient, organiser: dict[str, str]) -> None:
    period = {"from": "2027-04-06", "to": "2028-04-05"}
    assert (await client.get("/api/gift-aid/schedule.csv", params=period)).status_code == 401
    assert (await client.get("/api/gift-aid/schedule.csv", params={"from": "2027-04-06"}, headers=organiser)).status_code in (400, 422)
    bad = await client.get("/api/gift-aid/schedule.csv", params={"from": "6/4/27", "to": "2028-04-05"}, headers=organiser)
    assert bad.status_code in (400, 422)
    backwards = await client.get("/api/gift-aid/schedule.csv", params={"from": "2028-04-05", "to": "2027-04-06"}, headers=organiser)
    assert backwards.status_code == 422 and "to" in backwards.json()["fields"]
    empty = await client.get("/api/gift-aid/schedule.csv", params=period, headers=organiser)
    assert empty.status_code == 200 and empty.text.splitlines() == [",".join(HEADER)]


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_the_buy_form_takes_a_declaration_only_when_the_box_is_ticked(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await supper_club(now)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    assert gift_aid.CONFIRMATION_STATEMENT in page.text  # the wording shown is the wording recorded
    assert 'name="gift_aid_postcode"' in page.text
    base = {f"quantity_{type_id}": "1", "donation": "5", "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
    details = {
        "gift_aid_title": "Ms",
        "gift_aid_first_name": "Amal",
        "gift_aid_last_name": "Haddad",
        "gift_aid_house": "12",
        "gift_aid_postcode": "E8 1DY",
    }

    unticked = await client.post(f"/events/{slug}/buy", data={**base, "gift_aid_postcode": "not checked"})
    assert unticked.status_code == 303
    assert await GiftAidDeclaration.count() == 0

    wrong = await client.post(f"/events/{slug}/buy", data={**base, **details, "gift_aid": "yes", "gift_aid_postcode": "75001"})
    assert wrong.status_code == 422
    assert "That does not look like a UK postcode" in wrong.text and 'id="gift_aid_postcode-error"' in wrong.text
    assert 'value="75001"' in wrong.text and re.search(r'id="gift_aid"[^>]*checked', wrong.text)  # choices kept

    no_donation = await client.post(f"/events/{slug}/buy", data={**base, **details, "gift_aid": "yes", "donation": ""})
    assert no_donation.status_code == 422 and "Gift Aid is only for a donation" in no_donation.text

    ticked = await client.post(f"/events/{slug}/buy", data={**base, **details, "gift_aid": "yes"})
    assert ticked.status_code == 303
    declarations = await GiftAidDeclaration.select(GiftAidDeclaration.eligible_pence, GiftAidDeclaration.first_name)
    assert declarations == [{"eligible_pence": 500, "first_name": "Amal"}]
