"""Free places: referral partners' claim codes, guests claiming a place with a first name, organisers
giving places directly. Claims take places through the same conditional updates as sales."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from piccolo.columns.combination import And

from events import db, text
from events.audit import service as audit
from events.catalogue import rules as catalogue_rules
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.sales import event_free_places, held_for_waiting_list
from events.catalogue.schemas import OrganisationRefOut
from events.catalogue.service import organisation_ref
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.orders import phones, pricing, queries
from events.orders.codes import SECRET_ALPHABET
from events.orders.service import Issuer, OnPlaced, OrderToIssue, free_place_type, new_unique_reference, note, take_free_place
from events.orders.statuses import OrderStatus
from events.orders.tables import ClaimCode, Order, OrderHistory, OrderLine
from events.ratelimit import service as ratelimit

# 20 letters of a 31-letter alphabet: ≈ 99 bits. Links made when codes had 16 letters (≈ 79 bits) still work.
CLAIM_CODE_LENGTH = 20
# Wrong codes are limited per browser, so one person's guessing stops that person, and per address with a budget
# that 30 people sharing a drop-in centre's connection, each with a full browser's budget of typos, stay under.
# The address budget is what bounds someone who throws their cookies away: 500 guesses in 15 minutes is 48,000 a
# day against 2^99 codes. A browser that has already opened a code's page (claim pass) is never stopped for it.
FAILED_CLAIMS_PER_BROWSER = 10
FAILED_CLAIMS_PER_ADDRESS = 500
FAILED_CLAIMS_WINDOW_SECONDS = 15 * 60
PHONE_PATTERN = phones.PHONE_PATTERN
# The order history's note of the link a free place was claimed through (detail: the link's id).
CLAIM_LINK_NOTE = "claim_link"


class NoPlacesLeft(Conflict):
    code = "no_places_left"


class LinkClosed(Conflict):
    """The link closed at the time its organiser set: a real link (not a wrong guess), with nothing left to claim."""

    code = "claim_link_closed"


LINK_CLOSED = N_("Sorry, this link has closed. Please ask the person who gave it to you.")


def link_closed(closes_at: datetime | None, now: datetime) -> bool:
    """Whether a link with this closing time (None: none) has closed at ``now``."""
    return closes_at is not None and closes_at <= now


def _live(now: datetime) -> And:
    """Piccolo's condition for a live link: not revoked, not closed."""
    return ClaimCode.revoked_at.is_null() & (ClaimCode.closes_at.is_null() | (ClaimCode.closes_at > now))


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who is trying a claim code: their network address, their browser's own id (a cookie; a client without
    one counts as a new browser, so only the address budget holds it), and whether the browser holds this
    code's claim pass (it opened the code's page before: others' guesses cannot stop it)."""

    address: str
    browser: str
    has_pass: bool = False


@dataclass(frozen=True, slots=True)
class ClaimCodeRow:
    """A claim link as stored. ``code`` is its only key: never logged."""

    id: int
    event: int
    code: str
    partner_name: str
    places: int
    claimed: int
    created_at: datetime
    revoked_at: datetime | None
    closes_at: datetime | None = None  # it closes by itself then (None: only when revoked or used up)

    def closed(self, now: datetime) -> bool:
        return link_closed(self.closes_at, now)


@dataclass(frozen=True, slots=True)
class ClaimLinkUsage:
    """What a claim link's guest or partner may see: the event (when and where, in its own time zone, and how to get
    there and in), the link's allocation and how many were claimed."""

    partner_name: str
    places: int
    claimed: int
    revoked_at: datetime | None
    event_title: str
    event_slug: str
    event_starts_at: datetime
    event_timezone: str
    event_ends_at: datetime
    event_venue: str
    event_address: str
    event_access_information: str
    organisation: OrganisationRefOut  # who runs the event: the claim page shows it
    event_waiting_list_open: bool = False  # a guest may ask to be told when a free place frees up
    event_cancelled: bool = False  # the organisers called the event off: nothing to claim, nor to wait for
    closes_at: datetime | None = None  # when the link stops taking claims, in the event's time zone (None: never)
    closed: bool = False  # it has: nothing to claim through it, nor to wait for


