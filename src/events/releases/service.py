""" "Can't come?": a guest gives back a free place, has a paid place refunded, donates it, or passes it to a friend.

Each choice is one write transaction with the ticket's order locked (orders.lock_order): the ticket's state is read
again under the lock and the choice checked against it (releases.rules), so a repeat, or two at once, finds the ticket
no longer valid and changes nothing (409). The same transaction gives the place back, records the money, queues the
guest's confirmation in their language, writes the audit log (names stay out of it) and offers the freed place to the
waiting list (waitlist.offer_freed_places).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import db
from events.audit import service as audit
from events.catalogue.tables import TicketType
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.orders import claims, codes, gift_aid
from events.orders import service as orders
from events.orders.gift_aid import Declaration
from events.orders.service import OrderRow, OrderToIssue
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderHistory, OrderLine
from events.payments import donations
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.tables import Refund, RefundDonation
from events.releases import rules
from events.releases.rules import Authority, Choice, Friend, Options, TicketFacts
from events.tickets import issuing, outbox
from events.tickets.statuses import MessageKind, TicketStatus
from events.tickets.tables import Ticket
from events.waitlist import service as waitlist

GUEST = "guest"  # the audit log's actor: the guest, with their ticket link or order link
# One confirmation per ticket given up, however often it is asked for.
CONFIRMATION_KEY = "release:{}"
# The friend's order's history says where it came from (passed_on_to reads it back).
PASSED_ON_NOTE = "Passed on from order {reference} (ticket {ticket_id})"
GIFT_AID_NOT_OFFERED = N_(
    "Gift Aid can only be added when you could have had a refund and chose to donate instead. This ticket can be donated without it."
)


class ChoiceRefused(Conflict):
    """The ticket cannot be given up this way now (rules.Refusal): used, already given up, or not offered."""


@dataclass(frozen=True, slots=True)
class TicketRef:
    """A ticket, the order it belongs to, and whose authority it is asked for with (the buyer's order token, or the
    ticket's own link: rules.Authority)."""

    id: int
    order_reference: str
    event_id: int
    page_secret: str  # the key in its page's address
    authority: Authority


@dataclass(frozen=True, slots=True)
class Released:
    """What a choice did: the ticket's new status, the money refunded or donated, the friend's new ticket."""

    ticket_id: int
    order_reference: str
    choice: Choice
    status: TicketStatus
    refund_pence: int = 0
    donated_pence: int = 0
    gift_aid: bool = False
    new_order_reference: str | None = None
    new_ticket_id: int | None = None
    places_offered: int = 0  # to the waiting list, in the same transaction


_FACT_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.checked_in_at,
    Ticket.price_pence,
    Ticket.booking_fee_pence,
    Ticket.ticket_type,
    Ticket.event,
    Ticket.order_id,
    Ticket.order_id.reference,
    Ticket.order_id.status,
    Ticket.order_id.channel,
    Ticket.order_id.payment_provider,
    Ticket.event.status,
    Ticket.event.starts_at,
    Ticket.event.refund_days_before,
    Ticket.event.timezone,
    Ticket.event.name_changes_close_hours_before,
)


async def _facts(row: dict[str, Any]) -> TicketFacts:
    order_tickets = await Ticket.count().where(Ticket.order_id == row["order_id"])
    return TicketFacts(
        status=row["status"],
        checked_in=row["checked_in_at"] is not None,
        price_pence=row["price_pence"],
        booking_fee_pence=row["booking_fee_pence"],
        order_status=row["order_id.status"],
        order_channel=row["order_id.channel"],
        payment_provider=row["order_id.payment_provider"],
        event_status=row["event.status"],
        starts_at=row["event.starts_at"],
        refund_days_before=row["event.refund_days_before"],
        order_tickets=order_tickets,
        timezone=row["event.timezone"],
        name_changes_close_hours_before=row["event.name_changes_close_hours_before"],
    )


def _not_found() -> NotFound:
    return NotFound(N_("We could not find that ticket."), code="ticket_not_found")


_REF_COLUMNS = (Ticket.id, Ticket.order_id.reference, Ticket.event, Ticket.page_secret)


def _ref(row: dict[str, Any], authority: Authority) -> TicketRef:
    return TicketRef(row["id"], row["order_id.reference"], row["event"], row["page_secret"], authority)


