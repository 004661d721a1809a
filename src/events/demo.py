"""Demo data: two organisations (a refugee-support network with the supper club, the club night and a film screening,
and a small kitchen project with one event of its own), their partner projects, a few people on the supper club's
waiting lists and its volunteers' access code, and in development a login for each and the screening sold out online (test payments) with people
waiting for a place, so a guest sees the waiting list at work. Seeding twice changes nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.accounts import service as accounts
from events.accounts.tables import User
from events.catalogue import service as catalogue
from events.catalogue.schemas import EventCreate, EventPatch, PartnerIn, ShareIn, TicketTypeIn, TicketTypePatch
from events.catalogue.tables import Event, Partner, Series, TicketType
from events.checkin.door_team import assign_door_staff
from events.checkin.tables import DoorAssignment
from events.codes import service as codes
from events.codes.schemas import CodeIn
from events.codes.tables import Code
from events.ledger import service as _ledger  # noqa: F401 - books the demo's test payments (payments.bookkeeping)
from events.orders import pricing
from events.orders import service as _orders  # noqa: F401 - registers what the catalogue shows of sales (catalogue.sales)
from events.orders.hold_limits import Asker, HoldLimits
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.organisations.tables import Organisation
from events.payments import service as payments
from events.payments.checkout import checkout
from events.payments.gateway import TestGateway
from events.questions import service as questions
from events.questions.rules import DIETARY, Given
from events.questions.tables import Question
from events.series import service as series
from events.series.schemas import SeriesIn
from events.waitlist import service as _waitlist  # noqa: F401 - holds places back for the waiting lists (catalogue.sales)
from events.waitlist.statuses import WaitingKind
from events.waitlist.tables import WaitingEntry

LONDON = ZoneInfo("Europe/London")
DEMO_ORGANISER_EMAIL = "organiser@example.org"
DEMO_DOOR_EMAIL = "door@example.org"
DEMO_KITCHEN_EMAIL = "kitchen@example.org"
DEMO_TREASURER_EMAIL = "treasurer@example.org"
# Development only: `events demo` refuses to create these logins in production.
DEMO_ORGANISER_PASSWORD = "organiser-demo-2026"
DEMO_DOOR_PASSWORD = "door-demo-2026"
DEMO_KITCHEN_PASSWORD = "kitchen-demo-2026"
DEMO_TREASURER_PASSWORD = "treasurer-demo-2026"

NETWORK_SLUG = "refugee-welcome"
NETWORK = OrganisationDetails(
    name="Refugee Welcome Network",
    contact_email="hello@example.org",
    accent_colour="#0b5c4a",
    charity_name="Refugee Welcome Network CIO",
    charity_number="1190000",
    gift_aid_reference="AB12345",
)
KITCHEN_SLUG = "open-kitchen"
KITCHEN = OrganisationDetails(
    name="Open Kitchen Project",
    contact_email="kitchen@example.org",
    accent_colour="#8a2c0d",
    charity_name="Open Kitchen Project",
    charity_number="1200001",
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    organisation: str
    role: str
    email: str
    password: str
    name: str


LOGINS = [
    DemoLogin(NETWORK_SLUG, "owner", DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD, "Demo Organiser"),
    DemoLogin(NETWORK_SLUG, "door", DEMO_DOOR_EMAIL, DEMO_DOOR_PASSWORD, "Door 1"),
    DemoLogin(NETWORK_SLUG, "treasurer", DEMO_TREASURER_EMAIL, DEMO_TREASURER_PASSWORD, "Demo Treasurer"),
    DemoLogin(KITCHEN_SLUG, "owner", DEMO_KITCHEN_EMAIL, DEMO_KITCHEN_PASSWORD, "Kitchen Organiser"),
]

KITCHEN_PARTNERS = [
    PartnerIn(
        slug="open-kitchen-hardship-fund",
        name="Open Kitchen Hardship Fund",
        description="Emergency food and travel money for people waiting for an asylum decision.",
        website="https://example.org/open-kitchen",
    ),
]

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


def sunday_lunch(today: date) -> EventCreate:
    """The kitchen project's own event: a pay-what-you-can lunch three Sundays ahead."""
    start = today + timedelta(days=21)
    day = start + timedelta(days=(6 - start.weekday()) % 7)
    return EventCreate(
        slug="open-kitchen-sunday-lunch",
        title="Open Kitchen Sunday Lunch",
        description="A long-table Sunday lunch cooked by our trainee chefs. Pay what you can; every surplus penny goes to the hardship fund.",
        venue="Open Kitchen",
        address="40 Example Lane, Manchester M4 1AA",
        starts_at=datetime.combine(day, time(12, 30), LONDON),
        ends_at=datetime.combine(day, time(15, 30), LONDON),
        capacity=30,
        reserved_free_places=10,
        pay_it_forward_place_pence=1200,
        status="on_sale",
        ticket_types=[
            TicketTypeIn(name="Lunch", price_pence=1200, channel="both", max_per_order=6),
            TicketTypeIn(name="Lunch (concession)", price_pence=500, channel="both", max_per_order=6),
        ],
        beneficiaries=[ShareIn(partner="open-kitchen-hardship-fund", share_bp=10_000)],
    )


