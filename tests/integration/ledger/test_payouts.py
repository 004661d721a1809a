"""Payouts to a partner project: listed, recorded from the back office's form (pounds and pence, the reason asked for
only when paying more than is owed) and undone by a reversing payout (never an edit), once, booked to the ledger and
in the audit log; in the API and on the page, only for the organisation's own partner projects."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from events.audit.tables import AuditEntry
from events.catalogue.lookup import partner_id
from events.ledger.tables import LedgerEntry, Payout
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order

PAGE = "/manage/partners/welcome-kitchen/payouts"


@pytest.fixture
async def supper(client: httpx.AsyncClient, now: datetime) -> str:
    """Four £30 tickets paid: Welcome Kitchen (70%) is owed £84, Welcome Cinema (30%) £36."""
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}])
    await pay_with_test_page(client, (await place_order(client, slug, quantity=4)).json())
    return slug


async def kitchen_line(client: httpx.AsyncClient, slug: str, organiser: dict[str, str]) -> dict[str, int]:
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    return next(line for line in reconciliation["partners"] if line["partner"] == "welcome-kitchen")


async def pay(
    client: httpx.AsyncClient, organiser: dict[str, str], slug: str, pence: int, partner: str = "welcome-kitchen", **extra: str
) -> httpx.Response:
    body = {"event": slug, "amount_pence": pence, "paid_on": datetime.now().astimezone().isoformat(), "bank_reference": "BACS 0001", **extra}
    return await client.post(f"/api/partners/{partner}/payouts", json=body, headers=organiser)


async def test_a_payout_is_listed_and_reversed_once_by_a_reversing_payout(client: httpx.AsyncClient, supper: str, organiser: dict[str, str]) -> None:
    paid = await pay(client, organiser, supper, 5_000)
    assert paid.status_code == 201, paid.text
    first = paid.json()["id"]
    assert (await kitchen_line(client, supper, organiser))["paid_out_pence"] == 5_000

    listed = await client.get("/api/partners/welcome-kitchen/payouts", headers=organiser)
    assert listed.status_code == 200
    assert [(p["id"], p["amount_pence"], p["reverses"], p["reversed_by"]) for p in listed.json()] == [(first, 5_000, None, None)]

    reversed_ = await client.post(
        f"/api/partners/welcome-kitchen/payouts/{first}/reverse", json={"reason": "Paid to the wrong account"}, headers=organiser
    )
    assert reversed_.status_code == 201, reversed_.text
    reversal = reversed_.json()
    assert (reversal["amount_pence"], reversal["reverses"], reversal["override_reason"], reversal["bank_reference"]) == (
        -5_000,
        first,
        "Paid to the wrong account",
        "BACS 0001",
    )
    line = await kitchen_line(client, supper, organiser)
    assert (line["paid_out_pence"], line["balance_pence"]) == (0, 8_400)  # owed again, in full
    statement = (await client.get("/api/partners/welcome-kitchen/statement", headers=organiser)).json()
    assert statement["totals"]["paid_out_pence"] == 0 and statement["totals"]["balance_pence"] == 8_400

    # Once only; a reversal is not reversed (record the payout again instead). Nothing changes either time.
    twice = await client.post(f"/api/partners/welcome-kitchen/payouts/{first}/reverse", headers=organiser)
    assert twice.status_code == 409 and twice.json()["error"] == "payout_already_reversed"
    undo_undo = await client.post(f"/api/partners/welcome-kitchen/payouts/{reversal['id']}/reverse", json={}, headers=organiser)
    assert undo_undo.status_code == 409 and undo_undo.json()["error"] == "payout_is_reversal"
    assert await Payout.count() == 2

    # Each is its own ledger entry (the ledger is never edited), and both are in the audit log.
    entries = await LedgerEntry.select(LedgerEntry.source, LedgerEntry.amount_pence).where(LedgerEntry.kind == "payout").order_by(LedgerEntry.id)
    assert entries == [{"source": f"payout:{first}", "amount_pence": -5_000}, {"source": f"payout:{reversal['id']}", "amount_pence": 5_000}]
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action).where(AuditEntry.subject_type == "payout").order_by(AuditEntry.id)]
    assert actions == ["payout.recorded", "payout.reversed"]

    listed = (await client.get("/api/partners/welcome-kitchen/payouts", headers=organiser)).json()
    assert [(p["id"], p["reverses"], p["reversed_by"]) for p in listed] == [(reversal["id"], first, None), (first, None, reversal["id"])]


async def test_another_partners_or_organisations_payouts_are_not_found(
    client: httpx.AsyncClient, supper: str, organiser: dict[str, str], now: datetime
) -> None:
    cinema = (await pay(client, organiser, supper, 1_000, partner="welcome-cinema")).json()["id"]
    # Another partner project's payout, named under this one's path: not found, and not reversed.
    wrong_partner = await client.post(f"/api/partners/welcome-kitchen/payouts/{cinema}/reverse", headers=organiser)
    assert wrong_partner.status_code == 404 and wrong_partner.json()["error"] == "payout_not_found"
    assert (await client.post("/api/partners/welcome-kitchen/payouts/999999/reverse", headers=organiser)).status_code == 404

    await organisations.create_organisation("other", OrganisationDetails(name="Other Charity"))
    theirs = await make_event(now, organisation="other", slug="other-night", beneficiaries=[{"partner": "other-partner", "share_bp": 10_000}])
    await Payout(
        partner=await partner_id("other-partner"), event=None, amount_pence=100, paid_on=now, bank_reference="THEIRS", recorded_by="x@other.example"
    ).save()
    other_payout = (await Payout.select(Payout.id).where(Payout.bank_reference == "THEIRS").first())["id"]
    assert theirs == "other-night"
    for method, path in (
        ("GET", "/api/partners/other-partner/payouts"),
        ("POST", f"/api/partners/other-partner/payouts/{other_payout}/reverse"),
        ("POST", f"/api/partners/welcome-kitchen/payouts/{other_payout}/reverse"),
    ):
        response = await client.request(method, path, headers=organiser, json={} if method == "POST" else None)
        assert response.status_code == 404, (path, response.text)
        assert "THEIRS" not in response.text
    assert await Payout.count() == 2  # nothing reversed
    assert (await client.get("/api/partners/welcome-kitchen/payouts")).status_code == 401


async def test_the_payouts_page_records_in_pounds_asks_why_when_paying_more_and_reverses(
    client: httpx.AsyncClient, supper: str, now: datetime
) -> None:
    await sign_in_organiser(client)
    page = await client.get(f"{PAGE}?event={supper}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Welcome Kitchen" in page.text and "£84 owed" in page.text
    assert 'name="override_reason"' not in page.text  # asked only when the amount is more than is owed
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    form = {"event": supper, "amount": "£12.50", "paid_on": today.isoformat(), "bank_reference": "BACS 0042"}

    recorded = await post_form(client, PAGE, form, page=PAGE)
    assert recorded.status_code == 303 and recorded.headers["location"] == f"{PAGE}?notice=recorded"
    [payout] = await Payout.select().where(Payout.bank_reference == "BACS 0042")
    assert payout["amount_pence"] == 1_250 and payout["recorded_by"] == "boss@test.example" and payout["override_reason"] == ""
    assert payout["paid_on"].astimezone(ZoneInfo("Europe/London")).date() == today
    listing = (await client.get(recorded.headers["location"])).text
    assert "Payout recorded" in listing and "£12.50" in listing and "£71.50 owed" in listing

    # Mistakes are named next to their fields, and nothing is recorded.
    for changes, field, message in (
        ({"amount": "twelve"}, "amount", "Enter the amount in pounds and pence"),
        ({"amount": "0"}, "amount", "Enter an amount above £0."),
        ({"paid_on": "31/02/2027"}, "paid_on", "Enter the day the money was paid"),
        ({"paid_on": (today + timedelta(days=2)).isoformat()}, "paid_on", "today or before"),
        ({"bank_reference": " "}, "bank_reference", "Enter the bank&#39;s reference"),
    ):
        refused = await post_form(client, PAGE, form | changes, page=PAGE)
        assert refused.status_code == 422, (changes, refused.text)
        assert f'id="{field}-error"' in refused.text and message in refused.text, changes
        assert 'id="error-summary"' in refused.text
    assert await Payout.count() == 1

    # More than the £71.50 still owed: the form asks why, keeping what was typed; nothing is paid until a reason is given.
    too_much = await post_form(client, PAGE, form | {"amount": "100", "bank_reference": "BACS 0043"}, page=PAGE)
    assert too_much.status_code == 409
    assert 'name="override_reason"' in too_much.text and "Say why you are paying more than the £71.50 owed." in too_much.text
    assert 'value="100"' in too_much.text and 'value="BACS 0043"' in too_much.text
    assert await Payout.count() == 1
    overridden = await post_form(
        client, PAGE, form | {"amount": "100", "bank_reference": "BACS 0043", "override_reason": "Their grant was agreed in advance"}, page=PAGE
    )
    assert overridden.status_code == 303
    [big] = await Payout.select().where(Payout.bank_reference == "BACS 0043")
    assert big["amount_pence"] == 10_000 and big["override_reason"] == "Their grant was agreed in advance"

    # Reversing asks for a confirmation, then records the reversing payout.
    unconfirmed = await post_form(client, f"{PAGE}/{big['id']}/reverse", {"reason": "Typed the wrong amount"}, page=PAGE)
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.text
    reversed_ = await post_form(client, f"{PAGE}/{big['id']}/reverse", {"reason": "Typed the wrong amount", "confirm": "yes"}, page=PAGE)
    assert reversed_.status_code == 303 and reversed_.headers["location"] == f"{PAGE}?notice=reversed"
    after = (await client.get(reversed_.headers["location"])).text
    assert "-£100" in after and f"Reversed by no. {big['id'] + 1}" in after and f"Reverses no. {big['id']}" in after
    assert "£71.50 owed" in after
    again = await post_form(client, f"{PAGE}/{big['id']}/reverse", {"confirm": "yes"}, page=PAGE)
    assert again.status_code == 409 and "already been reversed" in again.text
    assert await Payout.count() == 3


async def test_only_organisers_of_the_whole_organisation_reach_payouts(client: httpx.AsyncClient, supper: str, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.accounts import service as accounts
    from tests.integration.accounts.test_login import sign_in

    anonymous = await client.get(PAGE)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    from events.accounts.tables import Membership
    from events.catalogue import access
    from events.catalogue.lookup import find_event

    limited = await accounts.create_user("limited@test.example", role="organiser", password="a long password", restricted=True)
    event = await find_event(supper)
    membership = await Membership.select(Membership.id).where(Membership.user == limited.id).first()
    await access.set_chosen_events(membership["id"], [event.id], event.organisation)
    await sign_in(client, "limited@test.example", "a long password")
    assert (await client.get(PAGE)).status_code == 403
    statement = await client.get(f"/manage/events/{supper}/statement")
    assert statement.status_code == 200 and "/payouts" not in statement.text  # no link they cannot follow


async def test_a_partner_paid_before_a_refund_is_shown_as_overpaid_with_what_to_do(
    client: httpx.AsyncClient, supper: str, organiser: dict[str, str]
) -> None:
    """Welcome Kitchen is paid its whole £84; then a £30 ticket is refunded, and 70% of it came off what was due."""
    assert (await pay(client, organiser, supper, 8_400)).status_code == 201
    reference = (await Order.select(Order.reference).first())["reference"]
    refunded = await client.post(f"/api/orders/{reference}/refunds", json={"amount_pence": 3_000, "reason": "Could not come"}, headers=organiser)
    assert refunded.status_code in (200, 201), refunded.text
    line = await kitchen_line(client, supper, organiser)
    assert line["balance_pence"] == -2_100

    await sign_in_organiser(client)
    page = (await client.get(PAGE)).text
    assert "£21 overpaid" in page and "£21 owed" not in page and "Overpaid: ask for it back, or take it off a later payout." in page
    statement = (await client.get(f"/manage/events/{supper}/statement")).text
    assert "£21 more was paid out than is due: to be paid back, or taken off a later payout." in statement
    pdf = await client.get("/manage/partners/welcome-kitchen/statement.pdf")
    assert pdf.status_code == 200, pdf.text[:300]
    words = " ".join(subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode().split())
    assert "Overpaid by £21: to be paid back, or taken off a later payout" in words