async def ticket_of_order(ticket_id: int, *, bearer: str | None, secret_key: str, reference: str | None = None) -> TicketRef:
    """The ticket, with the buyer's authority, if ``bearer`` is its order's access token (codes.order_access_token)
    and (when given) ``reference`` is its order's; else, as for a ticket that does not exist, NotFound: a ticket of
    another order is nobody's business."""
    row = await Ticket.select(*_REF_COLUMNS).where(Ticket.id == ticket_id).first()
    if row is None or not codes.token_matches(secret_key, row["order_id.reference"], bearer):
        raise _not_found()
    if reference is not None and codes.normalise_reference(reference) != row["order_id.reference"]:
        raise _not_found()
    return _ref(row, Authority.order)


async def ticket_by_page_secret(page_secret: str) -> TicketRef:
    """The ticket whose link (its page secret) the guest holds, with that link's authority: the key to its "Can't
    come?" page (the money choices only when its order has no other ticket: rules.options). The code its QR code
    carries is no key to it: door staff's devices hold every ticket's, and anyone who sees the ticket can read it."""
    row = await Ticket.select(*_REF_COLUMNS).where(Ticket.page_secret == page_secret.strip().lower()[:64]).first()
    if row is None:
        raise _not_found()
    return _ref(row, Authority.ticket)


@dataclass(frozen=True, slots=True)
class TicketChoices:
    """What the ticket's guest may choose now, and what the ticket is worth (its price and booking fee)."""

    facts: TicketFacts
    options: Options
    currency: str
    has_contact: bool  # the guest gave an email address or a phone number: their confirmation goes there

    @property
    def worth_pence(self) -> int:
        return self.facts.price_pence + self.facts.booking_fee_pence


async def ticket_options(ticket: TicketRef, *, now: datetime) -> TicketChoices:
    """What may be chosen now for the ticket, with the authority it was asked for with (the page shows only these)."""
    row = (
        await Ticket.select(*_FACT_COLUMNS, Ticket.order_id.currency, Ticket.order_id.buyer_email, Ticket.order_id.buyer_phone)
        .where(Ticket.id == ticket.id)
        .first()
    )
    if row is None:
        raise _not_found()
    facts = await _facts(row)
    has_contact = bool(row["order_id.buyer_email"].strip() or row["order_id.buyer_phone"].strip())
    return TicketChoices(facts, rules.options(facts, now, ticket.authority), row["order_id.currency"], has_contact)


async def passed_on_to(ticket: TicketRef) -> str:
    """Where the friend's new ticket went, masked (rules.masked_contact); "" when this ticket was not passed on."""
    note = PASSED_ON_NOTE.format(reference=ticket.order_reference, ticket_id=ticket.id)
    row = (
        await OrderHistory.select(OrderHistory.order_id.buyer_email, OrderHistory.order_id.buyer_phone)
        .where(OrderHistory.kind == "passed_on", OrderHistory.detail == note, OrderHistory.order_id.event == ticket.event_id)
        .first()
    )
    return rules.masked_contact(row["order_id.buyer_email"].strip(), row["order_id.buyer_phone"].strip()) if row else ""


async def _locked(ticket: TicketRef, choice: Choice, now: datetime) -> tuple[OrderRow, TicketFacts, dict[str, Any]]:
    """Inside the write transaction: the order locked, the ticket read again under the lock, and ``choice`` checked."""
    order = await orders.lock_order(ticket.order_reference)
    # Then the event's counters, in the order every writer takes them (orders, ticket types by id, the event): a
    # release gives a place back and offers it to the waiting list, which lock them too.
    types = await TicketType.select(TicketType.id).where(TicketType.event == order.event)
    await orders.lock_counters(order.event, [t["id"] for t in types])
    row = await Ticket.select(*_FACT_COLUMNS).where(Ticket.id == ticket.id, Ticket.order_id == order.id).first()
    if row is None:
        raise _not_found()
    facts = await _facts(row)
    refused = rules.refusal(facts, choice, now, ticket.authority)
    if refused is not None:
        raise ChoiceRefused(refused.message, code=refused.code)
    return order, facts, row


async def _record(order: OrderRow, ticket_id: int, choice: Choice, *, after: dict[str, Any], now: datetime, given_back_by: int | None = None) -> int:
    """The order's history and the audit log (references and amounts, never names); then the freed place offered to
    the waiting list, in the same transaction (a free place claimed through a referral link, ``given_back_by``, to
    that link's waiting guests first). Returns the places offered."""
    await orders.note(order.id, f"ticket_{choice}", f"Ticket {ticket_id}: the guest could not come ({choice})", now)
    await audit.record(
        "ticket.released",
        now=now,
        event_id=order.event,
        subject_type="ticket",
        subject_id=ticket_id,
        before={"status": TicketStatus.valid, "order": order.reference},
        after={"choice": choice, "order": order.reference, **after},
        anonymous_actor=GUEST,
    )
    if choice == Choice.transfer:
        return 0  # the friend takes the place: nothing is freed
    return await waitlist.offer_freed_places(order.event, now, given_back_by=given_back_by)


