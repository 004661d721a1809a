"""A supper club with every part of an event's set-up, and guests, for the copy tests: what a copy must take and what
it must leave behind."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.accounts.tables import Membership
from events.catalogue import access
from events.catalogue.tables import Event, TicketType
from events.checkin import door_team
from events.codes.tables import Code
from events.ledger import service as ledger
from events.orders import claims
from events.organisations import service as organisations
from events.questions.statuses import QuestionKind
from events.questions.tables import Answer, Question, QuestionTicketType
from events.series import service as series_service
from events.series.schemas import SeriesIn
from events.tickets.issuing import issue_and_confirm
from tests.factories import make_event
from tests.support.orders import pay_with_test_page, place_order
from tests.support.waitlist import add_waiting_entry

SLUG = "august-supper-club"
SERIES = "third-thursday"
# The supper club's start: a Thursday evening in London's summer time, far enough ahead for its sales windows.
STARTS = datetime.fromisoformat("2031-08-21T19:00:00+01:00")


@dataclass(frozen=True)
class SupperClub:
    slug: str
    event_id: int
    type_ids: dict[str, int]  # by name
    door_member_id: int
    limited_membership_id: int
    order_reference: str


async def supper_club_with_guests(client: httpx.AsyncClient, now: datetime) -> SupperClub:
    """The August supper club in the third-Thursday series: three ticket types (one hidden, one with a sales window
    and another with a quota), two partners' shares, costs with a correction, two questions (one limited to one type),
    a door member and an organiser limited to it; and guest data: a paid order with an answer, a free place, a claim
    link, an access code and someone waiting."""
    organisation = await organisations.resolve(None)
    await series_service.create_series(SeriesIn(title="Third Thursday supper club", slug=SERIES), organisation_id=organisation.id, now=now)
    slug = await make_event(
        now,
        slug=SLUG,
        title="August Supper Club",
        starts_at=STARTS.isoformat(),
        ends_at=(STARTS + timedelta(hours=3, minutes=30)).isoformat(),
        access_information="Step-free entrance on Example Road.",
        capacity=60,
        reserved_free_places=12,
        booking_fee_pence=50,
        pay_it_forward_place_pence=3000,
        pay_it_forward_converts_general=True,
        allow_reentry=True,
        cost_per_attendee_pence=400,
        booking_fees_to_cause=False,
        reminder_hours_before=24,
        thank_you_enabled=False,
        waiting_list_first=False,
        offer_hours=6,
        refund_days_before=3,
        series=SERIES,
        ticket_types=[
            {"name": "Supper", "price_pence": 3000, "max_per_order": 6, "quota": 40},
            {
                "name": "Early bird",
                "price_pence": 2500,
                "channel": "online",
                "sales_start": (now - timedelta(days=1)).isoformat(),
                # 09:00 on the Monday before, in London.
                "sales_end": "2031-08-18T09:00:00+01:00",
                "waiting_list": False,
                "max_per_order": 2,
            },
            {"name": "Volunteer", "price_pence": 0, "channel": "door", "max_per_order": 1},
        ],
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}],
    )
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    types = {row["name"]: row["id"] for row in await TicketType.select(TicketType.id, TicketType.name).where(TicketType.event == event["id"])}
    await TicketType.update({TicketType.hidden: True}).where(TicketType.id == types["Volunteer"])
    await Event.update({Event.answers_close_hours_before: 24}).where(Event.id == event["id"])

    await ledger.add_event_cost(slug, description="Hall hire", amount_pence=12_000, now=now)
    await ledger.add_event_cost(slug, description="Ingredients", amount_pence=8_000, now=now)
    await ledger.add_event_cost(slug, description="Ingredients (correction)", amount_pence=-1_000, now=now)

    options = json.dumps([{"key": "vegetarian", "label": "Vegetarian"}, {"key": "halal", "label": "Halal"}])
    dietary = Question(event=event["id"], kind=QuestionKind.several_choices, label="Dietary needs", preset="dietary", options=options, door_flag=True)
    await dietary.save()
    shirt = Question(event=event["id"], kind=QuestionKind.text, label="T-shirt size", required=True, per_ticket=False, position=1)
    await shirt.save()
    await QuestionTicketType(question=shirt.id, ticket_type=types["Volunteer"]).save()
    removed = Question(event=event["id"], kind=QuestionKind.yes_no, label="Old question", position=2, removed_at=now)
    await removed.save()

    door = await accounts.create_user("door@test.example", role="door", password="a long password", display_name="Dana Door")
    await door_team.assign_door_staff(event["id"], door.id, now=now)
    limited = await accounts.create_user("limited@test.example", role="organiser", password="a long password", restricted=True)
    membership = await Membership.select(Membership.id).where(Membership.user == limited.id).first()
    await access.set_chosen_events(membership["id"], [event["id"]], organisation.id)

    created = (await place_order(client, slug, quantity=2, type_name="Supper")).json()
    paid = await pay_with_test_page(client, created)
    assert paid.status_code in (200, 303), paid.text
    await Answer(question=dietary.id, order_id=await _order_id(created["reference"]), ticket_index=0, value='["vegetarian"]').save()
    await claims.give_free_place(slug, name="Amal Haddad", email="amal@example.org", issue=issue_and_confirm, now=now)
    await claims.create_claim_code(slug, partner_name="Drop-in centre", places=4, now=now)
    await Code(event=event["id"], code="VOLUNTEERS", max_uses=5).save()
    await add_waiting_entry(slug, now=now, name="Wafa Waiting", email="wafa@example.org")
    return SupperClub(
        slug=slug,
        event_id=event["id"],
        type_ids=types,
        door_member_id=door.id,
        limited_membership_id=membership["id"],
        order_reference=created["reference"],
    )


async def _order_id(reference: str) -> int:
    from events.orders.tables import Order

    row = await Order.select(Order.id).where(Order.reference == reference).first()
    return row["id"]
