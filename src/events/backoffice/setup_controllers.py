"""Back-office pages for setting an event up: the organiser's list of events, the event form, status changes
(cancelling included), ticket types, partner shares and costs, claim links and free places, and the door team.

Each handler reads its form, makes one service call and renders a page or redirects; a service's field
messages go back next to the fields, with the person's values kept."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, TREASURER, CurrentUser
from events.backoffice import forms, service
from events.catalogue import rules, sales
from events.catalogue import service as catalogue
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.rules import NAME_CHANGES_CLOSE_HOURS_DEFAULT, OFFER_HOURS_DEFAULT, REFUND_DAYS_DEFAULT, REMINDER_HOURS_DEFAULT
from events.catalogue.schemas import EventPatch, PartnerIn, ShareIn
from events.catalogue.statuses import EventStatus
from events.checkin import devices, door_team
from events.config import Settings
from events.errors import EventsError, InvalidInput, NotFound
from events.ledger import service as ledger
from events.orders import claims
from events.orders.forms import parse_count
from events.payments import cancellation
from events.payments.gateways import Gateways
from events.row_ids import RowIdParameter
from events.series import service as series
from events.tickets.issuing import issue_and_confirm
from events.tickets.qr import qr_svg

NO_STORE = {"Cache-Control": "no-store"}
GUARD = [requires_role(ORGANISER)]
Form = URLEncodedBody[dict[str, str]]
# Status actions: the status each leads to, and what the confirmation page says.
STATUS_ACTIONS: dict[str, dict[str, str]] = {
    "publish": {
        "status": EventStatus.on_sale,
        "title": "Publish this event",
        "explain": "The event appears on the public site and guests can buy tickets and claim free places.",
        "button": "Publish and open sales",
    },
    "close": {
        "status": EventStatus.sales_closed,
        "title": "Close sales",
        "explain": "Nobody can buy tickets online any more. Tickets already sold stay valid and the door still works. You can reopen sales later.",
        "button": "Close sales",
    },
    "reopen": {
        "status": EventStatus.on_sale,
        "title": "Reopen sales",
        "explain": "Guests can buy tickets online again.",
        "button": "Reopen sales",
    },
    "finish": {
        "status": EventStatus.finished,
        "title": "Mark the event finished",
        "explain": "The event is over: sales stop for good and its statement can be settled. This cannot be undone.",
        "button": "Mark finished",
    },
    "cancel": {
        "status": EventStatus.cancelled,
        "title": "Cancel this event",
        "explain": "Every paid order is refunded in full, every guest is emailed in their language, all tickets stop working and places held in checkouts are released. This cannot be undone.",
        "button": "Cancel the event and refund everyone",
    },
}
TIMEZONES = ("Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Athens", "America/New_York")


def _page(template: str, *, section: str, event: Any = None, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"backoffice/{template}",
        context={"section": section, "event": event, "errors": {}, "form": {}, **context},
        status_code=status_code,
        headers=NO_STORE,
    )


def _errors(error: EventsError) -> dict[str, str]:
    fields = {forms.form_field(name): message for name, message in error.fields.items()}
    return fields or {"form": error.message}


def _actions(status: str) -> list[str]:
    allowed = rules.STATUS_CHANGES.get(EventStatus(status), frozenset())
    return [
        name
        for name, action in STATUS_ACTIONS.items()
        if action["status"] in allowed
        and not (name == "reopen" and status == EventStatus.draft)
        and not (name == "publish" and status != EventStatus.draft)
    ]


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _pounds(pence: int | None) -> str:
    if not pence:
        return ""
    sign = "-" if pence < 0 else ""
    whole, fraction = divmod(abs(pence), 100)
    return f"{sign}{whole}" if not fraction else f"{sign}{whole}.{fraction:02d}"


def _event_form(event: EventRow) -> dict[str, str]:
    """An event row as the form shows it: local times, pounds, ticked boxes."""
    return {
        "title": event.title,
        "slug": event.slug,
        "description": event.description,
        "venue": event.venue,
        "address": event.address,
        "access_information": event.access_information,
        "timezone": event.timezone,
        "starts_at": _local(event.starts_at, event.timezone),
        "ends_at": _local(event.ends_at, event.timezone),
        "capacity": str(event.capacity),
        "reserved_free_places": str(event.reserved_free_places),
        "booking_fee": _pounds(event.booking_fee_pence),
        "pay_it_forward_place": _pounds(event.pay_it_forward_place_pence),
        "cost_per_attendee": _pounds(event.cost_per_attendee_pence),
        "pay_it_forward_converts_general": "on" if event.pay_it_forward_converts_general else "",
        "allow_reentry": "on" if event.allow_reentry else "",
        "booking_fees_to": "cause" if event.booking_fees_to_cause else "costs",
        "reminder": "on" if event.reminder_hours_before is not None else "off",
        "reminder_hours_before": str(event.reminder_hours_before or REMINDER_HOURS_DEFAULT),
        "thank_you": "on" if event.thank_you_enabled else "off",
        "waiting_list": "on" if event.waiting_list_open else "off",
        "freed_places_to": "list" if event.waiting_list_first else "sale",
        "offer_hours": str(event.offer_hours),
        "refunds": "on" if event.refund_days_before is not None else "off",
        "refund_days_before": str(event.refund_days_before if event.refund_days_before is not None else REFUND_DAYS_DEFAULT),
        "name_changes_close_hours_before": str(event.name_changes_close_hours_before),
    }


def _type_form(ticket_type: catalogue.OrganiserTicketType) -> dict[str, str]:
    return {
        "name": ticket_type.name,
        "description": ticket_type.description,
        "price": _pounds(ticket_type.price_pence) or "0",
        "channel": ticket_type.channel,
        "sales_start": ticket_type.sales_start.strftime("%Y-%m-%dT%H:%M") if ticket_type.sales_start else "",
        "sales_end": ticket_type.sales_end.strftime("%Y-%m-%dT%H:%M") if ticket_type.sales_end else "",
        "quota": str(ticket_type.quota) if ticket_type.quota is not None else "",
        "max_per_order": str(ticket_type.max_per_order),
        "waiting_list": "on" if ticket_type.waiting_list else "off",
        "hidden": "on" if ticket_type.hidden else "",
    }


class BackOfficeHome(Controller):
    """The back office's home: the organisation's events. An organiser goes from each to its dashboard; a treasurer,
    who does not run events, to its statement."""

    path = "/manage"
    include_in_schema = False
    guards = [requires_role(ORGANISER, TREASURER)]

    @get("/", name="manage_home")
    async def home(self, request: Request[CurrentUser, Any, Any]) -> Template:
        events = await service.list_events_for_organisers(request.user)
        return _page("events.html", section="events", events=events, runs_events=request.user.has_role(ORGANISER))


class EventSetupPages(Controller):
    """Creating, editing, publishing, closing, finishing and cancelling an event."""

    path = "/manage"
    include_in_schema = False
    guards = GUARD

    @get("/events/new", name="event_new")
    async def new_event(self, request: Request[CurrentUser, Any, Any]) -> Template:
        return _page(
            "event_form.html",
            section="events",
            form={
                "timezone": "Europe/London",
                "booking_fees_to": "cause",
                "reminder": "on",
                "reminder_hours_before": str(REMINDER_HOURS_DEFAULT),
                "thank_you": "on",
                "waiting_list": "on",
                "freed_places_to": "list",
                "offer_hours": str(OFFER_HOURS_DEFAULT),
                "refunds": "on",
                "refund_days_before": str(REFUND_DAYS_DEFAULT),
                "name_changes_close_hours_before": str(NAME_CHANGES_CLOSE_HOURS_DEFAULT),
            },
            creating=True,
            timezones=TIMEZONES,
            series_choices=await series.series_choices(request.user.organisation),
        )

    @post("/events/new", guards=[requires_role(ORGANISER, unrestricted=True)])
    async def create_event(self, request: Request[CurrentUser, Any, Any], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event, errors = forms.event_create(data)
        if event is not None:
            try:
                created = await catalogue.create_event(event, now, organisation_id=request.user.organisation)
            except EventsError as error:
                errors = _errors(error)
            else:
                return Redirect(f"/manage/events/{created.slug}/tickets?notice=created", status_code=303)
        return _page(
            "event_form.html",
            section="events",
            form=data,
            errors=errors,
            creating=True,
            timezones=TIMEZONES,
            series_choices=await series.series_choices(request.user.organisation),
            status_code=422,
        )

    @get("/events/{slug:str}/edit", name="event_edit")
    async def edit_event(self, slug: FromPath[str], notice: FromQuery[str] = "") -> Template:
        event = await find_event(slug)
        choices = await series.series_choices(event.organisation)
        return _page(
            "event_form.html",
            section="setup",
            event=event,
            form=_event_form(event) | {"series": next((choice.slug for choice in choices if choice.id == event.series), "")},
            creating=False,
            timezones=TIMEZONES,
            series_choices=choices,
            actions=_actions(event.status),
            notice=notice,
        )

    @post("/events/{slug:str}/edit")
    async def update_event(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event = await find_event(slug)
        patch, errors = forms.event_patch(data if event.status == EventStatus.draft else {k: v for k, v in data.items() if k != "slug"})
        if patch is not None:
            try:
                saved = await catalogue.update_event(slug, patch, now)
            except EventsError as error:
                errors = _errors(error)
            else:
                return Redirect(f"/manage/events/{saved.slug}/edit?notice=saved", status_code=303)
        return _page(
            "event_form.html",
            section="setup",
            event=event,
            form={"slug": slug, **data},
            errors=errors,
            creating=False,
            timezones=TIMEZONES,
            series_choices=await series.series_choices(event.organisation),
            actions=_actions(event.status),
            status_code=422,
        )

    @get("/events/{slug:str}/status/{action:str}", name="event_status_confirm")
    async def confirm_status(self, slug: FromPath[str], action: FromPath[str]) -> Template:
        event = await find_event(slug)
        if action not in STATUS_ACTIONS:
            raise InvalidInput("There is no such action.", code="unknown_action")
        progress = await cancellation.cancellation_progress(slug) if action == "cancel" else None
        return _page(
            "status.html",
            section="setup",
            event=event,
            action=action,
            copy=STATUS_ACTIONS[action],
            allowed=action in _actions(event.status),
            progress=progress,
        )

    @post("/events/{slug:str}/status/{action:str}")
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        action: FromPath[str],
        data: Form,
        now: NamedDependency[datetime],
        gateways: NamedDependency[Gateways],
    ) -> Template | Redirect:
        event = await find_event(slug)
        if action not in STATUS_ACTIONS:
            raise InvalidInput("There is no such action.", code="unknown_action")
        if action != "cancel" and action not in _actions(event.status):
            # E.g. "Publish" pressed twice, or on a page left open after someone else closed sales.
            return _page(
                "status.html", section="setup", event=event, action=action, copy=STATUS_ACTIONS[action], allowed=False, progress=None, status_code=409
            )
        try:
            if action == "cancel":
                gateway = await gateways.for_event(slug)
                given = data.get("donation_choice_days", "").strip()  # left out or blank: the default
                days = parse_count(given) if given else cancellation.DEFAULT_CHOICE_DAYS
                if days is None:
                    problem = f"Give a whole number of days from 0 to {cancellation.MAX_CHOICE_DAYS}."
                    raise InvalidInput(problem, fields={"donation_choice_days": problem})
                await cancellation.cancel_event(
                    slug,
                    reason=data.get("reason", ""),
                    guest_message=data.get("guest_message", ""),
                    requested_by=request.user.name,
                    gateway=gateway,
                    now=now,
                    donation_choice_days=days,
                )
                return Redirect(f"/manage/events/{slug}/cancellation", status_code=303)
            await catalogue.update_event(slug, EventPatch(status=STATUS_ACTIONS[action]["status"]), now)  # type: ignore[arg-type]
        except EventsError as error:
            return _page(
                "status.html",
                section="setup",
                event=event,
                action=action,
                copy=STATUS_ACTIONS[action],
                allowed=True,
                errors=_errors(error),
                form=data,
                progress=None,
                status_code=error.status_code,
            )
        return Redirect(f"/manage/events/{slug}/edit?notice={action}", status_code=303)

    @get("/events/{slug:str}/cancellation", name="event_cancellation")
    async def cancellation_page(self, slug: FromPath[str]) -> Template:
        event = await find_event(slug)
        return _page("cancellation.html", section="setup", event=event, progress=await cancellation.cancellation_progress(slug))

    @post("/events/{slug:str}/cancellation")
    async def finish_cancelling(
        self, request: Request[Any, Any, Any], slug: FromPath[str], now: NamedDependency[datetime], gateways: NamedDependency[Gateways]
    ) -> Redirect:
        event = await find_event(slug)
        if event.status != EventStatus.cancelled:
            return Redirect(f"/manage/events/{slug}/status/cancel", status_code=303)
        await cancellation.cancel_event(slug, reason="", requested_by=request.user.name, gateway=await gateways.for_event(slug), now=now)
        return Redirect(f"/manage/events/{slug}/cancellation", status_code=303)


class TicketTypePages(Controller):
    path = "/manage/events/{slug:str}/tickets"
    include_in_schema = False
    guards = GUARD

    async def _render(
        self,
        slug: str,
        now: datetime,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        type_error: str = "",
        status_code: int = 200,
    ) -> Template:
        event = await find_event(slug)
        types = await catalogue.ticket_types_for_organisers(slug)
        general = event.capacity - event.reserved_free_places
        return _page(
            "tickets.html",
            section="tickets",
            event=event,
            types=types,
            form=form or {"channel": "both", "max_per_order": "10"},
            errors=errors or {},
            notice=notice,
            type_error=type_error,
            status_code=status_code,
            now=now,
            capacity={
                "total": event.capacity,
                "reserved": event.reserved_free_places,
                "general": general,
                "taken": event.places_taken,
                "left": rules.places_left(event.capacity, event.reserved_free_places, event.places_taken),
                "quotas": sum(t.quota for t in types if t.quota is not None),
                "unlimited": any(t.quota is None for t in types),
            },
        )

    @get("/", name="ticket_types")
    async def list_types(self, slug: FromPath[str], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await self._render(slug, now, notice=notice)

    @post("/")
    async def add_type(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        ticket_type, errors = forms.ticket_type_patch(data, None)
        if ticket_type is not None:
            try:
                await catalogue.update_event(slug, EventPatch(ticket_types=[ticket_type]), now)
            except EventsError as error:
                errors = _errors(error)
            else:
                return Redirect(f"/manage/events/{slug}/tickets?notice=added", status_code=303)
        return await self._render(slug, now, form=data, errors=errors, status_code=422)

    @get("/{type_id:int}/edit", name="ticket_type_edit")
    async def edit_type(self, slug: FromPath[str], type_id: RowIdParameter) -> Template:
        event = await find_event(slug)
        ticket_type = await _ticket_type(slug, type_id)
        return _page("ticket_type_form.html", section="tickets", event=event, ticket_type=ticket_type, form=_type_form(ticket_type))

    @post("/{type_id:int}/edit")
    async def update_type(self, slug: FromPath[str], type_id: RowIdParameter, data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event = await find_event(slug)
        ticket_type = await _ticket_type(slug, type_id)
        patch, errors = forms.ticket_type_patch(data, type_id)
        if patch is not None:
            try:
                await catalogue.update_event(slug, EventPatch(ticket_types=[patch]), now)
            except EventsError as error:
                errors = _errors(error)
            else:
                return Redirect(f"/manage/events/{slug}/tickets?notice=saved", status_code=303)
        return _page("ticket_type_form.html", section="tickets", event=event, ticket_type=ticket_type, form=data, errors=errors, status_code=422)

    @post("/{type_id:int}/remove")
    async def remove_type(self, slug: FromPath[str], type_id: RowIdParameter, now: NamedDependency[datetime]) -> Template | Redirect:
        try:
            await catalogue.remove_ticket_type(slug, type_id, now=now)
        except EventsError as error:
            return await self._render(slug, now, type_error=error.message, status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/tickets?notice=removed", status_code=303)

    @post("/{type_id:int}/stop")
    async def stop_type(self, slug: FromPath[str], type_id: RowIdParameter, now: NamedDependency[datetime]) -> Redirect:
        await catalogue.stop_ticket_type_sales(slug, type_id, now=now)
        return Redirect(f"/manage/events/{slug}/tickets?notice=stopped", status_code=303)


async def _ticket_type(slug: str, type_id: int) -> catalogue.OrganiserTicketType:
    for ticket_type in await catalogue.ticket_types_for_organisers(slug):
        if ticket_type.id == type_id:
            return ticket_type
    raise NotFound("This event has no such ticket type.", code="ticket_type_not_found")


class PartnerPages(Controller):
    path = "/manage/events/{slug:str}/partners"
    include_in_schema = False
    guards = GUARD

    async def _render(
        self,
        slug: str,
        now: datetime,
        *,
        share_form: dict[str, str] | None = None,
        partner_form: dict[str, str] | None = None,
        cost_form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        event = await find_event(slug)
        detail = await catalogue.get_event_detail(slug, now, include_drafts=True)
        if share_form is None:
            share_form = {}
            for index, share in enumerate(detail.beneficiaries):
                share_form[f"partner_{index}"] = share.partner
                share_form[f"share_{index}"] = forms.format_percent(share.share_bp).rstrip("%")
        costs, costs_total = await ledger.list_event_costs(slug)
        return _page(
            "partners.html",
            section="partners",
            event=event,
            shares=detail.beneficiaries,
            partners=await catalogue.list_partners(event.organisation),
            share_form=share_form,
            partner_form=partner_form or {},
            cost_form=cost_form or {},
            errors=errors or {},
            rows=forms.SHARE_ROWS,
            costs=costs,
            costs_total=costs_total,
            notice=notice,
            status_code=status_code,
        )

    @get("/", name="event_partners")
    async def show(self, slug: FromPath[str], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await self._render(slug, now, notice=notice)

    @post("/shares")
    async def save_shares(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        rows, errors = forms.shares(data)
        if not errors:
            try:
                await catalogue.update_event(slug, EventPatch(beneficiaries=[ShareIn(partner, share_bp) for partner, share_bp in rows]), now)
            except EventsError as error:
                errors = {"shares" if name == "beneficiaries" else name: message for name, message in _errors(error).items()}
            else:
                return Redirect(f"/manage/events/{slug}/partners?notice=shares", status_code=303)
        return await self._render(slug, now, share_form=data, errors=errors, status_code=422)

    # A new partner project is the whole organisation's, as on the API (POST /api/partners).
    @post("/new", guards=[requires_role(ORGANISER, unrestricted=True)])
    async def new_partner(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event = await find_event(slug)
        values = {
            "name": (data.get("name") or "").strip(),
            "website": (data.get("website") or "").strip(),
            "description": (data.get("partner_description") or "").strip(),
        }
        if not values["name"]:
            return await self._render(slug, now, partner_form=data, errors={"name": "Give the partner project a name."}, status_code=422)
        partner, errors = forms.convert(values, PartnerIn)
        if partner is not None:
            try:
                await catalogue.create_partner(partner, organisation_id=event.organisation, now=now)
            except EventsError as error:
                errors = {"name" if name == "slug" else name: message for name, message in _errors(error).items()}
            else:
                return Redirect(f"/manage/events/{slug}/partners?notice=partner", status_code=303)
        if "website" in errors:
            errors["website"] = "Give the full address, starting with https://"
        return await self._render(slug, now, partner_form=data, errors=errors, status_code=422)

    @post("/costs")
    async def add_cost(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        amount = forms.parse_signed_pounds(data.get("amount", ""))
        errors: dict[str, str] = {}
        if amount is None or not (data.get("amount") or "").strip():
            errors["amount"] = "Enter an amount in pounds, like 120 or -20.50 for a correction."
        else:
            try:
                await ledger.add_event_cost(slug, description=data.get("cost_description", ""), amount_pence=amount, now=now)
            except EventsError as error:
                errors = {"cost_description" if k == "description" else "amount" if k == "amount_pence" else k: v for k, v in _errors(error).items()}
            else:
                return Redirect(f"/manage/events/{slug}/partners?notice=cost#costs", status_code=303)
        return await self._render(slug, now, cost_form=data, errors=errors, status_code=422)


class ClaimLinkPages(Controller):
    path = "/manage/events/{slug:str}/claims"
    include_in_schema = False
    guards = GUARD

    async def _render(
        self,
        slug: str,
        settings: Settings,
        now: datetime,
        *,
        form: dict[str, str] | None = None,
        gift_form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        event = await find_event(slug)
        links = []
        for row in await claims.list_claim_codes(slug):
            url = f"{settings.base_url}/claim/{row.code}"
            closes_at_local = row.closes_at.astimezone(ZoneInfo(event.timezone)) if row.closes_at else None
            links.append(
                {
                    **dataclasses.asdict(row),
                    "url": url,
                    "usage_url": f"{url}/places",
                    "qr": qr_svg(url),
                    "closed": row.closed(now),
                    "closes_at_local": closes_at_local,
                }
            )
        return _page(
            "claims.html",
            section="claims",
            event=event,
            links=links,
            free_places=await sales.event_free_places(event),
            form=form or {},
            gift_form=gift_form or {},
            errors=errors or {},
            notice=notice,
            status_code=status_code,
        )

    @get("/", name="claim_links")
    async def show(
        self, slug: FromPath[str], settings: NamedDependency[Settings], now: NamedDependency[datetime], notice: FromQuery[str] = ""
    ) -> Template:
        return await self._render(slug, settings, now, notice=notice)

    @post("/")
    async def create_link(
        self, slug: FromPath[str], data: Form, now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        places = (data.get("places") or "").strip()
        if not (places.isascii() and places.isdigit() and len(places) <= 6):
            return await self._render(slug, settings, now, form=data, errors={"places": "Enter a number of places, like 5."}, status_code=422)
        closes_text = (data.get("closes_at") or "").strip()
        closes_at = forms.parse_local_time(closes_text) if closes_text else None
        if closes_text and closes_at is None:
            return await self._render(
                slug, settings, now, form=data, errors={"closes_at": "Enter a date and time like 2026-08-15 19:00."}, status_code=422
            )
        try:
            row = await claims.create_claim_code(slug, partner_name=data.get("partner_name", ""), places=int(places), now=now, closes_at=closes_at)
        except EventsError as error:
            return await self._render(slug, settings, now, form=data, errors=_errors(error), status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/claims?notice=created#link-{row.id}", status_code=303)

    @post("/{code:str}/revoke")
    async def revoke(self, slug: FromPath[str], code: FromPath[str], now: NamedDependency[datetime]) -> Redirect:
        await claims.revoke_claim_code(slug, code, now=now)
        return Redirect(f"/manage/events/{slug}/claims?notice=revoked", status_code=303)

    @post("/free-place")
    async def give(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime], settings: NamedDependency[Settings]) -> Template | Redirect:
        try:
            await claims.give_free_place(slug, name=data.get("name", ""), email=data.get("email", ""), issue=issue_and_confirm, now=now)
        except EventsError as error:
            return await self._render(slug, settings, now, gift_form=data, errors=_errors(error), status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/claims?notice=given", status_code=303)


class DoorStaffPages(Controller):
    path = "/manage/events/{slug:str}/door-staff"
    include_in_schema = False
    guards = GUARD

    async def _render(
        self,
        slug: str,
        now: datetime,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> Template:
        event = await find_event(slug)
        team, others = await door_team.door_team(event.id, event.organisation)
        return _page(
            "door_staff.html",
            section="door",
            event=event,
            team=team,
            others=others,
            door_devices=await door_team.door_devices(event.id, now=now),
            form=form or {},
            errors=errors or {},
            notice=notice,
            status_code=status_code,
            pairing_minutes=devices.PAIRING_MINUTES,
        )

    @get("/", name="door_staff")
    async def show(self, slug: FromPath[str], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await self._render(slug, now, notice=notice)

    @post("/assign")
    async def assign(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event = await find_event(slug)
        user_id = (data.get("user") or "").strip()
        if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 9):
            return await self._render(slug, now, errors={"user": "Choose a person to add."}, status_code=422)
        try:
            await door_team.assign_door_staff(event.id, int(user_id), now=now)
        except EventsError as error:
            return await self._render(slug, now, errors=_errors(error), status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/door-staff?notice=assigned", status_code=303)

    @post("/new")
    async def create(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        event = await find_event(slug)
        try:
            await door_team.create_door_staff(
                event.id,
                organisation_id=event.organisation,
                email=data.get("email", ""),
                name=data.get("display_name", ""),
                password=data.get("password", ""),
                now=now,
            )
        except EventsError as error:
            errors = _errors(error)
            if error.code == "email_taken":
                errors = {"email": error.message}
            # The password is never sent back to the page.
            return await self._render(
                slug, now, form={k: v for k, v in data.items() if k != "password"}, errors=errors, status_code=error.status_code
            )
        return Redirect(f"/manage/events/{slug}/door-staff?notice=created", status_code=303)

    @post("/{user_id:int}/remove")
    async def remove(self, slug: FromPath[str], user_id: RowIdParameter, now: NamedDependency[datetime]) -> Redirect:
        event = await find_event(slug)
        await door_team.remove_door_staff(event.id, user_id, now=now)
        return Redirect(f"/manage/events/{slug}/door-staff?notice=removed", status_code=303)

    @post("/devices/{token_id:int}/revoke")
    async def revoke_device(self, slug: FromPath[str], token_id: RowIdParameter, now: NamedDependency[datetime]) -> Redirect:
        event = await find_event(slug)
        await door_team.revoke_door_device(event.id, token_id, now=now)
        return Redirect(f"/manage/events/{slug}/door-staff?notice=device_revoked", status_code=303)