async def release(
    ticket: TicketRef, choice: Choice, *, declaration: Declaration | None = None, gateway: Gateway | None = None, now: datetime
) -> Released:
    """The API's and the page's one entry point for giving a ticket back (passing it on is pass_on)."""
    if choice == Choice.free_place:
        if declaration is not None:
            raise InvalidInput(GIFT_AID_NOT_OFFERED, fields={"gift_aid": GIFT_AID_NOT_OFFERED})
        return await release_free_place(ticket, now=now)
    if choice == Choice.refund:
        if declaration is not None:
            message = N_("Gift Aid is only for a donation: choose to donate instead of the refund to add it.")
            raise InvalidInput(message, fields={"gift_aid": message})
        assert gateway is not None
        return await refund_ticket(ticket, gateway=gateway, now=now)
    if choice == Choice.donate:
        return await donate_ticket(ticket, declaration, now=now)
    raise InvalidInput(N_("Choose a refund, a donation or to give your place back."), fields={"choice": "Not a way to give a ticket back."})


async def release_free_place(ticket: TicketRef, *, now: datetime) -> Released:
    """A place that cost nothing, given back: a free place to the event's free places (and a general place with it,
    when it was one of the funded places beyond the reserved ones); a £0 or passed-on ticket to general sale. The
    ticket is marked released (not voided: tickets.issuing.void_tickets would give a free place back to general
    sale). Then the waiting list is offered it."""
    async with db.write_transaction():
        order, facts, row = await _locked(ticket, Choice.free_place, now)
        given_back_by = None
        if rules.place_kind(facts) == rules.PlaceKind.free:
            given_back_by = await claims.claim_link_of(order.id)
            changed = (
                await Ticket.update({Ticket.status: TicketStatus.released})
                .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.valid)
                .returning(Ticket.id)
            )
            if not changed or not await orders.release_free_place(row["event"]):
                raise RuntimeError("The ticket or the free places changed under the order's lock.")
        elif not await issuing.void_tickets(order.id, [ticket.id], TicketStatus.released, now):
            raise RuntimeError("The ticket changed under the order's lock.")
        await outbox.enqueue(
            MessageKind.place_released, order_id=order.id, now=now, key=CONFIRMATION_KEY.format(ticket.id), detail={"ticket_id": ticket.id}
        )
        offered = await _record(order, ticket.id, Choice.free_place, after={"status": TicketStatus.released}, now=now, given_back_by=given_back_by)
    return Released(ticket.id, order.reference, Choice.free_place, TicketStatus.released, places_offered=offered)


async def refund_ticket(ticket: TicketRef, *, gateway: Gateway, now: datetime) -> Released:
    """A paid place given back within the refund window: its price and booking fee refunded (payments.record_refund:
    the ticket refunded, its place back on sale, the refund notice queued, which is the guest's confirmation), the
    waiting list offered the place, and the money asked of the provider once the transaction commits."""
    async with db.write_transaction():
        order, _, _ = await _locked(ticket, Choice.refund, now)
        refund_id = await payments.record_refund(
            order,
            ticket_ids=[ticket.id],
            amount_pence=None,
            reason=f"The guest could not come (ticket {ticket.id})",
            requested_by=GUEST,
            now=now,
        )
        refund = await _amount(Refund, refund_id)
        offered = await _record(order, ticket.id, Choice.refund, after={"status": TicketStatus.refunded, "refund_pence": refund}, now=now)
    await payments.send_refund(refund_id, gateway=gateway, now=now)
    return Released(ticket.id, order.reference, Choice.refund, TicketStatus.refunded, refund_pence=refund, places_offered=offered)


