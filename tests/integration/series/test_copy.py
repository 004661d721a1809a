"""Copying an event through the API: the copy is a draft with every part of the set-up (settings, ticket types with
their sales windows moved, shares, costs, questions with their type limits, door team, series, the organisers
limited to it) and nothing of the guests (orders, tickets, codes, claim links, waiting entries, answers)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from events.accounts import service as accounts
from events.catalogue.copying import COPIED_EVENT_FIELDS, COPIED_TYPE_FIELDS
from events.catalogue.tables import BeneficiaryShare, Event, EventAccess, TicketType
from events.checkin.tables import DoorAssignment
from events.codes.tables import Code
from events.ledger.tables import EventCost, LedgerEntry, Payout
from events.orders.tables import ClaimCode, Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.questions.tables import Answer, Question, QuestionTicketType
from events.tickets.tables import EventSigningKey, Ticket
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.series import SERIES, SupperClub, supper_club_with_guests

LONDON = ZoneInfo("Europe/London")
# The third Thursday of November 2031: the clocks have gone back since August.
COPY = {"slug": "november-supper-club", "title": "November Supper Club", "starts_at": "2031-11-20T19:00:00", "ends_at": "2031-11-20T22:30:00"}


async def _event(slug: str) -> dict:
    row = await Event.select().where(Event.slug == slug).first()
    assert row is not None, slug
    return row


async def _types(event_id: int) -> dict[str, dict]:
    return {row["name"]: row for row in await TicketType.select().where(TicketType.event == event_id)}


async def _questions(event_id: int) -> list[tuple]:
    rows = await Question.select().where(Question.event == event_id, Question.removed_at.is_null()).order_by(Question.position)
    limits = {
        row["question"]: row["ticket_type.name"]
        for row in await QuestionTicketType.select(QuestionTicketType.question, QuestionTicketType.ticket_type.name).where(
            QuestionTicketType.question.is_in([r["id"] for r in rows] or [-1])
        )
    }
    fields = ("kind", "label", "help_text", "preset", "options", "required", "per_ticket", "door_flag", "position")
    return [(*(row[name] for name in fields), limits.get(row["id"])) for row in rows]


async def assert_copied_set_up(club: SupperClub, copy_slug: str) -> dict:
    """Every part of the supper club's set-up is on the copy, as its own; returns the copy's row."""
    source, copy = await _event(club.slug), await _event(copy_slug)
    assert {name: copy[name] for name in COPIED_EVENT_FIELDS} == {name: source[name] for name in COPIED_EVENT_FIELDS}
    assert copy["reserved_free_places"] == 12 and copy["booking_fee_pence"] == 50 and copy["answers_close_hours_before"] == 24
    assert copy["series"] is not None and copy["series"] == source["series"]
    assert (copy["status"], copy["places_taken"], copy["free_places_claimed"], copy["unused_contributions"]) == ("draft", 0, 0, "held")
    assert source["places_taken"] == 2 and source["free_places_claimed"] == 1  # the guests are the source's, not the copy's

    source_types, copy_types = await _types(source["id"]), await _types(copy["id"])
    assert sorted(copy_types) == ["Early bird", "Supper", "Volunteer"]
    for name, row in copy_types.items():
        assert {field: row[field] for field in COPIED_TYPE_FIELDS} == {field: source_types[name][field] for field in COPIED_TYPE_FIELDS}
        assert row["places_taken"] == 0 and row["id"] != source_types[name]["id"]
    assert copy_types["Volunteer"]["hidden"] is True and copy_types["Supper"]["quota"] == 40
    assert copy_types["Early bird"]["waiting_list"] is False and copy_types["Early bird"]["channel"] == "online"

    shares = await BeneficiaryShare.select(BeneficiaryShare.partner.slug, BeneficiaryShare.share_bp).where(BeneficiaryShare.event == copy["id"])
    assert {row["partner.slug"]: row["share_bp"] for row in shares} == {"welcome-kitchen": 7000, "welcome-cinema": 3000}

    costs = await EventCost.select(EventCost.description, EventCost.amount_pence).where(EventCost.event == copy["id"]).order_by(EventCost.id)
    assert [(row["description"], row["amount_pence"]) for row in costs] == [
        ("Hall hire", 12_000),
        ("Ingredients", 8_000),
        ("Ingredients (correction)", -1_000),
    ]
    # Booked as the copy's own costs: the only money in its ledger.
    entries = await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.amount_pence).where(LedgerEntry.event == copy["id"])
    assert {row["kind"] for row in entries} == {"event_cost"} and sum(row["amount_pence"] for row in entries) == -19_000

    assert await _questions(copy["id"]) == await _questions(source["id"])
    [(*_, limit)] = [q for q in await _questions(copy["id"]) if q[1] == "T-shirt size"]
    assert limit == "Volunteer"
    shirt = await Question.select(Question.id).where(Question.event == copy["id"], Question.label == "T-shirt size").first()
    [limited_to] = await QuestionTicketType.select(QuestionTicketType.ticket_type).where(QuestionTicketType.question == shirt["id"])
    assert limited_to["ticket_type"] == copy_types["Volunteer"]["id"]  # the copy's own type, not the source's
    assert not await Question.exists().where(Question.event == copy["id"], Question.label == "Old question")

    team = await DoorAssignment.select(DoorAssignment.user).where(DoorAssignment.event == copy["id"])
    assert [row["user"] for row in team] == [club.door_member_id]
    assert await EventAccess.exists().where(EventAccess.event == copy["id"], EventAccess.membership == club.limited_membership_id)
    return copy


async def assert_no_guest_data(event_id: int) -> None:
    assert await Order.count().where(Order.event == event_id) == 0
    assert await Ticket.count().where(Ticket.event == event_id) == 0
    assert await Code.count().where(Code.event == event_id) == 0
    assert await ClaimCode.count().where(ClaimCode.event == event_id) == 0
    assert await WaitingEntry.count().where(WaitingEntry.event == event_id) == 0
    assert await Answer.count().where(Answer.question.event == event_id) == 0
    assert await EventSigningKey.count().where(EventSigningKey.event == event_id) == 0
    assert await Payout.count().where(Payout.event == event_id) == 0


async def test_a_copy_has_every_part_of_the_set_up_and_no_guest_data(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    response = await client.post(f"/api/events/{club.slug}/copy", json=COPY, headers=organiser)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["slug"], body["title"], body["status"]) == ("november-supper-club", "November Supper Club", "draft")
    # Read in the event's zone: 19:00 in London in November is GMT.
    assert (body["starts_at"], body["ends_at"]) == ("2031-11-20T19:00:00Z", "2031-11-20T22:30:00Z")
    assert body["series"] == {"slug": SERIES, "title": "Third Thursday supper club", "url": f"/series/{SERIES}"}
    assert [t["name"] for t in body["ticket_types"]] == ["Supper", "Early bird", "Volunteer"]
    assert body["reserved_free_places"] == 12 and body["free_places"]["claimed"] == 0

    copy = await assert_copied_set_up(club, "november-supper-club")
    await assert_no_guest_data(copy["id"])

    # The sales window moved with the event (13 weeks), in wall-clock time at the venue: 09:00 on the Monday before,
    # though the clocks went back in between.
    source_types, copy_types = await _types(club.event_id), await _types(copy["id"])
    early, moved = source_types["Early bird"], copy_types["Early bird"]
    assert moved["sales_end"].astimezone(LONDON) == datetime(2031, 11, 17, 9, 0, tzinfo=LONDON)
    assert moved["sales_start"].astimezone(LONDON).replace(tzinfo=None) == early["sales_start"].astimezone(LONDON).replace(tzinfo=None) + timedelta(
        weeks=13
    )
    assert copy_types["Supper"]["sales_start"] is None and copy_types["Supper"]["sales_end"] is None

    # The source is as it was: its guests, answers and codes stay with it.
    assert await Order.count().where(Order.event == club.event_id) == 2
    assert await Code.count().where(Code.event == club.event_id) == 1
    assert await Answer.count() == 1

    [logged] = await list_entries(action="event.copied")
    assert logged.subject_id == "november-supper-club" and logged.before == {"copied_from": club.slug}
    assert logged.after["ticket_types"] == 3 and logged.after["costs_pence"] == 19_000 and logged.after["questions"] == 2
    assert logged.after["door_team"] == 1

    # The copy's statement starts with its costs only.
    statement = await client.get("/api/events/november-supper-club/reconciliation", headers=organiser)
    assert statement.status_code == 200 and statement.json()["costs_pence"] == 19_000 and statement.json()["totals"]["net_pence"] == 0


async def test_a_copy_without_a_title_keeps_the_events(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    response = await client.post(
        f"/api/events/{club.slug}/copy",
        json={"slug": "supper-club-again", "starts_at": "2031-09-18T19:00:00+01:00", "ends_at": "2031-09-18T22:30:00+01:00"},
        headers=organiser,
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "August Supper Club"


async def test_a_taken_address_or_dates_that_do_not_work_change_nothing(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    events = await Event.count()
    taken = await client.post(f"/api/events/{club.slug}/copy", json={**COPY, "slug": club.slug}, headers=organiser)
    assert taken.status_code == 409 and taken.json()["error"] == "slug_taken" and "slug" in taken.json()["fields"]
    backwards = await client.post(f"/api/events/{club.slug}/copy", json={**COPY, "ends_at": "2031-11-20T18:00:00"}, headers=organiser)
    assert backwards.status_code == 422 and "ends_at" in backwards.json()["fields"]
    bad_slug = await client.post(f"/api/events/{club.slug}/copy", json={**COPY, "slug": "Not A Slug"}, headers=organiser)
    assert bad_slug.status_code == 422 and "slug" in bad_slug.json()["fields"]
    far = await client.post(f"/api/events/{club.slug}/copy", json={**COPY, "starts_at": "2931-11-20T19:00:00"}, headers=organiser)
    assert far.status_code == 422 and "starts_at" in far.json()["fields"]  # a mistyped year, not a date to sell for
    edge = await client.post(
        f"/api/events/{club.slug}/copy",
        json={**COPY, "starts_at": "0001-01-01T00:00:00+05:00", "ends_at": "0001-01-01T03:00:00+05:00"},
        headers=organiser,
    )
    assert edge.status_code == 422 and "starts_at" in edge.json()["fields"]
    missing = await client.post(f"/api/events/{club.slug}/copy", json={"slug": "no-dates"}, headers=organiser)
    assert missing.status_code == 422
    assert await Event.count() == events
    assert await TicketType.count() == 3 and await EventCost.count() == 3 and await Question.count() == 3


async def _token(email: str, role: str, now: datetime, *, organisation_id: int, **options: Any) -> dict[str, str]:
    await accounts.create_user(email, role=role, password=None, organisation_id=organisation_id, **options)
    return {"Authorization": f"Bearer {await accounts.create_api_token(email, now=now, organisation_id=organisation_id)}"}


async def test_copying_checks_the_role_and_the_organisation(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    events = await Event.count()
    ours = (await organisations.resolve(None)).id
    beta = await organisations.create_organisation("beta", OrganisationDetails(name="Beta"))
    other = await _token("organiser@beta.example", "organiser", now, organisation_id=beta.id)
    refused = await client.post(f"/api/events/{club.slug}/copy", json=COPY, headers=other)
    assert refused.status_code == 404 and refused.json()["error"] == "event_not_found"
    for email, role, options in (
        ("door2@test.example", "door", {}),
        ("viewer@test.example", "partner_viewer", {"partner_id": None}),
        ("limited2@test.example", "organiser", {"restricted": True}),
    ):
        headers = await _token(email, role, now, organisation_id=ours, **options)
        answer = await client.post(f"/api/events/{club.slug}/copy", json=COPY, headers=headers)
        assert answer.status_code == 403, (role, options, answer.text)
    assert (await client.post(f"/api/events/{club.slug}/copy", json=COPY)).status_code == 401
    assert await Event.count() == events

    # Beta's own event copies within Beta: the copy is Beta's.
    theirs = await make_event(now, organisation="beta", slug="beta-night", beneficiaries=[{"partner": "beta-partner", "share_bp": 10_000}])
    copied = await client.post(f"/api/events/{theirs}/copy", json={**COPY, "slug": "beta-night-again"}, headers=other)
    assert copied.status_code == 201, copied.text
    assert (await _event("beta-night-again"))["organisation"] == beta.id
    assert (await client.post(f"/api/events/{theirs}/copy", json={**COPY, "slug": "stolen"}, headers=organiser)).status_code == 404


async def test_the_same_copy_sent_twice_at_once_makes_one(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """A double click on "Copy the event": one copy, and the other requests are told its address is taken."""
    club = await supper_club_with_guests(client, now)
    answers = await asyncio.gather(*(client.post(f"/api/events/{club.slug}/copy", json=COPY, headers=organiser) for _ in range(4)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409], [answer.text[:200] for answer in answers]
    assert all(answer.json()["error"] == "slug_taken" for answer in answers if answer.status_code == 409)
    copy = await _event("november-supper-club")
    assert await TicketType.count().where(TicketType.event == copy["id"]) == 3
    assert await EventCost.count() == 6 and await Question.count() == 5  # the source's, and one copy's
