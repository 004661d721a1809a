"""Demo data: the partner projects and the two demo events. Seeding twice changes nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.accounts import service as accounts
from events.accounts.tables import User
from events.catalogue import service as catalogue
from events.catalogue.schemas import EventCreate, PartnerIn, ShareIn, TicketTypeIn
from events.catalogue.tables import Event, Partner
from events.orders import service as _orders  # noqa: F401 - registers what the catalogue shows of sales (catalogue.sales)

LONDON = ZoneInfo("Europe/London")
DEMO_ORGANISER_EMAIL = "organiser@example.org"
DEMO_DOOR_EMAIL = "door@example.org"
# Development only: `events demo` refuses to create these logins in production.
DEMO_ORGANISER_PASSWORD = "organiser-demo-2026"
DEMO_DOOR_PASSWORD = "door-demo-2026"

PARTNERS = [
    PartnerIn(
        slug="welcome-cinema",
        name="Welcome Cinema",
        description="Free film nights and film-making workshops with refugees and asylum seekers in east London.",
        website="https://example.org/welcome-cinema",
    ),
    PartnerIn(
        slug="welcome-kitchen",
        name="Welcome Kitchen",
        description="A community kitchen where refugee cooks train, earn and feed their neighbours.",
        website="https://example.org/welcome-kitchen",
    ),
    PartnerIn(
        slug="help-refugees",
        name="Help Refugees",
        description="Emergency aid and long-term support for refugees in the UK and Europe.",
        website="https://example.org/help-refugees",
    ),
]


def next_august_thursday(today: date) -> date:
    """The third Thursday of the next August that has not passed."""
    year = today.year if today < date(today.year, 8, 15) else today.year + 1
    first = date(year, 8, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=2)


def club_night_date(today: date) -> date:
    """A Saturday about five weeks ahead, so advance sales are open for a while."""
    start = today + timedelta(days=35)
    return start + timedelta(days=(5 - start.weekday()) % 7)


def supper_club(today: date) -> EventCreate:
    day = next_august_thursday(today)
    return EventCreate(
        slug="august-supper-club",
        title="August Supper Club",
        description=(
            "A three-course supper cooked by refugee chefs from Welcome Kitchen, with a short film from Welcome Cinema.\n\n"
            "Half the seats are kept free for local refugees and asylum seekers. You can pay a place forward "
            "when you book, and any surplus goes to our partner projects."
        ),
        venue="St Margaret's Community Hall",
        address="12 Example Road, London E8 1AA",
        starts_at=datetime.combine(day, time(19, 0), LONDON),
        ends_at=datetime.combine(day, time(22, 30), LONDON),
        capacity=40,
        reserved_free_places=20,
        pay_it_forward_place_pence=3000,
        status="on_sale",
        ticket_types=[TicketTypeIn(name="Supper", price_pence=3000, channel="both", max_per_order=6)],
        beneficiaries=[ShareIn(partner="welcome-kitchen", share_bp=7000), ShareIn(partner="welcome-cinema", share_bp=3000)],
    )


def club_night(today: date) -> EventCreate:
    day = club_night_date(today)
    starts_at = datetime.combine(day, time(22, 0), LONDON)
    return EventCreate(
        slug="choose-love-night",
        title="Choose Love Night",
        description=("A club night for Help Refugees: four DJs, six hours, one cause. Every penny, booking fees included, goes to Help Refugees."),
        venue="The Basement",
        address="3 Example Street, London N1 7AA",
        starts_at=starts_at,
        ends_at=datetime.combine(day + timedelta(days=1), time(4, 0), LONDON),
        capacity=250,
        booking_fee_pence=50,
        status="on_sale",
        ticket_types=[
            TicketTypeIn(name="Advance", price_pence=600, channel="online", sales_end=starts_at, max_per_order=8),
            TicketTypeIn(name="On the door", price_pence=900, channel="door", max_per_order=8),
        ],
        beneficiaries=[ShareIn(partner="help-refugees", share_bp=10_000)],
    )


async def seed_demo(now: datetime, *, with_demo_login: bool) -> list[str]:
    """Create whatever of the demo is missing and return what was created."""
    created: list[str] = []
    for partner in PARTNERS:
        if not await Partner.exists().where(Partner.slug == partner.slug):
            await catalogue.create_partner(partner)
            created.append(f"partner {partner.slug}")
    today = now.astimezone(LONDON).date()
    for event in (supper_club(today), club_night(today)):
        if not await Event.exists().where(Event.slug == event.slug):
            await catalogue.create_event(event, now)
            created.append(f"event {event.slug}")
    if with_demo_login:
        for email, role, password, name in (
            (DEMO_ORGANISER_EMAIL, "organiser", DEMO_ORGANISER_PASSWORD, "Demo Organiser"),
            (DEMO_DOOR_EMAIL, "door", DEMO_DOOR_PASSWORD, "Door 1"),
        ):
            if not await User.exists().where(User.email == email):
                await accounts.create_user(email, role=role, password=password, display_name=name)
                created.append(f"{role} login")
    return created
