"""The series statement adds up the series' events per partner project: each partner's figures are the sum of its
lines in its events' own statements, to the penny, and the totals are the sum of the events' totals. Drafts (a copy
with its costs already recorded, say) and events outside the series are not added up."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import httpx

from events.accounts import service as accounts
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event, make_partner
from tests.integration.accounts.test_login import sign_in
from tests.support.orders import pay_with_test_page, place_order

FIGURES = ("refunds_pence", "fees_pence", "costs_pence", "net_pence", "paid_out_pence", "balance_pence", "gift_aid_claimable_pence")


def _dated(now: datetime, days: int) -> dict[str, str]:
    starts = (now + timedelta(days=days)).replace(microsecond=0)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat()}


async def _buy(client: httpx.AsyncClient, slug: str, **extra: Any) -> None:
    created = (await place_order(client, slug, **extra)).json()
    assert (await pay_with_test_page(client, created)).status_code in (200, 303)


async def _series_of_three(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """Two published suppers of the series with different partners, sales, costs, a donation and a payout; a draft
    copy with its costs; and a quiz night outside the series with sales of its own."""
    await make_partner("help-refugees")
    assert (await client.post("/api/series", json={"title": "Monthly supper", "slug": "monthly-supper"}, headers=organiser)).status_code == 201
    first = await make_event(
        now,
        slug="june-supper",
        title="June Supper",
        series="monthly-supper",
        booking_fee_pence=75,
        pay_it_forward_place_pence=3000,
        **_dated(now, 10),
    )
    second = await make_event(
        now,
        slug="july-supper",
        title="July Supper",
        series="monthly-supper",
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 5000}, {"partner": "help-refugees", "share_bp": 5000}],
        **_dated(now, 40),
    )
    other = await make_event(now, slug="quiz-night", title="Quiz Night", **_dated(now, 20))
    await client.post(f"/api/events/{first}/costs", json={"description": "Hall", "amount_pence": 4_000}, headers=organiser)
    await client.post(f"/api/events/{second}/costs", json={"description": "Food", "amount_pence": 3_333}, headers=organiser)
    await _buy(client, first, quantity=3, pay_it_forward_places=1, donation_pence=1_001)
    await _buy(client, first, quantity=1, donation_pence=2_000, donation_partner="welcome-cinema")
    await _buy(client, second, quantity=4, donation_pence=777)
    await _buy(client, other, quantity=2)
    paid = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        json={"event": first, "amount_pence": 1_000, "paid_on": now.isoformat(), "bank_reference": "JUNE-1"},
        headers=organiser,
    )
    assert paid.status_code == 201, paid.text
    copied = await client.post(
        f"/api/events/{second}/copy",
        json={"slug": "august-supper", "title": "August Supper", **_dated(now, 70)},
        headers=organiser,
    )
    assert copied.status_code == 201, copied.text


async def test_the_series_statement_adds_up_its_events_per_partner(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    response = await client.get("/api/series/monthly-supper/statement", headers=organiser)
    assert response.status_code == 200, response.text
    statement = response.json()

    reconciliations = [(await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json() for slug in ("june-supper", "july-supper")]
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for reconciliation in reconciliations:
        for line in reconciliation["partners"]:
            for name in FIGURES:
                expected[line["partner"]][name] += line[name]
            for kind, pence in line["income_pence"].items():
                expected[line["partner"]][f"income_{kind}"] += pence
    lines = {line["partner"]: line for line in statement["partners"]}
    assert set(lines) == {"welcome-kitchen", "welcome-cinema", "help-refugees"}
    for partner, figures in expected.items():
        line = lines[partner]
        assert {name: line[name] for name in FIGURES} == {name: figures[name] for name in FIGURES}, partner
        assert {f"income_{kind}": pence for kind, pence in line["income_pence"].items()} == {
            k: v for k, v in figures.items() if k.startswith("income_")
        }
    assert lines["welcome-kitchen"]["name"] == "Welcome Kitchen" and lines["welcome-kitchen"]["paid_out_pence"] == 1_000
    assert lines["welcome-cinema"]["income_pence"]["donations"] >= 2_000  # its designated donation, less its fees

    # The totals are the events' totals added up, and the partners' lines added up; nothing of the quiz night.
    for name in FIGURES:
        assert statement["totals"][name] == sum(r["totals"][name] for r in reconciliations) == sum(line[name] for line in statement["partners"])
    assert statement["totals"]["net_pence"] > 0 and statement["costs_pence"] == 7_333
    assert [event["event"] for event in statement["events"]] == ["june-supper", "july-supper"]
    assert [event["totals"]["net_pence"] for event in statement["events"]] == [r["totals"]["net_pence"] for r in reconciliations]
    # The draft copy (its costs already booked) is listed as left out, not added up.
    assert statement["left_out"] == [
        {"event": "august-supper", "title": "August Supper", "starts_at": statement["left_out"][0]["starts_at"], "reason": "draft"}
    ]
    assert statement["issued_by"]["organisation"] == (await organisations.resolve(None)).slug

    # The machine CSV, read back: a row per partner and the total, in pence.
    download = await client.get("/api/series/monthly-supper/statement.csv", headers=organiser)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["partner"] for row in rows] == [*(line["partner"] for line in statement["partners"]), "TOTAL"]
    for row in rows:
        line = lines.get(row["partner"], statement["totals"])
        assert int(row["net_pence"]) == line["net_pence"] and int(row["balance_pence"]) == line["balance_pence"]
        assert int(row["income_tickets_pence"]) == line["income_pence"]["tickets"]


async def test_the_series_statement_page(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    await accounts.create_user("boss@test.example", role="organiser", password="a long password")
    await sign_in(client, "boss@test.example", "a long password")
    page = await client.get("/manage/series/monthly-supper/statement")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for text in ("Monthly supper", "June Supper", "July Supper", "Welcome Kitchen", "Help Refugees", "a draft, not on sale yet"):
        assert text in page.text, text
    assert "Quiz Night" not in page.text
    assert 'href="/manage/series/monthly-supper/statement.csv"' in page.text
    download = await client.get("/manage/series/monthly-supper/statement.csv")
    assert download.status_code == 200 and download.text.splitlines()[-1].startswith("TOTAL,")
    assert 'href="/manage/series/monthly-supper/statement"' in (await client.get("/manage/series/monthly-supper")).text


async def test_only_the_organisations_unrestricted_organisers_see_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await _series_of_three(client, organiser, now)
    await accounts.create_user("limited@test.example", role="organiser", password=None, restricted=True)
    limited = {"Authorization": f"Bearer {await accounts.create_api_token('limited@test.example', now=now)}"}
    assert (await client.get("/api/series/monthly-supper/statement", headers=limited)).status_code == 403
    beta = await organisations.create_organisation("beta", OrganisationDetails(name="Beta"))
    await accounts.create_user("organiser@beta.example", role="organiser", password=None, organisation_id=beta.id)
    theirs = {"Authorization": f"Bearer {await accounts.create_api_token('organiser@beta.example', now=now, organisation_id=beta.id)}"}
    refused = await client.get("/api/series/monthly-supper/statement", headers=theirs)
    assert refused.status_code == 404 and refused.json()["error"] == "series_not_found"
    assert (await client.get("/api/series/monthly-supper/statement.csv", headers=theirs)).status_code == 404