async def donate_ticket(ticket: TicketRef, declaration: Declaration | None, *, now: datetime) -> Released:
    """A paid place given back, its price (and booking fee) donated to the event's partner projects instead of
    refunded (payments.donations). A Gift Aid ``declaration`` only where a refund was genuinely on offer (within the
    refund window): HMRC's condition. The place goes back on sale, to the waiting list first."""
    async with db.write_transaction():
        order, facts, _ = await _locked(ticket, Choice.donate, now)
        refund_offered = rules.gift_aid_allowed(facts, now)
        if declaration is not None:
            if not refund_offered:
                raise InvalidInput(GIFT_AID_NOT_OFFERED, fields={"gift_aid": GIFT_AID_NOT_OFFERED})
            problems = gift_aid.declaration_problems(declaration, eligible_pence=facts.price_pence + facts.booking_fee_pence, currency=order.currency)
            if problems:
                raise InvalidInput(next(iter(problems.values())), fields=problems)
        donation_id = await donations.donate_tickets(order, [ticket.id], declaration=declaration, now=now, refund_offered=refund_offered)
        donated = await _amount(RefundDonation, donation_id)
        if not await issuing.void_tickets(order.id, [ticket.id], TicketStatus.released, now):
            raise RuntimeError("The ticket changed under the order's lock.")
        with_gift_aid = declaration is not None
        await outbox.enqueue(
            MessageKind.ticket_donated,
            order_id=order.id,
            now=now,
            key=CONFIRMATION_KEY.format(ticket.id),
            detail={"ticket_id": ticket.id, "donated_pence": donated, "currency": order.currency, "gift_aid": with_gift_aid},
        )
        offered = await _record(
            order,
            ticket.id,
            Choice.donate,
            after={"status": TicketStatus.released, "donated_pence": donated, "gift_aid": with_gift_aid, "refund_offered": refund_offered},
            now=now,
        )
    return Released(
        ticket.id, order.reference, Choice.donate, TicketStatus.released, donated_pence=donated, gift_aid=with_gift_aid, places_offered=offered
    )


async def pass_on(ticket: TicketRef, holder: str, email: str, phone: str, *, now: datetime, texts_available: bool = True) -> Released:
    """The ticket passed to a friend: it stops working (passed_on: refused at the door, online and in the offline
    lists), and a new order (channel transfer, nothing to pay) gives the friend a new ticket of the same type with a
    new secret, sent to them by email or text as any order's tickets are. The place is counted once: it stays taken,
    moving from the old ticket to the new one. The guest who passed it on is sent a confirmation."""
    friend, problems = rules.friend_problems(holder, email, phone, texts_available=texts_available)
    if friend is None:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    async with db.write_transaction():
        order, _, row = await _locked(ticket, Choice.transfer, now)
        changed = (
            await Ticket.update({Ticket.status: TicketStatus.passed_on})
            .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.valid)
            .returning(Ticket.id)
        )
        if not changed:
            raise RuntimeError("The ticket changed under the order's lock.")
        new_order_id, new_reference = await _friends_order(order, row["ticket_type"], friend, now=now)
        [new_ticket_id] = await issuing.issue_and_confirm(OrderToIssue(id=new_order_id, event=order.event, holder_name=friend.holder), now)
        await orders.note(new_order_id, "passed_on", PASSED_ON_NOTE.format(reference=order.reference, ticket_id=ticket.id), now)
        await outbox.enqueue(
            MessageKind.ticket_passed_on, order_id=order.id, now=now, key=CONFIRMATION_KEY.format(ticket.id), detail={"ticket_id": ticket.id}
        )
        await _record(
            order,
            ticket.id,
            Choice.transfer,
            after={"status": TicketStatus.passed_on, "new_order": new_reference, "new_ticket": new_ticket_id, "old_code": "revoked"},
            now=now,
        )
    return Released(
        ticket.id, order.reference, Choice.transfer, TicketStatus.passed_on, new_order_reference=new_reference, new_ticket_id=new_ticket_id
    )


async def _amount(table: type[Refund] | type[RefundDonation], row_id: int) -> int:
    """A refund's or a donation's amount as recorded (0 for none: a ticket that cost nothing donates nothing)."""
    row = await table.select(table.amount_pence).where(table.id == row_id).first() if row_id else None
    return int(row["amount_pence"]) if row else 0


async def _friends_order(order: OrderRow, ticket_type_id: int, friend: Friend, *, now: datetime) -> tuple[int, str]:
    """The friend's order: paid, nothing to pay, one ticket of the type passed on, in the guest's language."""
    ticket_type = await TicketType.select(TicketType.name).where(TicketType.id == ticket_type_id).first()
    reference = await orders.new_unique_reference()
    new = Order(
        reference=reference,
        event=order.event,
        status=OrderStatus.paid,
        channel=rules.TRANSFER_CHANNEL,
        buyer_name=friend.holder,
        buyer_email=friend.email,
        buyer_phone=friend.phone,
        locale=order.locale,
        currency=order.currency,
        places=1,
        payment_provider="none",
        created_at=now,
        paid_at=now,
    )
    await new.save()
    description = ticket_type["name"] if ticket_type else ""
    await OrderLine(order_id=new.id, kind="ticket", ticket_type=ticket_type_id, description=description, quantity=1).save()
    return int(new.id), reference
