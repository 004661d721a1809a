"""Waiting-list HTTP for guests (and integrators): joining, an entry's status, leaving, and taking up an offer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.config import Settings
from events.dependencies import BEARER, error_responses
from events.orders import codes
from events.orders.schemas import PaymentStart
from events.orders.statuses import OrderStatus
from events.payments.gateways import Gateways
from events.payments.statuses import PaymentMethod
from events.tickets.views import order_details
from events.waitlist import organiser, service
from events.waitlist.organiser import WaitingListOut
from events.waitlist.schemas import OfferAccepted, OfferAcceptIn, OfferOut, WaitingEntryOut, WaitingListJoin, WaitingListJoined
from events.waitlist.statuses import WaitingStatus


def _guest(request: Request[Any, Any, Any]) -> service.Guest:
    # An API client has no browser id: its address's budgets hold it.
    return service.Guest(request.client.host if request.client else "unknown")


def _entry_out(entry: service.EntryStatus, settings: Settings) -> WaitingEntryOut:
    offer = entry.offer
    reference = entry.order_reference if entry.status == WaitingStatus.accepted else None
    return WaitingEntryOut(
        kind=entry.kind,
        status=entry.status,
        position=entry.position,
        quantity=entry.quantity,
        event=entry.event_slug,
        event_title=entry.event_title,
        ticket_type=entry.ticket_type,
        offer=OfferOut(places=offer.places, expires_at=offer.expires_at, total_pence=offer.total_pence, currency=offer.currency, free=offer.free)
        if offer
        else None,
        order=entry.order_reference,
        order_url=f"/orders/{reference}?token={codes.order_access_token(settings.secret_key, reference)}" if reference else None,
    )


async def _accepted_out(accepted: service.Accepted, settings: Settings, publishable_key: str | None) -> OfferAccepted:
    reference = accepted.order.reference
    token = codes.order_access_token(settings.secret_key, reference)
    page = f"/orders/{reference}?token={token}"
    settled = accepted.provider == "none"
    tickets = (await order_details(reference)).tickets if settled else []
    return OfferAccepted(
        reference=reference,
        status=OrderStatus.paid if settled else OrderStatus.pending,
        total_pence=accepted.order.total_pence,
        currency=accepted.order.currency,
        hold_expires_at=None if settled else accepted.order.hold_expires_at,
        payment=PaymentStart(
            provider=accepted.provider,  # type: ignore[arg-type]
            client_secret=accepted.client_secret or None,
            payment_intent=accepted.intent_id if accepted.provider == PaymentMethod.stripe else None,
            url=page if settled else f"/orders/{reference}/pay?token={token}",
            publishable_key=publishable_key,
        ),
        access_token=token,
        tickets=tickets,
    )


class WaitingListApi(Controller):
    path = "/api"
    tags = ["Waiting lists"]

    @post(
        "/events/{slug:str}/waiting-list",
        summary="Join an event's waiting list for paid places, or for a free place with a referral partner's claim link",
        responses=error_responses(404, 409, 422, 429),
        description=(
            "201: the guest's position (1 is next) and `access_token`, their key to the entry and to the offer's link "
            "(`/waiting-list/{access_token}`), which they are sent at once with their position (by email, or by text "
            "when only a mobile number was given, in their `locale`). When places free up, the next guests are offered them in the order they "
            "joined, by email (or by text when only a mobile number was given), in their `locale`; an offer holds the "
            "places for the event's offer hours (12 by default, less near the event). 409 `waiting_list_closed` (no "
            "list, or closed), `places_available` (there are places to buy, or to claim with the link, instead) or "
            "`already_waiting` (this email or number is on the list); 404 `claim_code_not_found` for a wrong or revoked "
            "link (wrong codes are limited as claims are); 422 for bad input (`quantity` above the type's maximum, no "
            "email or mobile number); 429 when one client joins too often."
        ),
    )
    async def join(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: JSONBody[WaitingListJoin],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> WaitingListJoined:
        joined = await service.join(
            slug,
            service.JoinRequest(
                name=data.name,
                email=data.email,
                phone=data.phone,
                quantity=data.quantity,
                locale=data.locale or request.state.locale,
                ticket_type=data.ticket_type,
                claim_code=data.free_place.claim_code if data.free_place else None,
            ),
            now,
            guest=_guest(request),
            texts_available=settings.can_send_texts,
        )
        return WaitingListJoined(position=joined.position, access_token=joined.access_token)

    @get(
        "/events/{slug:str}/waiting-list",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        summary="The event's waiting lists in order, with each person's offer and the free list's counts per partner (organiser)",
        responses=error_responses(401, 403, 404),
        description="Paid places first, then free places, each in the order people joined; `position` is a person's "
        "turn among those still waiting on their list. Names and contact details are there so the organiser can reach "
        "people; they are erased with the event's other guest data.",
    )
    async def list_entries(self, slug: FromPath[str]) -> WaitingListOut:
        return await organiser.waiting_list(slug)

    @get(
        "/waiting-list/{token:str}",
        summary="A waiting-list entry: its status, position while waiting, and the offer while places are held",
        responses=error_responses(404, 429),
        description="404 `waiting_entry_not_found` for an unknown token (wrong tokens are limited per client: 429).",
    )
    async def status(
        self, request: Request[Any, Any, Any], token: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> WaitingEntryOut:
        return _entry_out(await service.entry_status(token, now, guest=_guest(request)), settings)

    @delete(
        "/waiting-list/{token:str}",
        summary="Leave the waiting list; places held for the guest go to the next person",
        responses=error_responses(404, 409, 429),
        description=(
            "204, also when the guest had already left. 409 `offer_accepted` once the offer has become an order; 409 "
            "`entry_changed` in the rare case that offers came and went twice while leaving (try again)."
        ),
    )
    async def leave(self, request: Request[Any, Any, Any], token: FromPath[str], now: NamedDependency[datetime]) -> None:
        await service.leave(token, now, guest=_guest(request))

    @post(
        "/waiting-list/{token:str}/accept",
        summary="Take up an offer: the order with its payment to complete, or a free place's ticket",
        responses={**error_responses(404, 409, 422, 429), 410: error_responses(410)[410]},
        description=(
            "201 with the order: paid places are held for EVENTS_HOLD_MINUTES while the payment is completed (as after "
            "POST /api/events/{slug}/orders); a free place (or nothing to pay) is issued at once, its `tickets` listed. "
            "Taking fewer places than offered passes the rest to the next person. 410 `offer_expired` once the offer "
            "has run out; 409 `offer_accepted` when it was taken up already, `no_offer` when nothing is held yet; 422 "
            "for more places than offered; 409 `card_payments_unavailable` when there is something to pay and the "
            "organisation takes no card payments online. None of these changes anything. 503 `payment_unavailable` when "
            "the payment provider cannot be reached: the offer stands again (the places taken, until the offer's own "
            "expiry), so the guest can try again."
        ),
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
        data: JSONBody[OfferAcceptIn | None] = None,
    ) -> OfferAccepted:
        entry = await service.entry_status(token, now, guest=_guest(request))
        gateway = await gateways.for_event(entry.event_slug)
        accepted = await service.accept(
            token, data.quantity if data else None, now, gateway=gateway, hold_minutes=settings.hold_minutes, guest=_guest(request)
        )
        return await _accepted_out(accepted, settings, gateway.publishable_key)
