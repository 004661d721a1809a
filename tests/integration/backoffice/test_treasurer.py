"""A treasurer looks after the money, not the events: every statement (event, series, partner project) with its
downloads, the payouts to partner projects, where unused pay-it-forward money goes, and the Gift Aid schedule; no
event set-up, orders, guest data, door or team. Their pages link only where they may go."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from events.accounts import service as accounts
from events.accounts.tables import Invitation
from events.audit.tables import AuditEntry
from events.catalogue.tables import Event, Series
from events.ledger.tables import EventCost, LedgerEntry, Payout
from tests.integration.accounts.test_login import sign_in
from tests.integration.ledger.test_unused_decision_form import closed_with_unused_money
from tests.support.backoffice import post_form
from tests.support.series import SERIES, supper_club_with_guests

TREASURER = "treasurer@test.example"
PASSWORD = "a long password"


def _links(page: str) -> set[str]:
    """Every back-office link on a page, with its query."""
    return {html.unescape(link) for link in re.findall(r'href="(/manage[^"#]*)', page)}


@pytest.fixture
async def treasurer(client: httpx.AsyncClient, now: datetime) -> str:
    """The supper club's organisation with a treasurer signed in on ``client``; returns the event's slug."""
    club = await supper_club_with_guests(client, now)
    await accounts.create_user(TREASURER, role="treasurer", password=PASSWORD, display_name="Tess Treasurer")
    signed_in = await sign_in(client, TREASURER, PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/manage"  # the back office is their home
    return club.slug


async def test_a_treasurer_opens_every_statement_and_download_from_the_back_office(client: httpx.AsyncClient, treasurer: str) -> None:
    home = await client.get("/manage")
    assert home.status_code == 200
    # The events, each leading to its statement; nothing to make or set up an event with.
    assert f'href="/manage/events/{treasurer}/statement"' in home.text and "August Supper Club" in home.text
    assert "/manage/events/new" not in home.text and f"/manage/events/{treasurer}/edit" not in home.text
    assert 'href="/manage"' in (await client.get("/")).text  # the header's "Back office" link

    statement = await client.get(f"/manage/events/{treasurer}/statement")
    assert statement.status_code == 200 and "Welcome Kitchen" in statement.text and "Welcome Cinema" in statement.text
    for download in ("statement.csv", "statement-spreadsheet.csv", "statement.xlsx"):
        response = await client.get(f"/manage/events/{treasurer}/{download}")
        assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment"), download
    for path in ("/manage/partners/welcome-kitchen/statement", "/manage/partners/welcome-kitchen/statement.pdf"):
        assert (await client.get(path)).status_code == 200, path
    series = await client.get("/manage/series")
    assert series.status_code == 200 and f'href="/manage/series/{SERIES}/statement"' in series.text
    assert "New series" not in series.text and f'href="/manage/series/{SERIES}"' not in series.text  # nothing to change
    assert (await client.get(f"/manage/series/{SERIES}/statement")).status_code == 200
    gift_aid = await client.get("/manage/gift-aid")
    # The charity has no HMRC reference yet: the page says who can add it, not a link a treasurer cannot open.
    assert gift_aid.status_code == 200 and 'href="/manage/organisation"' not in gift_aid.text
    assert "The organisation&#39;s owner can add it there." in gift_aid.text

    # The event's tabs and the menu show what a treasurer may open, and every link they are shown opens.
    seen = set().union(*(_links(page.text) for page in (home, statement, series, gift_aid)))
    assert f"/manage/events/{treasurer}/statement" in seen and "/manage/gift-aid" in seen and "/manage/series" in seen
    assert f"/manage/partners/welcome-kitchen/payouts?event={treasurer}" in seen
    for hidden in (f"/manage/events/{treasurer}", f"/manage/events/{treasurer}/orders", "/manage/guests", "/manage/people", "/manage/audit"):
        assert hidden not in seen, hidden
    for link in sorted(seen):
        assert (await client.get(link)).status_code == 200, link


async def test_a_treasurer_cannot_run_the_event_see_its_guests_or_manage_the_team(client: httpx.AsyncClient, treasurer: str) -> None:
    refused = (
        f"/manage/events/{treasurer}",
        f"/manage/events/{treasurer}/edit",
        f"/manage/events/{treasurer}/orders",
        f"/manage/events/{treasurer}/attendees.csv",
        f"/manage/events/{treasurer}/claims",
        f"/manage/events/{treasurer}/announcements",
        f"/manage/series/{SERIES}",
        "/manage/events/new",
        "/manage/guests",
        "/manage/people",
        "/manage/audit",
        "/manage/organisation",
    )
    for path in refused:
        assert (await client.get(path)).status_code == 403, path
    # Nor can they change what the statement is made of: an event's costs stay the organisers'.
    token = await accounts.create_api_token(TREASURER, now=datetime.now(ZoneInfo("UTC")))
    cost = await client.post(
        f"/api/events/{treasurer}/costs", json={"description": "Taxi", "amount_pence": 900}, headers={"Authorization": f"Bearer {token}"}
    )
    assert cost.status_code == 403
    reconciliation = await client.get(f"/api/events/{treasurer}/reconciliation", headers={"Authorization": f"Bearer {token}"})
    assert reconciliation.status_code == 200 and reconciliation.json()["event"] == treasurer
    # The back office's forms too, sent with a valid CSRF token: refused, and nothing changes.
    costs = await EventCost.count()
    for path, form in (
        ("/manage/series", {"title": "Treasurer's series"}),
        (f"/manage/events/{treasurer}/partners/costs", {"description": "Taxi", "amount": "9"}),
        (f"/manage/events/{treasurer}/edit", {"title": "Renamed"}),
    ):
        assert (await post_form(client, path, form)).status_code == 403, path
    assert not await Series.exists().where(Series.title == "Treasurer's series")
    assert await EventCost.count() == costs and await Event.exists().where(Event.title == "August Supper Club")


async def test_a_treasurer_records_a_payout_to_a_partner_project(client: httpx.AsyncClient, treasurer: str, now: datetime) -> None:
    page = "/manage/partners/welcome-kitchen/payouts"
    today = now.astimezone(ZoneInfo("Europe/London")).date().isoformat()
    # Nothing is owed yet (the supper's costs come first), so the treasurer says why they pay in advance.
    reason = "Advance agreed by the trustees"
    form = {"event": treasurer, "amount": "£5", "paid_on": today, "bank_reference": "BACS 0077", "override_reason": reason}
    recorded = await post_form(client, page, form, page=page)
    assert recorded.status_code == 303, recorded.text
    assert recorded.headers["location"] == f"{page}?notice=recorded"
    [payout] = await Payout.select().where(Payout.bank_reference == "BACS 0077")
    assert payout["amount_pence"] == 500 and payout["recorded_by"] == TREASURER and payout["override_reason"] == reason
    # And undoes it, with the reversing payout a treasurer's too.
    reversed_ = await post_form(client, f"{page}/{payout['id']}/reverse", {"reason": "Sent twice", "confirm": "yes"}, page=page)
    assert reversed_.status_code == 303 and reversed_.headers["location"] == f"{page}?notice=reversed"
    [reversal] = await Payout.select().where(Payout.reverses == payout["id"])
    assert reversal["amount_pence"] == -500 and reversal["recorded_by"] == TREASURER


async def test_an_owner_can_invite_a_treasurer(client: httpx.AsyncClient, now: datetime) -> None:
    await accounts.create_user("owner@test.example", role="owner", password=PASSWORD)
    assert (await sign_in(client, "owner@test.example", PASSWORD)).status_code == 303
    people = await client.get("/manage/people")
    assert re.search(r'<option value="treasurer"[^>]*>treasurer</option>', people.text)
    invited = await post_form(client, "/manage/people/invitations", {"email": "tess@test.example", "role": "treasurer"}, page="/manage/people")
    assert invited.status_code == 303, invited.text
    [invitation] = await Invitation.select(Invitation.role).where(Invitation.email == "tess@test.example")
    assert invitation["role"] == "treasurer"


async def test_a_treasurer_decides_where_unused_pay_it_forward_money_goes(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await closed_with_unused_money(client, organiser, now)
    await accounts.create_user(TREASURER, role="treasurer", password=PASSWORD)
    assert (await sign_in(client, TREASURER, PASSWORD)).status_code == 303
    statement = f"/manage/events/{slug}/statement"
    assert "£90 of pay-it-forward money was not used" in (await client.get(statement)).text
    done = await post_form(client, f"{statement}/pay-it-forward", {"decision": "beneficiaries", "confirmed": "yes"}, page=statement)
    assert done.status_code == 303 and done.headers["location"] == f"{statement}?notice=unused_decided#unused-heading"
    [decided] = await AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == "pay_it_forward.decided")
    assert decided["actor"] == TREASURER
    assert await LedgerEntry.count().where(LedgerEntry.kind == "pif_decision") > 0
