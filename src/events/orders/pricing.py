"""Pricing an order: validating what a buyer asks for against what is on sale, and totting it up in pence.

Pure: callers pass the ticket types, the event's settings and ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from events import text
from events.catalogue import rules
from events.catalogue.statuses import EventStatus
from events.codes import rules as codes
from events.i18n import N_
from events.orders import gift_aid

MAX_DONATION_PENCE = 1_000_000
MAX_PAY_IT_FORWARD_PLACES = 100
# A guest's name on their ticket, as long as the buyer's may be (Ticket.holder_name, OrderGuestName.name).
MAX_GUEST_NAME_LENGTH = 200
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class TypeOnSale:
    id: int
    name: str
    price_pence: int
    channel: str
    sales_start: datetime | None
    sales_end: datetime | None
    max_per_order: int
    hidden: bool = False  # sold only with a code that unlocks it: to everyone else it does not exist


@dataclass(frozen=True, slots=True)
class EventTerms:
    status: EventStatus
    booking_fee_pence: int
    pay_it_forward_place_pence: int
    partner_ids: Mapping[str, int]  # beneficiary slug -> partner id
    currency: str = "GBP"


@dataclass(frozen=True, slots=True)
class Request:
    items: Sequence[tuple[int, int]]  # (ticket type id, quantity)
    pay_it_forward_places: int = 0
    pay_it_forward_pence: int = 0
    donation_pence: int = 0
    donation_partner: str | None = None
    buyer_name: str = ""
    buyer_email: str = ""
    gift_aid: gift_aid.Declaration | None = None
    code: str | None = None  # an access or discount code, as typed (events.codes)
    # The guest named for each ticket, by position (0-based over the order's tickets, line by line as they are
    # issued); "" (or no entry) is the buyer. At most one per ticket.
    guest_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # ticket, pay_it_forward, donation
    description: str
    quantity: int
    unit_price_pence: int
    booking_fee_pence: int  # per unit
    ticket_type_id: int | None = None
    partner_id: int | None = None

    @property
    def total_pence(self) -> int:
        return self.quantity * (self.unit_price_pence + self.booking_fee_pence)


@dataclass(frozen=True, slots=True)
class Quote:
    lines: tuple[Line, ...]
    places_by_type: Mapping[int, int] = field(default_factory=dict)
    code_id: int | None = None  # the code the order is placed with: it takes one of the code's uses
    discount_pence: int = 0  # what the code took off the tickets (their lines are after it)

    @property
    def places(self) -> int:
        return sum(self.places_by_type.values())

    @property
    def tickets_pence(self) -> int:
        return sum(line.quantity * line.unit_price_pence for line in self.lines if line.kind == "ticket")

    @property
    def booking_fees_pence(self) -> int:
        return sum(line.quantity * line.booking_fee_pence for line in self.lines)

    @property
    def pay_it_forward_pence(self) -> int:
        return sum(line.total_pence for line in self.lines if line.kind == "pay_it_forward")

    @property
    def donation_pence(self) -> int:
        return sum(line.total_pence for line in self.lines if line.kind == "donation")

    @property
    def total_pence(self) -> int:
        return sum(line.total_pence for line in self.lines)


NOTHING_CHOSEN = N_("Choose at least one ticket, or add a contribution.")


class Problems(Exception):
    """The request breaks rules; ``fields`` maps each field to a message; ``code`` is the API error code."""

    def __init__(self, fields: dict[str, str], code: str = "invalid") -> None:
        super().__init__(next(iter(fields.values())))
        self.fields = fields
        self.code = code


def quote_online_order(types: Mapping[int, TypeOnSale], terms: EventTerms, request: Request, now: datetime, code: codes.Code | None = None) -> Quote:
    """Price an online order, or raise Problems. Sales-window and status problems use code 'sales_closed'.

    ``code``: the code the request names, as found for the event (events.codes), or None. A hidden ticket type is
    sold only with a code that unlocks it: to anyone else it is as unknown as a type the event does not have. A
    code that cannot be used now is a problem on the field "code" (its refusal's code). The code's discount comes
    off the ticket lines (codes.rules: never the booking fees, pay it forward or donations)."""
    if terms.status != EventStatus.on_sale:
        raise Problems({"event": N_("Online sales for this event are closed.")}, code="sales_closed")
    if code is not None and (refusal := codes.refusal(code, now)) is not None:
        raise Problems({"code": refusal.message}, code=refusal.code)
    problems = buyer_problems(request.buyer_name, request.buyer_email, email_required=True)
    lines: list[Line] = []
    places: dict[int, int] = {}
    closed: dict[str, str] = {}
    for index, (type_id, quantity) in enumerate(request.items):
        where = f"items[{index}]"
        ticket_type = types.get(type_id)
        if ticket_type is None or (ticket_type.hidden and not codes.unlocks(code, type_id)):
            problems[f"{where}.ticket_type"] = N_("This event has no such ticket type.")
            continue
        if quantity < 1:
            problems[f"{where}.quantity"] = N_("Choose at least one ticket.")
            continue
        if type_id in places:
            problems[f"{where}.ticket_type"] = N_("List each ticket type once.")
            continue
        if quantity > ticket_type.max_per_order:
            problems[f"{where}.quantity"] = f"You can buy at most {ticket_type.max_per_order} {ticket_type.name} tickets in one order."
            continue
        if not rules.sells_online(ticket_type.channel):
            closed[f"{where}.ticket_type"] = f"{ticket_type.name} tickets are sold on the door only."
            continue
        if not rules.window_open(ticket_type.sales_start, ticket_type.sales_end, now):
            closed[f"{where}.ticket_type"] = f"{ticket_type.name} tickets are not on sale now."
            continue
        lines.append(_ticket_line(ticket_type, quantity, terms))
        places[type_id] = quantity
    lines, discount = discounted(lines, code)
    lines.extend(_contribution_lines(terms, request, problems))
    if request.gift_aid is not None:
        problems.update(gift_aid.declaration_problems(request.gift_aid, eligible_pence=gift_aid.eligible_pence(lines), currency=terms.currency))
    if problems:
        raise Problems(problems)
    if closed:
        raise Problems(closed, code="sales_closed")
    if not lines:
        raise Problems({"items": NOTHING_CHOSEN})
    if len(request.guest_names) > sum(places.values()):
        raise Problems({"guest_names": N_("Give at most one name for each ticket in the order.")})
    return Quote(tuple(lines), places, code_id=code.id if code is not None else None, discount_pence=discount)


def discounted(ticket_lines: Sequence[Line], code: codes.Code | None) -> tuple[list[Line], int]:
    """The ticket lines after the code's discount, and the discount. Each ticket is priced at what is paid for it
    (codes.rules.paid_prices, to the penny), so a line whose tickets come to different prices (e.g. £10 off three
    £10 tickets: £6.66, £6.67, £6.67) becomes one line per price, in the same order. A ticket the discount makes free
    carries no booking fee, as a free ticket never does."""
    if code is None or not code.discounts or not ticket_lines:
        return list(ticket_lines), 0
    prices = [line.unit_price_pence for line in ticket_lines for _ in range(line.quantity)]
    paid, discount = codes.paid_prices(prices, code)
    result: list[Line] = []
    position = 0
    for line in ticket_lines:
        for price in paid[position : position + line.quantity]:
            fee = line.booking_fee_pence if price > 0 else 0
            last = result[-1] if result else None
            if last is not None and last.ticket_type_id == line.ticket_type_id and (last.unit_price_pence, last.booking_fee_pence) == (price, fee):
                result[-1] = replace(last, quantity=last.quantity + 1)
            else:
                result.append(replace(line, quantity=1, unit_price_pence=price, booking_fee_pence=fee))
            position += 1
    return result, discount


def quote_offer(ticket_type: TypeOnSale, terms: EventTerms, quantity: int) -> Quote:
    """Price the places a waiting-list offer holds: the type's tickets at their online price and booking fee. Whether
    they may be offered (on sale, places free) is the waiting list's to decide."""
    return Quote((_ticket_line(ticket_type, quantity, terms),), {ticket_type.id: quantity})


def _ticket_line(ticket_type: TypeOnSale, quantity: int, terms: EventTerms) -> Line:
    """Online tickets of one type; free tickets carry no booking fee."""
    fee = terms.booking_fee_pence if ticket_type.price_pence > 0 else 0
    return Line("ticket", ticket_type.name, quantity, ticket_type.price_pence, fee, ticket_type_id=ticket_type.id)


def quote_door_sale(types: Mapping[int, TypeOnSale], items: Sequence[tuple[int, int]], event_status: str) -> Quote:
    """Price a sale at the door: door-channel types at their price, no booking fee."""
    if event_status not in (EventStatus.on_sale, EventStatus.sales_closed):
        raise Problems({"event": "This event is not selling tickets."}, code="sales_closed")
    problems: dict[str, str] = {}
    lines: list[Line] = []
    places: dict[int, int] = {}
    for index, (type_id, quantity) in enumerate(items):
        ticket_type = types.get(type_id)
        if ticket_type is None or not rules.sells_at_door(ticket_type.channel):
            problems[f"items[{index}].ticket_type"] = "That ticket type is not sold at the door."
            continue
        if not 1 <= quantity <= ticket_type.max_per_order or type_id in places:
            problems[f"items[{index}].quantity"] = f"Sell between 1 and {ticket_type.max_per_order} at a time."
            continue
        lines.append(Line("ticket", ticket_type.name, quantity, ticket_type.price_pence, 0, ticket_type_id=type_id))
        places[type_id] = quantity
    if problems:
        raise Problems(problems)
    if not lines:
        raise Problems({"items": N_("Choose at least one ticket.")})
    return Quote(tuple(lines), places)


def buyer_problems(name: str, email: str, *, email_required: bool) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not name.strip():
        problems["buyer.name"] = N_("Please give your name.")
    elif len(name) > 200:
        problems["buyer.name"] = N_("That name is too long.")
    elif (problem := text.line_problem(name.strip())) is not None:
        problems["buyer.name"] = problem
    if email.strip():
        if not EMAIL_PATTERN.match(email.strip()) or len(email) > 254 or text.line_problem(email.strip()) is not None:
            problems["buyer.email"] = N_("That email address does not look right.")
    elif email_required:
        problems["buyer.email"] = N_("Please give your email address so we can send your tickets.")
    return problems


def text_problems(request: Request) -> dict[str, str]:
    """What is wrong with the text a buyer typed (name, email, Gift Aid details, partner), whatever the
    event: checked before the request joins a batch of other buyers' orders, so it cannot spoil theirs."""
    problems = dict(buyer_problems(request.buyer_name, request.buyer_email, email_required=False).items())
    if request.donation_partner is not None and (problem := text.line_problem(request.donation_partner)) is not None:
        problems["donation_partner"] = problem
    if request.gift_aid is not None:
        for name in ("title", "first_name", "last_name", "house", "postcode"):
            if (problem := text.line_problem(getattr(request.gift_aid, name).strip(), required=False)) is not None:
                problems[f"gift_aid.{name}"] = problem
    problems.update(guest_name_problems(request.guest_names))
    return problems


def request_problems(request: Request) -> dict[str, str]:
    """Everything wrong with an online order request that can be told without its event, all at once: the text a
    buyer typed (text_problems), a missing email address, and nothing chosen at all. Checked before the request
    joins a batch of other buyers' orders, so the buy form shows every one of these problems together."""
    problems = buyer_problems(request.buyer_name, request.buyer_email, email_required=True) | text_problems(request)
    if not request.items and not request.pay_it_forward_places and not request.pay_it_forward_pence and not request.donation_pence:
        problems["items"] = NOTHING_CHOSEN
    return dict(sorted(problems.items(), key=lambda item: item[0] != "items"))  # in the form's order: tickets first


def guest_name_problems(names: Sequence[str]) -> dict[str, str]:
    """What is wrong with the guests' names a buyer typed, by field (``guest_names[i]``): each is optional (empty:
    the ticket carries the buyer's name), on one line, at most MAX_GUEST_NAME_LENGTH characters."""
    problems: dict[str, str] = {}
    for index, name in enumerate(names):
        if len(name) > MAX_GUEST_NAME_LENGTH:
            problems[f"guest_names[{index}]"] = N_("That name is too long.")
        elif (problem := text.line_problem(name.strip(), required=False)) is not None:
            problems[f"guest_names[{index}]"] = problem
    return problems


def guest_names_by_position(names: Sequence[str]) -> dict[int, str]:
    """The names given, by ticket position, without the empty ones (those tickets carry the buyer's name)."""
    return {position: name.strip() for position, name in enumerate(names) if name.strip()}


def _contribution_lines(terms: EventTerms, request: Request, problems: dict[str, str]) -> list[Line]:
    lines: list[Line] = []
    if request.pay_it_forward_places or request.pay_it_forward_pence:
        if terms.pay_it_forward_place_pence <= 0:
            problems["pay_it_forward_places"] = N_("This event does not take pay-it-forward places.")
        elif not 0 <= request.pay_it_forward_places <= MAX_PAY_IT_FORWARD_PLACES:
            problems["pay_it_forward_places"] = f"Fund between 0 and {MAX_PAY_IT_FORWARD_PLACES} places."
        elif not 0 <= request.pay_it_forward_pence <= MAX_DONATION_PENCE:
            problems["pay_it_forward_pence"] = N_("That contribution is not an amount we can take.")
        else:
            if request.pay_it_forward_places:
                lines.append(Line("pay_it_forward", "Pay it forward", request.pay_it_forward_places, terms.pay_it_forward_place_pence, 0))
            if request.pay_it_forward_pence:
                lines.append(Line("pay_it_forward", "Pay it forward", 1, request.pay_it_forward_pence, 0))
    if request.donation_pence:
        if not 0 < request.donation_pence <= MAX_DONATION_PENCE:
            problems["donation_pence"] = N_("That donation is not an amount we can take.")
        elif request.donation_partner is not None and request.donation_partner not in terms.partner_ids:
            problems["donation_partner"] = N_("Choose one of this event's partner projects.")
        else:
            partner_id = terms.partner_ids.get(request.donation_partner) if request.donation_partner else None
            lines.append(Line("donation", "Donation", 1, request.donation_pence, 0, partner_id=partner_id))
    elif request.donation_partner is not None:
        problems["donation_partner"] = N_("Add a donation amount to choose where it goes.")
    return lines