@dataclass(frozen=True, slots=True)
class ClaimedPlace:
    order_reference: str
    ticket_id: int


async def create_claim_code(slug: str, *, partner_name: str, places: int, now: datetime, closes_at: datetime | None = None) -> ClaimCodeRow:
    """A new link for ``partner_name``'s guests: ``places`` at most, and, with ``closes_at`` (a wall-clock time at the
    venue when it has no offset), no claim after that time, when its unclaimed places become the event's again."""
    event = await find_event(slug)
    line_problem = text.line_problem(partner_name.strip(), required=False)
    partner_name = " ".join(partner_name.split())
    problems: dict[str, str] = {}
    if line_problem is not None:
        problems["partner_name"] = line_problem
    elif not partner_name:
        problems["partner_name"] = "Name the partner group that will hand out the link."
    elif len(partner_name) > 200:
        problems["partner_name"] = "Use at most 200 characters."
    if not 1 <= places <= 10_000:
        problems["places"] = "Give between 1 and 10000 places."
    if closes_at is not None:
        try:
            closes_at = catalogue_rules.at_venue(closes_at, ZoneInfo(event.timezone))
        except OverflowError:  # a time at the calendar's very edge, which UTC cannot hold
            problems["closes_at"] = "Enter a date between the years 1 and 9999."
        else:
            if closes_at <= now:
                problems["closes_at"] = "Choose a time still to come, or leave it empty."
            elif closes_at > event.ends_at:
                problems["closes_at"] = "Choose a time before the event ends, or leave it empty."
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    code = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(CLAIM_CODE_LENGTH))
    async with db.write_transaction():
        row = ClaimCode(event=event.id, code=code, partner_name=partner_name, places=places, created_at=now, closes_at=closes_at)
        await row.save()
        # The code is the link's only key: it stays out of the log.
        await audit.record(
            "claim_link.created",
            now=now,
            event_id=event.id,
            subject_type="claim_link",
            subject_id=row.id,
            after={"partner_name": partner_name, "places": places, "closes_at": closes_at.isoformat() if closes_at else None},
        )
    return ClaimCodeRow(row.id, row.event, row.code, row.partner_name, row.places, row.claimed, row.created_at, row.revoked_at, row.closes_at)


async def list_claim_codes(slug: str) -> list[ClaimCodeRow]:
    event = await find_event(slug)
    rows = await ClaimCode.select().where(ClaimCode.event == event.id).order_by(ClaimCode.id)
    return [ClaimCodeRow(**row) for row in rows]


async def revoke_claim_code(slug: str, code: str, *, now: datetime) -> None:
    event = await find_event(slug)
    async with db.write_transaction():
        revoked = (
            await ClaimCode.update({ClaimCode.revoked_at: now})
            .where(ClaimCode.event == event.id, ClaimCode.code == code, ClaimCode.revoked_at.is_null())
            .returning(ClaimCode.id, ClaimCode.partner_name, ClaimCode.claimed)
        )
        if not revoked:
            raise NotFound(N_("We could not find that claim link."), code="claim_code_not_found")
        await audit.record(
            "claim_link.revoked",
            now=now,
            event_id=event.id,
            subject_type="claim_link",
            subject_id=revoked[0]["id"],
            before={"revoked": False},
            after={"revoked": True, "partner_name": revoked[0]["partner_name"], "claimed": revoked[0]["claimed"]},
        )


async def open_claim_link(code: str, claimant: Claimant, *, now: datetime) -> ClaimLinkUsage:
    """A claim link's page, for a guest or its partner: an unknown code is a wrong guess, limited like a claim."""
    async with _guess(claimant, now=now):
        return await claim_code_usage(code, now)