SCREENING_SLUG = "welcome-cinema-screening"


def screening(today: date) -> EventCreate:
    """A small film night about two weeks ahead, whose ten tickets the demo sells (development only): sold out online,
    with people on its waiting list."""
    start = today + timedelta(days=14)
    day = start + timedelta(days=(2 - start.weekday()) % 7)  # a Wednesday
    return EventCreate(
        slug=SCREENING_SLUG,
        title="Welcome Cinema: Refugee Week Screening",
        description="A documentary made with young refugees in London, then a conversation with the film-makers. Tea and cake.",
        venue="The Rio Cinema, Screen 2",
        address="107 Example High Street, London E8 2PB",
        starts_at=datetime.combine(day, time(19, 0), LONDON),
        ends_at=datetime.combine(day, time(21, 30), LONDON),
        capacity=10,
        status="on_sale",
        ticket_types=[TicketTypeIn(name="Screening", price_pence=800, channel="online", max_per_order=4)],
        beneficiaries=[ShareIn(partner="welcome-cinema", share_bp=10_000)],
    )


# The supper club's guests who answered its dietary question at checkout (development: test payments), ticket by
# ticket: what each ticked, and a note with "something else".
SUPPER_DIETS = (
    ("Priya Shah", "priya@example.org", (["vegetarian"], ["vegetarian", "peanuts"])),
    ("Omar Farouk", "omar@example.org", (["halal", "gluten_free"],)),
    ("Ruth Levy", "ruth@example.org", (["kosher"], ["other"])),
)
SUPPER_NOTES = {("Ruth Levy", 1): "No mushrooms, please"}


async def _dietary_question(slug: str, now: datetime, created: list[str], *, with_answers: bool) -> None:
    """The supper club asks its guests the dietary and allergen needs preset, once; in development a few guests have
    bought and answered it (test payments), so the kitchen list and the attendee list have something to show."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    if event is None or await Question.exists().where(Question.event == event["id"]):
        return
    question = await questions.add_question(slug, questions.preset_draft(DIETARY.key), now=now, preset=DIETARY.key)
    created.append(f"dietary question of {slug}")
    if not with_answers:
        return
    ticket_type = await TicketType.select(TicketType.id).where(TicketType.event == event["id"]).order_by(TicketType.id).first()
    if ticket_type is None:
        return
    asker = Asker(client="demo", limits=HoldLimits(places_per_email=100, holds_per_client_per_minute=100, places_per_client=100))
    for turn, (name, email, tickets) in enumerate(SUPPER_DIETS):
        bought = now + timedelta(seconds=turn)
        answers = [Given(question.id, index, keys, SUPPER_NOTES.get((name, index), "")) for index, keys in enumerate(tickets) if keys]
        request = pricing.Request(items=[(ticket_type["id"], len(tickets))], buyer_name=name, buyer_email=email)
        record = await questions.answers_recorder(slug, request.items, answers, locale="en", now=bought)
        started = await checkout(slug, request, gateway=TestGateway(), now=bought, hold_minutes=15, asker=asker, on_placed=record)
        await payments.pay_with_test_provider(started.order.reference, gateway=TestGateway(), now=bought)
    created.append(f"dietary answers of {slug}")


# Who bought the screening's ten tickets (paid on the test payment page, as a developer would).
SCREENING_BUYERS = (("Hannah Cole", "hannah@example.org", 4), ("Sami Nasser", "sami@example.org", 4), ("Grace Obi", "grace@example.org", 2))


@dataclass(frozen=True, slots=True)
class DemoWaiting:
    """Someone on the supper club's waiting list: for paid places, or (with a referral partner) for a free place."""

    name: str
    email: str
    phone: str
    quantity: int
    locale: str
    partner: str = ""