async def claim_code_usage(code: str, now: datetime) -> ClaimLinkUsage:
    """What a referral partner may see: its allocation and how many were claimed. Never who claimed."""
    row = (
        await ClaimCode.select(
            ClaimCode.partner_name,
            ClaimCode.places,
            ClaimCode.claimed,
            ClaimCode.revoked_at,
            ClaimCode.closes_at,
            ClaimCode.event.title,
            ClaimCode.event.slug,
            ClaimCode.event.starts_at,
            ClaimCode.event.ends_at,
            ClaimCode.event.timezone,
            ClaimCode.event.venue,
            ClaimCode.event.address,
            ClaimCode.event.access_information,
            ClaimCode.event.waiting_list_open,
            ClaimCode.event.status,
            ClaimCode.event._.organisation._.slug,
            ClaimCode.event._.organisation._.name,
            ClaimCode.event._.organisation._.logo_content_type,
        )
        .where(ClaimCode.code == code.strip().lower(), ClaimCode.event._.organisation._.suspended_at.is_null())
        .first()
    )
    if row is None:
        raise NotFound(N_("This link does not work. Please ask the person who gave it to you."), code="claim_code_not_found")
    return ClaimLinkUsage(
        partner_name=row["partner_name"],
        places=row["places"],
        claimed=row["claimed"],
        revoked_at=row["revoked_at"],
        event_title=row["event.title"],
        event_slug=row["event.slug"],
        event_starts_at=row["event.starts_at"].astimezone(ZoneInfo(row["event.timezone"])),
        event_timezone=row["event.timezone"],
        event_ends_at=row["event.ends_at"].astimezone(ZoneInfo(row["event.timezone"])),
        event_venue=row["event.venue"],
        event_address=row["event.address"],
        event_access_information=row["event.access_information"],
        organisation=organisation_ref(row["event.organisation.slug"], row["event.organisation.name"], row["event.organisation.logo_content_type"]),
        event_waiting_list_open=row["event.waiting_list_open"] and row["event.status"] != EventStatus.cancelled,
        event_cancelled=row["event.status"] == EventStatus.cancelled,
        closes_at=row["closes_at"].astimezone(ZoneInfo(row["event.timezone"])) if row["closes_at"] else None,
        closed=link_closed(row["closes_at"], now),
    )


def _budgets(claimant: Claimant) -> tuple[ratelimit.Budget, ...]:
    return (
        ratelimit.Budget("claim-failures-browser", f"{claimant.address} {claimant.browser}", FAILED_CLAIMS_PER_BROWSER),
        ratelimit.Budget("claim-failures", claimant.address, FAILED_CLAIMS_PER_ADDRESS),
    )


def _unknown_code(error: BaseException) -> bool:
    return isinstance(error, NotFound) and error.code == "claim_code_not_found"


@contextlib.asynccontextmanager
async def _guess(claimant: Claimant, *, now: datetime) -> AsyncIterator[None]:
    """Try a claim code within the claimant's budgets of wrong codes (ratelimit.wrong_tries_limited): only unknown
    codes count. A browser with this code's claim pass skips the budgets."""
    if claimant.has_pass:
        yield
        return
    async with ratelimit.wrong_tries_limited(
        _budgets(claimant), window_seconds=FAILED_CLAIMS_WINDOW_SECONDS, now_epoch=int(now.timestamp()), is_wrong=_unknown_code
    ):
        yield


@dataclass(frozen=True, slots=True)
class ReferralLink:
    """A live claim link as the free-place waiting list needs it: whose it is and how many of its places are left."""

    id: int
    event: int
    partner_name: str
    places_left: int


async def find_referral_link(code: str, claimant: Claimant, *, now: datetime) -> ReferralLink:
    """A live (unrevoked) claim link of an active organisation's event, looked up as a claim looks it up: an unknown or
    revoked code counts against the claimant's budgets of wrong codes; a closed one is LinkClosed."""
    async with _guess(claimant, now=now):
        row = (
            await ClaimCode.select(ClaimCode.id, ClaimCode.event, ClaimCode.partner_name, ClaimCode.places, ClaimCode.claimed, ClaimCode.closes_at)
            .where(ClaimCode.code == code.strip().lower(), ClaimCode.revoked_at.is_null(), ClaimCode.event._.organisation._.suspended_at.is_null())
            .first()
        )
        if row is None:
            raise NotFound(N_("This link does not work. Please ask the person who gave it to you."), code="claim_code_not_found")
    if link_closed(row["closes_at"], now):
        raise LinkClosed(LINK_CLOSED)
    return ReferralLink(row["id"], row["event"], row["partner_name"], max(0, row["places"] - row["claimed"]))


async def find_link_places(link_id: int, now: datetime) -> ReferralLink | None:
    """A live claim link by its id, as it stands now (None once revoked or closed)."""
    row = (
        await ClaimCode.select(ClaimCode.id, ClaimCode.event, ClaimCode.partner_name, ClaimCode.places, ClaimCode.claimed)
        .where(ClaimCode.id == link_id, _live(now))
        .first()
    )
    return None if row is None else ReferralLink(row["id"], row["event"], row["partner_name"], max(0, row["places"] - row["claimed"]))


async def claim_place(
    code: str,
    *,
    name: str,
    email: str,
    phone: str,
    locale: str,
    claimant: Claimant,
    issue: Issuer,
    now: datetime,
    texts_available: bool = True,
    on_placed: OnPlaced | None = None,
) -> ClaimedPlace:
    """A guest claims one free place. Unknown or revoked codes count against the claimant's budgets. Where no text can
    be sent (``texts_available`` false: production without a text provider), a phone number is refused rather than
    kept: nothing would ever be sent to it, and the guest would wait for a text that never comes. ``on_placed`` adds
    to the order in the claim's transaction, before its ticket is issued (e.g. the guest's answers)."""
    link = await find_referral_link(code, claimant, now=now)
    mobile = _check_guest(name, email, phone, texts_available=texts_available)
    async with db.write_transaction():
        if not await db.run(queries.TAKE_CLAIM_CODE, link.id, now):  # used up, or revoked or closed since
            raise NoPlacesLeft(N_("Sorry, all the places for this link have been taken."))
        return await _give_place(
            link.event,
            name=name,
            email=email,
            phone=mobile,
            locale=locale,
            channel="claim",
            issue=issue,
            now=now,
            link=link.id,
            on_placed=on_placed,
        )


async def give_free_place(slug: str, *, name: str, email: str, issue: Issuer, now: datetime) -> ClaimedPlace:
    """An organiser gives a free place directly to a named guest."""
    event = await find_event(slug)
    _check_guest(name, email, "")
    async with db.write_transaction():
        place = await _give_place(event.id, name=name, email=email, phone="", locale="en", channel="gift", issue=issue, now=now)
        # The order reference, not the guest's name: the log outlives guests' personal data.
        await audit.record(
            "free_place.given",
            now=now,
            event_id=event.id,
            subject_type="order",
            subject_id=place.order_reference,
            after={"places": 1},
        )
        return place