# Joined in this order. Guests join through the waiting-list API once places run out; the demo puts a few people on
# the lists straight away so the organiser's page has something to show.
WAITING = (
    DemoWaiting("Maryam Haddad", "maryam@example.org", "", 2, "ar"),
    DemoWaiting("Yonas Tesfaye", "", "+447700900301", 1, "en", partner="Hackney Migrant Centre"),
    DemoWaiting("Tom Price", "", "+447700900201", 1, "en"),
    DemoWaiting("Farid Ahmadi", "", "+447700900302", 1, "fa", partner="Refugee Women's Group"),
    DemoWaiting("Élodie Martin", "elodie@example.org", "", 3, "fr"),
    DemoWaiting("Awa Diallo", "awa@example.org", "", 1, "fr", partner="Hackney Migrant Centre"),
)
# The sold-out screening's waiting list: paid places only.
SCREENING_WAITING = (
    DemoWaiting("Nadia Rahimi", "nadia@example.org", "", 2, "fa"),
    DemoWaiting("Joe Walsh", "joe@example.org", "", 1, "en"),
    DemoWaiting("Amina Yusuf", "", "+447700900303", 1, "ar"),
)


async def _sell_out(slug: str, now: datetime, created: list[str]) -> None:
    """The event's tickets bought and paid for as on the test payment page (checkout, then the test payment), once: an
    event with any order is left as it is."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    if event is None or await Order.exists().where(Order.event == event["id"]):
        return
    ticket_type = await TicketType.select(TicketType.id).where(TicketType.event == event["id"]).order_by(TicketType.id).first()
    if ticket_type is None:
        return
    asker = Asker(client="demo", limits=HoldLimits(places_per_email=100, holds_per_client_per_minute=100, places_per_client=100))
    for turn, (name, email, quantity) in enumerate(SCREENING_BUYERS):
        bought = now + timedelta(seconds=turn)
        request = pricing.Request(items=[(ticket_type["id"], quantity)], buyer_name=name, buyer_email=email)
        started = await checkout(slug, request, gateway=TestGateway(), now=bought, hold_minutes=15, asker=asker)
        await payments.pay_with_test_provider(started.order.reference, gateway=TestGateway(), now=bought)
    created.append(f"sales of {slug}")


async def _waiting_list(slug: str, now: datetime, created: list[str], people: tuple[DemoWaiting, ...] = WAITING) -> None:
    """The demo's people on the event's waiting lists, once (none are added to a list that has anyone on it)."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    if event is None or await WaitingEntry.exists().where(WaitingEntry.event == event["id"]):
        return
    ticket_type = await TicketType.select(TicketType.id).where(TicketType.event == event["id"]).order_by(TicketType.id).first()
    if ticket_type is None:
        return
    for turn, person in enumerate(people):
        joined = now - timedelta(hours=len(people) - turn)
        await WaitingEntry(
            event=event["id"],
            kind=WaitingKind.free if person.partner else WaitingKind.paid,
            ticket_type=None if person.partner else ticket_type["id"],
            partner_name=person.partner,
            name=person.name,
            email=person.email,
            phone=person.phone,
            locale=person.locale,
            quantity=person.quantity,
            token=secrets.token_urlsafe(16),
            created_at=joined,
            updated_at=joined,
        ).save()
    created.append(f"waiting list of {slug}")


SUPPER_SERIES = SeriesIn(
    title="Supper club",
    slug="supper-club",
    description="Three courses cooked by refugee chefs, every month, with half the seats kept free.",
)


async def _supper_series(organisation_id: int, now: datetime, created: list[str]) -> None:
    """The August supper club is one of a monthly series (events.series): the series' page and the organisation's list it."""
    if await Series.exists().where(Series.slug == SUPPER_SERIES.slug) or not await Event.exists().where(Event.slug == "august-supper-club"):
        return
    await series.create_series(SUPPER_SERIES, organisation_id=organisation_id, now=now)
    await catalogue.update_event("august-supper-club", EventPatch(series=SUPPER_SERIES.slug), now)
    created.append(f"series {SUPPER_SERIES.slug}")


# The supper club's volunteers: a hidden ticket type, sold only with the access code that unlocks it.
VOLUNTEER_TYPE = "Volunteer"
VOLUNTEER_CODE = "KITCHEN-VOLUNTEERS"