async def _give_place(
    event_id: int,
    *,
    name: str,
    email: str,
    phone: str,
    locale: str,
    channel: str,
    issue: Issuer,
    now: datetime,
    link: int | None = None,
    on_placed: OnPlaced | None = None,
) -> ClaimedPlace:
    """One free place to a guest: through referral ``link`` (its place already counted as claimed), else the
    organiser's gift."""
    row = await Event.select().where(Event.id == event_id).first()
    assert row is not None
    event = EventRow.of(row)
    if event.status not in (EventStatus.on_sale, EventStatus.sales_closed):
        raise NoPlacesLeft(N_("Sorry, places for this event are not available now."))
    # Free places the free-place waiting list is about to be offered go to it first (catalogue.sales.HeldBack). A claim
    # through a link takes one of the places its link still had to give, which the list is never offered: only places
    # already held by an offer (counted as claimed) are out of its reach. The organiser's gift may take a place a link
    # has not used yet (links' places are a cap, not a promise against the organiser), never one kept for the list.
    if link is None:
        held = (await held_for_waiting_list(event_id, now)).free
        if held and (await event_free_places(event)).available <= held:
            raise NoPlacesLeft(N_("Sorry, there are no free places left."))
    if not await take_free_place(event):
        raise NoPlacesLeft(N_("Sorry, there are no free places left."))
    ticket_type = await free_place_type(event_id)
    if ticket_type is None:
        raise NoPlacesLeft(N_("Sorry, places for this event are not available now."))
    reference = await new_unique_reference()
    order = Order(
        reference=reference,
        event=event_id,
        status=OrderStatus.paid,
        channel=channel,
        buyer_name=name.strip(),
        buyer_email=email.strip(),
        buyer_phone=phone.strip(),
        locale=locale,
        currency=event.currency,
        places=1,
        payment_provider="none",
        created_at=now,
        paid_at=now,
    )
    await order.save()
    await OrderLine(order_id=order.id, kind="ticket", ticket_type=ticket_type["id"], description=ticket_type["name"], quantity=1).save()
    if on_placed is not None:
        await on_placed(order.id)
    # Issued and confirmed as a paid order is: nothing tells a free place from a bought one.
    [ticket_id] = await issue(OrderToIssue(id=order.id, event=event_id, holder_name=name.strip()), now)
    await note(order.id, "free_place", channel, now)
    if link is not None:
        # Which link the place was claimed through (its id, never its code): a place given back goes first to the
        # guests of that link waiting for one (claim_link_of).
        await note(order.id, CLAIM_LINK_NOTE, str(link), now)
    return ClaimedPlace(reference, ticket_id)


async def claimed_contact(reference: str) -> tuple[bool, bool]:
    """Whether the guest of a free place gave an email, and a mobile number: their ticket went there too."""
    row = await Order.select(Order.buyer_email, Order.buyer_phone).where(Order.reference == reference).first()
    return (bool(row["buyer_email"]), bool(row["buyer_phone"])) if row is not None else (False, False)


async def claim_link_of(order_id: int) -> int | None:
    """The referral link a free place's order was claimed through (None: given by the organiser, offered from the
    waiting list, passed on, or claimed before links were noted)."""
    row = await OrderHistory.select(OrderHistory.detail).where(OrderHistory.order_id == order_id, OrderHistory.kind == CLAIM_LINK_NOTE).first()
    return int(row["detail"]) if row is not None and row["detail"].isdigit() else None


async def unclaimed_places(event_id: int, now: datetime) -> int:
    """The free places the event's live (unrevoked, not closed) referral links still have to give: each link's places
    less those claimed through it. A place claimed and given back stays claimed on its link: it is the event's again,
    as are a closed link's unclaimed places."""
    rows = await ClaimCode.select(ClaimCode.places, ClaimCode.claimed).where(ClaimCode.event == event_id, _live(now))
    return sum(max(0, row["places"] - row["claimed"]) for row in rows)


def _check_guest(name: str, email: str, phone: str, *, texts_available: bool = True) -> str:
    """Refuse a claim's details before anything is written; return the mobile number in E.164 ("" for none)."""
    problems: dict[str, str] = {}
    if not name.strip():
        problems["name"] = N_("Please write your first name.")
    elif len(name) > 100:
        problems["name"] = N_("That name is too long.")
    elif (problem := text.line_problem(name.strip())) is not None:
        problems["name"] = problem
    if email.strip() and (not pricing.EMAIL_PATTERN.match(email.strip()) or text.line_problem(email.strip()) is not None):
        problems["email"] = N_("That email address does not look right.")
    mobile = ""
    if phone.strip() and not texts_available:
        problems["phone"] = N_(
            "We cannot send text messages here, so please leave the phone number out. Your ticket is shown when you claim it, or give an email address to get it by email."
        )
    elif phone.strip():
        if not PHONE_PATTERN.match(phones.typed_number(phone)) or text.line_problem(phone.strip()) is not None:
            problems["phone"] = N_("That phone number does not look right.")
        elif (found := phones.mobile_number(phone)) is None:
            problems["phone"] = N_(
                "We can only send your ticket to a mobile number. Please check the number (with the country code, like +44, if it is not a UK number), or leave it empty."
            )
        else:
            mobile = found
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    return mobile