async def _volunteer_code(slug: str, now: datetime, created: list[str]) -> None:
    """A hidden "Volunteer" ticket type (free, one each) on the event and one access code that unlocks it, once: an
    event that has a code already is left as it is."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    if event is None or await Code.exists().where(Code.event == event["id"]):
        return
    volunteer = await TicketType.select(TicketType.id).where(TicketType.event == event["id"], TicketType.name == VOLUNTEER_TYPE).first()
    if volunteer is None:
        hidden = TicketTypePatch(name=VOLUNTEER_TYPE, price_pence=0, channel="online", max_per_order=1, waiting_list=False, hidden=True)
        await catalogue.update_event(slug, EventPatch(ticket_types=[hidden]), now)
        volunteer = await TicketType.select(TicketType.id).where(TicketType.event == event["id"], TicketType.name == VOLUNTEER_TYPE).first()
        assert volunteer is not None
    await codes.create_code(
        slug, CodeIn(code=VOLUNTEER_CODE, note="Kitchen and front-of-house volunteers", unlocks=[volunteer["id"]], max_uses=8), now=now
    )
    created.append(f"volunteer code of {slug}")


async def _organisation(slug: str, details: OrganisationDetails, created: list[str]) -> int:
    """The demo organisation, made if missing. A new installation's untouched first organisation (no events, no
    team) becomes the first demo organisation rather than staying empty beside it."""
    row = await Organisation.select(Organisation.id).where(Organisation.slug == slug).first()
    if row is not None:
        return int(row["id"])
    default = (
        await Organisation.select(Organisation.id)
        .where(Organisation.slug == organisations.DEFAULT_SLUG, Organisation.name == organisations.DEFAULT_NAME)
        .first()
    )
    if default is not None and slug == NETWORK_SLUG and not await Event.exists().where(Event.organisation == default["id"]):
        await Organisation.update({Organisation.slug: slug}).where(Organisation.id == default["id"])
        await organisations.update_details(default["id"], details)
        created.append(f"organisation {slug}")
        return int(default["id"])
    organisation = await organisations.create_organisation(slug, details)
    created.append(f"organisation {slug}")
    return organisation.id


async def seed_demo(now: datetime, *, with_demo_login: bool, with_demo_sales: bool = False) -> list[str]:
    """Create whatever of the demo is missing and return what was created. ``with_demo_sales`` (development: they are
    test payments) sells the screening out and puts people on its waiting list."""
    created: list[str] = []
    today = now.astimezone(LONDON).date()
    network = await _organisation(NETWORK_SLUG, NETWORK, created)
    kitchen = await _organisation(KITCHEN_SLUG, KITCHEN, created)
    for organisation_id, partners, events in (
        (network, PARTNERS, (supper_club(today), club_night(today), screening(today))),
        (kitchen, KITCHEN_PARTNERS, (sunday_lunch(today),)),
    ):
        for partner in partners:
            if not await Partner.exists().where(Partner.slug == partner.slug):
                await catalogue.create_partner(partner, organisation_id=organisation_id)
                created.append(f"partner {partner.slug}")
        for event in events:
            if not await Event.exists().where(Event.slug == event.slug):
                await catalogue.create_event(event, now, organisation_id=organisation_id)
                created.append(f"event {event.slug}")
    await _waiting_list("august-supper-club", now, created)
    await _dietary_question("august-supper-club", now, created, with_answers=with_demo_sales)
    await _supper_series(network, now, created)
    await _volunteer_code("august-supper-club", now, created)
    if with_demo_sales:
        await _sell_out(SCREENING_SLUG, now, created)
        await _waiting_list(SCREENING_SLUG, now, created, SCREENING_WAITING)
    if with_demo_login:
        ids = {NETWORK_SLUG: network, KITCHEN_SLUG: kitchen}
        for login in LOGINS:
            if not await User.exists().where(User.email == login.email):
                await accounts.create_user(
                    login.email, role=login.role, password=login.password, display_name=login.name, organisation_id=ids[login.organisation]
                )
                created.append(f"{login.role} login for {login.organisation}")
            if login.role == "door":
                await _on_every_door_team(login.email, ids[login.organisation], now, created)
    return created


async def _on_every_door_team(email: str, organisation_id: int, now: datetime, created: list[str]) -> None:
    """The demo's door login scans every event of its organisation, so its account page links to each door page."""
    user = await User.select(User.id).where(User.email == email).first()
    assert user is not None
    for event in await Event.select(Event.id, Event.slug).where(Event.organisation == organisation_id).order_by(Event.id):
        if not await DoorAssignment.exists().where(DoorAssignment.event == event["id"], DoorAssignment.user == user["id"]):
            await assign_door_staff(event["id"], user["id"], now=now)
            created.append(f"door team of {event['slug']}")
