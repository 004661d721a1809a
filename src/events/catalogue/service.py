"""Catalogue service: reading events for guests, and creating or changing events and partners."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from events import db
from events.audit import service as audit
from events.catalogue import queries, rules
from events.catalogue.lookup import EventRow
from events.catalogue.sales import event_free_places, held_for_waiting_list, ordered_ticket_types
from events.catalogue.schemas import (
    BeneficiaryOut,
    EventCreate,
    EventDetailOut,
    EventPatch,
    EventSummaryOut,
    FreePlacesOut,
    OrganisationOut,
    OrganisationRefOut,
    PartnerIn,
    PartnerOut,
    SeriesRefOut,
    ShareIn,
    TicketTypeIn,
    TicketTypeOut,
    TicketTypePatch,
)
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, Partner, Series, TicketType
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.organisations.service import OrganisationRow
from events.organisations.tables import Organisation

# What the audit log keeps of an event and a ticket type (everything an organiser sets; no counters).
AUDITED_EVENT_FIELDS = (
    "title",
    "slug",
    "description",
    "venue",
    "address",
    "access_information",
    "starts_at",
    "ends_at",
    "timezone",
    "capacity",
    "reserved_free_places",
    "currency",
    "booking_fee_pence",
    "pay_it_forward_place_pence",
    "pay_it_forward_converts_general",
    "allow_reentry",
    "cost_per_attendee_pence",
    "booking_fees_to_cause",
    "reminder_hours_before",
    "thank_you_enabled",
    "waiting_list_open",
    "waiting_list_first",
    "offer_hours",
    "refund_days_before",
    "name_changes_close_hours_before",
    "series",
    "status",
)
AUDITED_TYPE_FIELDS = (
    "name",
    "description",
    "price_pence",
    "channel",
    "sales_start",
    "sales_end",
    "quota",
    "max_per_order",
    "waiting_list",
    "hidden",
)
STATUS_ACTIONS = {
    (EventStatus.draft, EventStatus.on_sale): "event.published",
    (EventStatus.on_sale, EventStatus.sales_closed): "event.sales_closed",
    (EventStatus.sales_closed, EventStatus.on_sale): "event.sales_reopened",
    (EventStatus.on_sale, EventStatus.finished): "event.finished",
    (EventStatus.sales_closed, EventStatus.finished): "event.finished",
}


@dataclass(frozen=True, slots=True)
class OrganiserTicketType:
    """A ticket type as stored (sales times in the event's zone), and whether anyone has ordered it."""

    id: int
    event: int
    name: str
    description: str
    price_pence: int
    channel: str
    sales_start: datetime | None
    sales_end: datetime | None
    quota: int | None
    max_per_order: int
    waiting_list: bool
    position: int
    places_taken: int
    ordered: bool
    hidden: bool = False


def event_url(slug: str) -> str:
    return f"/events/{slug}"


def series_url(slug: str) -> str:
    return f"/series/{slug}"


def organisation_url(slug: str) -> str:
    return f"/organisations/{slug}"


def organisation_logo_url(slug: str, logo_content_type: str) -> str | None:
    """Where an organisation's logo is served, or None when it has none."""
    return f"{organisation_url(slug)}/logo" if logo_content_type else None


def organisation_ref(slug: str, name: str, logo_content_type: str) -> OrganisationRefOut:
    """Who runs an event, as every guest-facing page shows it (the name linking to the organisation's page, its
    logo, and its colours from /organisations/{slug}/theme.css). Other packages build it from the three columns
    they select alongside their own (e.g. ``Ticket.event._.organisation._.slug``)."""
    return OrganisationRefOut(slug=slug, name=name, url=organisation_url(slug), logo_url=organisation_logo_url(slug, logo_content_type))


def organisation_out(organisation: OrganisationRow, events: list[EventSummaryOut]) -> OrganisationOut:
    return OrganisationOut(
        slug=organisation.slug,
        name=organisation.name,
        url=organisation_url(organisation.slug),
        contact_email=organisation.contact_email,
        accent_colour=organisation.accent_colour,
        logo_url=organisation_logo_url(organisation.slug, organisation.logo_content_type),
        charity_name=organisation.charity_name,
        charity_number=organisation.charity_number,
        events=events,
    )


@dataclass(frozen=True, slots=True)
class UpcomingSeries:
    """A series with its upcoming listed events, soonest first (the organisation's page: "next dates")."""

    series: SeriesRefOut
    events: list[EventSummaryOut]


def upcoming_series(events: Sequence[EventSummaryOut]) -> list[UpcomingSeries]:
    """The series among ``events`` (as list_upcoming_events gives them, soonest first), each with its events, in the
    order of their next date."""
    grouped: dict[str, UpcomingSeries] = {}
    for event in events:
        if event.series is not None:
            grouped.setdefault(event.series.slug, UpcomingSeries(event.series, [])).events.append(event)
    return list(grouped.values())


async def list_upcoming_events(now: datetime, *, organisation_id: int | None = None, series_id: int | None = None) -> list[EventSummaryOut]:
    """Upcoming listed events of every organisation that is not suspended (or of one, or of one series)."""
    query = (
        Event.select(*Event.all_columns(), *_ORGANISATION_REF, *_SERIES_REF)
        .where(Event.status.is_in(list(rules.LISTED_STATUSES)), Event.ends_at > now, Event.organisation.suspended_at.is_null())
        .order_by(Event.starts_at)
    )
    if organisation_id is not None:
        query = query.where(Event.organisation == organisation_id)
    if series_id is not None:
        query = query.where(Event.series == series_id)
    events = await query
    if not events:
        return []
    types = await TicketType.select().where(TicketType.event.is_in([e["id"] for e in events]))
    types_by_event: dict[int, list[dict[str, Any]]] = {}
    for ticket_type in types:
        types_by_event.setdefault(ticket_type["event"], []).append(ticket_type)
    # Places the waiting lists are about to be offered are not on sale, as on the event's own page (_detail).
    held = {event["id"]: (await held_for_waiting_list(event["id"], now)).places for event in events}
    return [_summary(event, types_by_event.get(event["id"], []), now, held_places=held[event["id"]]) for event in events]


async def get_event_detail(
    slug: str, now: datetime, *, include_drafts: bool = False, unlocked: Collection[int] = (), yours: Mapping[int, int] | None = None
) -> EventDetailOut:
    """An event as guests see it (drafts only for organisers, who reach them through a role guard); a suspended
    organisation's events are not found. Hidden ticket types are left out, but for those ``unlocked`` (by the guest's
    access code, events.codes); organisers (``include_drafts``) see every type. ``yours``: the places per ticket type
    of the order the guest is changing, which the changed order replaces: counted as available to them
    (rules.ticket_type_available)."""
    event = (
        await Event.select(*Event.all_columns(), *_ORGANISATION_REF, *_SERIES_REF, Event.organisation.suspended_at).where(Event.slug == slug).first()
    )
    if event is None or (event["status"] == EventStatus.draft and not include_drafts) or (event["organisation.suspended_at"] and not include_drafts):
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return await _detail(event, now, shown=None if include_drafts else unlocked, yours=yours)


@dataclass(frozen=True, slots=True)
class ShownTicketTypes:
    """Who runs an event, and the ticket types its page shows a guest without a code, in the page's order."""

    organisation_slug: str
    ticket_type_ids: list[int]


async def shown_ticket_types(slug: str) -> ShownTicketTypes:
    """What a buy form sent without a code needs of its event, as get_event_detail would show it (and its NotFound for
    an event guests cannot see), in one round trip rather than the whole page's."""
    rows = await db.run(queries.SHOWN_TICKET_TYPES, slug)
    if not rows:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return ShownTicketTypes(rows[0]["organisation.slug"], [row["ticket_type"] for row in rows if row["ticket_type"] is not None])


async def list_partners(organisation_id: int | None = None) -> list[PartnerOut]:
    """Partner projects of every organisation that is not suspended (or of one), by name."""
    query = (
        Partner.select(*Partner.all_columns(), Partner.organisation.slug).where(Partner.organisation.suspended_at.is_null()).order_by(Partner.name)
    )
    if organisation_id is not None:
        query = query.where(Partner.organisation == organisation_id)
    return [_partner_out(row) for row in await query]


async def create_partner(data: PartnerIn, *, organisation_id: int, now: datetime | None = None) -> PartnerOut:
    """A partner project of ``organisation_id``; its slug is unique across the service, like an event's."""
    slug = data.slug or rules.slugify(data.name)
    if not slug:
        raise InvalidInput("Give the partner a slug using Latin letters.", fields={"slug": "Required for this name."})
    async with db.write_transaction():
        if await Partner.exists().where(Partner.slug == slug):
            raise Conflict(f"A partner with the slug {slug!r} already exists.", code="slug_taken", fields={"slug": "Already in use."})
        partner = Partner(organisation=organisation_id, slug=slug, name=data.name.strip(), description=data.description, website=data.website)
        await partner.save()
        await audit.record(
            "partner.created",
            now=now or datetime.now(timezone.utc),
            organisation_id=organisation_id,
            subject_type="partner",
            subject_id=slug,
            after={"name": partner.name, "website": partner.website},
        )
    organisation = await Organisation.select(Organisation.slug).where(Organisation.id == organisation_id).first()
    return _partner_out({**partner.to_dict(), "organisation.slug": organisation["slug"] if organisation else ""})


async def create_event(data: EventCreate, now: datetime, *, organisation_id: int) -> EventDetailOut:
    """A new event of ``organisation_id``; its beneficiaries must be that organisation's partner projects."""
    slug = data.slug or rules.slugify(data.title)
    if not slug:
        raise InvalidInput("Give the event a slug using Latin letters.", fields={"slug": "Required for this title."})
    zone_problem = rules.timezone_problem(data.timezone)
    if zone_problem:
        raise InvalidInput(zone_problem, fields={"timezone": zone_problem})
    zone = ZoneInfo(data.timezone)
    starts_at, ends_at = _aware(data.starts_at, zone, field="starts_at"), _aware(data.ends_at, zone, field="ends_at")
    problems = rules.event_problems(
        rules.EventRule(
            title=data.title,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=data.timezone,
            capacity=data.capacity,
            reserved_free_places=data.reserved_free_places,
            currency=data.currency,
            booking_fee_pence=data.booking_fee_pence,
        )
    )
    for index, ticket_type in enumerate(data.ticket_types):
        problems |= rules.ticket_type_problems(_type_rule(ticket_type, zone), prefix=f"ticket_types[{index}].")
    problems |= rules.share_problems([(share.partner, share.share_bp) for share in data.beneficiaries])
    status_problem = rules.status_change_problem(
        EventStatus.draft, data.status, ticket_type_count=len(data.ticket_types), share_count=len(data.beneficiaries)
    )
    if status_problem:
        problems["status"] = status_problem
    _raise_if(problems)

    async with db.write_transaction():
        if await Event.exists().where(Event.slug == slug):
            raise Conflict(f"An event with the slug {slug!r} already exists.", code="slug_taken", fields={"slug": "Already in use."})
        partner_ids = await _partner_ids(data.beneficiaries, organisation_id)
        series_id = await _series_id(data.series, organisation_id) if data.series else None
        event = Event(
            organisation=organisation_id,
            slug=slug,
            title=data.title.strip(),
            description=data.description,
            venue=data.venue,
            address=data.address,
            access_information=data.access_information,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=data.timezone,
            capacity=data.capacity,
            reserved_free_places=data.reserved_free_places,
            status=data.status,
            currency=data.currency,
            booking_fee_pence=data.booking_fee_pence,
            pay_it_forward_place_pence=data.pay_it_forward_place_pence,
            pay_it_forward_converts_general=data.pay_it_forward_converts_general,
            allow_reentry=data.allow_reentry,
            cost_per_attendee_pence=data.cost_per_attendee_pence,
            booking_fees_to_cause=data.booking_fees_to_cause,
            reminder_hours_before=data.reminder_hours_before,
            thank_you_enabled=data.thank_you_enabled,
            waiting_list_open=data.waiting_list_open,
            waiting_list_first=data.waiting_list_first,
            offer_hours=data.offer_hours,
            refund_days_before=data.refund_days_before,
            name_changes_close_hours_before=data.name_changes_close_hours_before,
            series=series_id,
            created_at=now,
            updated_at=now,
        )
        await event.save()
        await audit.record(
            "event.created",
            now=now,
            event_id=event.id,
            subject_type="event",
            subject_id=slug,
            after={name: getattr(event, name) for name in AUDITED_EVENT_FIELDS},
        )
        for position, ticket_type in enumerate(data.ticket_types):
            new_type = _new_ticket_type(event.id, ticket_type, zone, position)
            await new_type.save()
            await _audit_type("ticket_type.created", event.id, new_type.id, {}, new_type.to_dict(), now)
        await _replace_shares(event.id, data.beneficiaries, partner_ids)
        if data.beneficiaries:
            await audit.record(
                "event.shares_changed",
                now=now,
                event_id=event.id,
                subject_type="event",
                subject_id=slug,
                after={"shares": {share.partner: share.share_bp for share in data.beneficiaries}},
            )
    return await get_event_detail(slug, now, include_drafts=True)


async def update_event(slug: str, patch: EventPatch, now: datetime) -> EventDetailOut:
    async with db.write_transaction():
        event = await _locked_event(slug)
        zone_name = event["timezone"] if patch.timezone is UNSET else patch.timezone
        zone_problem = rules.timezone_problem(zone_name)
        if zone_problem:
            raise InvalidInput(zone_problem, fields={"timezone": zone_problem})
        zone = ZoneInfo(zone_name)
        changes: dict[Any, Any] = {}
        for name in (
            "title",
            "description",
            "venue",
            "address",
            "access_information",
            "capacity",
            "reserved_free_places",
            "currency",
            "booking_fee_pence",
            "pay_it_forward_place_pence",
            "pay_it_forward_converts_general",
            "allow_reentry",
            "cost_per_attendee_pence",
            "booking_fees_to_cause",
            "reminder_hours_before",
            "thank_you_enabled",
            "waiting_list_open",
            "waiting_list_first",
            "offer_hours",
            "refund_days_before",
            "name_changes_close_hours_before",
        ):
            value = getattr(patch, name)
            if value is not UNSET:
                changes[name] = value
        if patch.timezone is not UNSET:
            changes["timezone"] = patch.timezone
        if patch.series is not UNSET:
            changes["series"] = await _series_id(patch.series, event["organisation"]) if patch.series else None
        if patch.slug is not UNSET and patch.slug != event["slug"]:
            if event["status"] != EventStatus.draft:
                raise InvalidInput(
                    "The web address can only change while the event is a draft: once published, it is on tickets and emails.",
                    fields={"slug": "Cannot change after publishing."},
                )
            if await Event.exists().where(Event.slug == patch.slug):
                raise Conflict(f"An event with the slug {patch.slug!r} already exists.", code="slug_taken", fields={"slug": "Already in use."})
            changes["slug"] = patch.slug
        if patch.starts_at is not UNSET:
            changes["starts_at"] = _aware(patch.starts_at, zone, field="starts_at")
        if patch.ends_at is not UNSET:
            changes["ends_at"] = _aware(patch.ends_at, zone, field="ends_at")
        merged = {**event, **changes}
        problems = rules.event_problems(
            rules.EventRule(
                title=merged["title"],
                starts_at=merged["starts_at"],
                ends_at=merged["ends_at"],
                timezone=merged["timezone"],
                capacity=merged["capacity"],
                reserved_free_places=merged["reserved_free_places"],
                currency=merged["currency"],
                booking_fee_pence=merged["booking_fee_pence"],
            )
        )
        if merged["capacity"] - merged["reserved_free_places"] < event["places_taken"]:
            problems["capacity"] = (
                f"{event['places_taken']} places are already sold or held; capacity minus reserved free places cannot go below that."
            )
        claimed_reserved = min(event["free_places_claimed"], event["reserved_free_places"])
        if merged["reserved_free_places"] < claimed_reserved:
            problems["reserved_free_places"] = f"{claimed_reserved} reserved free places are already claimed; keep at least that many."
        if "currency" in changes and changes["currency"] != event["currency"] and event["places_taken"] > 0:
            problems["currency"] = "The currency cannot change once tickets are sold."

        existing_types = await TicketType.select().where(TicketType.event == event["id"])
        type_changes = _type_changes(patch.ticket_types, existing_types, zone, problems) if patch.ticket_types is not UNSET else []
        if patch.beneficiaries is not UNSET:
            problems |= rules.share_problems([(share.partner, share.share_bp) for share in patch.beneficiaries])
        if patch.status is not UNSET:
            share_count = (
                len(patch.beneficiaries)
                if patch.beneficiaries is not UNSET
                else await BeneficiaryShare.count().where(BeneficiaryShare.event == event["id"])
            )
            type_count = len(existing_types) + sum(1 for type_id, _ in type_changes if type_id is None)
            status_problem = rules.status_change_problem(event["status"], patch.status, ticket_type_count=type_count, share_count=share_count)
            if status_problem:
                problems["status"] = status_problem
            changes["status"] = patch.status
        _raise_if(problems)

        final = {**event, **changes}
        before, after = audit.changed_fields(
            {name: event[name] for name in AUDITED_EVENT_FIELDS}, {name: final[name] for name in AUDITED_EVENT_FIELDS}
        )
        if changes:
            changes["updated_at"] = now
            await Event.update({getattr(Event, name): value for name, value in changes.items()}).where(Event.id == event["id"])
        if after:
            status_action = STATUS_ACTIONS.get((event["status"], after.get("status", event["status"])))
            action = status_action if status_action and set(after) == {"status"} else "event.updated"
            await audit.record(action, now=now, event_id=event["id"], subject_type="event", subject_id=slug, before=before, after=after)
        next_position = max((t["position"] for t in existing_types), default=-1) + 1
        types_by_id = {t["id"]: t for t in existing_types}
        for type_id, values in type_changes:
            if type_id is None:
                new_type = TicketType(event=event["id"], position=next_position, **values)
                await new_type.save()
                await _audit_type("ticket_type.created", event["id"], new_type.id, {}, new_type.to_dict(), now)
                next_position += 1
            elif values:
                await TicketType.update({getattr(TicketType, k): v for k, v in values.items()}).where(TicketType.id == type_id)
                await _audit_type("ticket_type.updated", event["id"], type_id, types_by_id[type_id], {**types_by_id[type_id], **values}, now)
        if patch.beneficiaries is not UNSET:
            partner_ids = await _partner_ids(patch.beneficiaries, event["organisation"])
            old_shares = await _shares_by_slug(event["id"])
            await _replace_shares(event["id"], patch.beneficiaries, partner_ids)
            new_shares = {share.partner: share.share_bp for share in patch.beneficiaries}
            if old_shares != new_shares:
                await audit.record(
                    "event.shares_changed",
                    now=now,
                    event_id=event["id"],
                    subject_type="event",
                    subject_id=slug,
                    before={"shares": old_shares},
                    after={"shares": new_shares},
                )
    return await get_event_detail(changes.get("slug", slug), now, include_drafts=True)


async def remove_ticket_type(slug: str, type_id: int, *, now: datetime) -> None:
    """Delete a ticket type nobody has bought or held; one with orders can only stop selling."""
    async with db.write_transaction():
        event = await _locked_event(slug)
        ticket_type = await TicketType.select().where(TicketType.id == type_id, TicketType.event == event["id"]).first()
        if ticket_type is None:
            raise NotFound("This event has no such ticket type.", code="ticket_type_not_found")
        if ticket_type["places_taken"] > 0 or await ordered_ticket_types([type_id]):
            raise Conflict(
                "Tickets of this type have been ordered, so it cannot be removed. Stop its sales instead.",
                code="ticket_type_in_use",
            )
        if (
            event["status"] in (EventStatus.on_sale, EventStatus.sales_closed)
            and await TicketType.count().where(TicketType.event == event["id"]) == 1
        ):
            raise Conflict("An event on sale needs at least one ticket type.", code="last_ticket_type")
        await TicketType.delete().where(TicketType.id == type_id)
        await _audit_type("ticket_type.removed", event["id"], type_id, ticket_type, {}, now)


async def stop_ticket_type_sales(slug: str, type_id: int, *, now: datetime) -> None:
    """End a type's sales window now (tickets already sold stay valid)."""
    async with db.write_transaction():
        event = await _locked_event(slug)
        ticket_type = await TicketType.select().where(TicketType.id == type_id, TicketType.event == event["id"]).first()
        if ticket_type is None:
            raise NotFound("This event has no such ticket type.", code="ticket_type_not_found")
        if ticket_type["sales_end"] is not None and ticket_type["sales_end"] <= now:
            return  # already stopped: a second click changes nothing
        changes: dict[Any, Any] = {TicketType.sales_end: now}
        if ticket_type["sales_start"] is not None and ticket_type["sales_start"] >= now:
            changes[TicketType.sales_start] = None  # a window that never opened
        await TicketType.update(changes).where(TicketType.id == type_id)
        await audit.record(
            "ticket_type.sales_stopped",
            now=now,
            event_id=event["id"],
            subject_type="ticket_type",
            subject_id=type_id,
            before={"sales_end": ticket_type["sales_end"]},
            after={"sales_end": now},
        )


async def ticket_types_for_organisers(slug: str) -> list[OrganiserTicketType]:
    """The event's ticket types as stored (times in the event's zone), with whether each has been ordered."""
    event = await _event_row(slug)
    zone = ZoneInfo(event["timezone"])
    types = await TicketType.select().where(TicketType.event == event["id"]).order_by(TicketType.position).order_by(TicketType.id)
    ordered = await ordered_ticket_types([t["id"] for t in types])
    return [
        OrganiserTicketType(
            id=t["id"],
            event=t["event"],
            name=t["name"],
            description=t["description"],
            price_pence=t["price_pence"],
            channel=t["channel"],
            sales_start=t["sales_start"].astimezone(zone) if t["sales_start"] is not None else None,
            sales_end=t["sales_end"].astimezone(zone) if t["sales_end"] is not None else None,
            quota=t["quota"],
            max_per_order=t["max_per_order"],
            waiting_list=t["waiting_list"],
            position=t["position"],
            places_taken=t["places_taken"],
            ordered=t["id"] in ordered,
            hidden=t["hidden"],
        )
        for t in types
    ]


async def _event_row(slug: str) -> dict[str, Any]:
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return event


async def _shares_by_slug(event_id: int) -> dict[str, int]:
    rows = await BeneficiaryShare.select(BeneficiaryShare.partner.slug, BeneficiaryShare.share_bp).where(BeneficiaryShare.event == event_id)
    return {row["partner.slug"]: row["share_bp"] for row in rows}


async def _audit_type(action: str, event_id: int, type_id: int, before: dict[str, Any], after: dict[str, Any], now: datetime) -> None:
    old = {name: before.get(name) for name in AUDITED_TYPE_FIELDS} if before else {}
    new = {name: after.get(name) for name in AUDITED_TYPE_FIELDS} if after else {}
    if old and new:
        old, new = audit.changed_fields(old, new)
        if not new:
            return
    await audit.record(action, now=now, event_id=event_id, subject_type="ticket_type", subject_id=type_id, before=old, after=new)


async def locked_event(slug: str) -> EventRow:
    """The event, locked for the caller's write transaction in the order holds take their locks (see _locked_event)."""
    return EventRow.of(await _locked_event(slug))


async def _locked_event(slug: str) -> dict[str, Any]:
    """The event row, locked for this transaction. On PostgreSQL its ticket types are locked first (by id),
    the order in which holds take them (orders.service), so an organiser's edit and a rush of buyers never
    deadlock."""
    if not db.is_sqlite():  # SQLite has no row locks; its IMMEDIATE write transaction already serialises writers
        event_ids = Event.select(Event.id).where(Event.slug == slug)
        await TicketType.select(TicketType.id).where(TicketType.event.is_in(event_ids)).order_by(TicketType.id).lock_rows("NO KEY UPDATE")
    event = await db.locked(Event.select().where(Event.slug == slug)).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return event


def _type_changes(
    patches: Sequence[TicketTypePatch], existing: Sequence[dict[str, Any]], zone: ZoneInfo, problems: dict[str, str]
) -> list[tuple[int | None, dict[str, Any]]]:
    by_id = {row["id"]: row for row in existing}
    changes: list[tuple[int | None, dict[str, Any]]] = []
    for index, patch in enumerate(patches):
        prefix = f"ticket_types[{index}]."
        values = {
            name: getattr(patch, name)
            for name in ("name", "price_pence", "channel", "description", "quota", "max_per_order", "waiting_list", "hidden")
            if getattr(patch, name) is not UNSET
        }
        for name in ("sales_start", "sales_end"):
            value = getattr(patch, name)
            if value is not UNSET:
                values[name] = _aware(value, zone, field=name) if value is not None else None
        if patch.id is UNSET:
            missing = [name for name in ("name", "price_pence") if name not in values]
            if missing:
                problems[f"{prefix}{missing[0]}"] = "Required for a new ticket type."
                continue
            current: dict[str, Any] = {
                "channel": "both",
                "description": "",
                "sales_start": None,
                "sales_end": None,
                "quota": None,
                "max_per_order": 10,
                "waiting_list": True,
                "hidden": False,
            }
            type_id = None
        else:
            if patch.id not in by_id:
                problems[f"{prefix}id"] = "This event has no ticket type with that id."
                continue
            current = by_id[patch.id]
            type_id = patch.id
            if "quota" in values and values["quota"] is not None and values["quota"] < current["places_taken"]:
                problems[f"{prefix}quota"] = f"{current['places_taken']} are already sold or held; the quota cannot be lower."
        merged = {**current, **values}
        problems |= rules.ticket_type_problems(
            rules.TicketTypeRule(
                name=merged["name"],
                price_pence=merged["price_pence"],
                channel=merged["channel"],
                sales_start=merged["sales_start"],
                sales_end=merged["sales_end"],
                quota=merged["quota"],
                max_per_order=merged["max_per_order"],
            ),
            prefix=prefix,
        )
        changes.append((type_id, values if type_id is not None else {**current, **values}))
    return changes


async def _series_id(slug: str, organisation_id: int) -> int:
    """The id of the organisation's series with this slug (another organisation's is unknown), or bad input."""
    row = await Series.select(Series.id).where(Series.slug == slug, Series.organisation == organisation_id).first()
    if row is None:
        raise InvalidInput(f"Unknown series: {slug}. Create it first.", fields={"series": "Not one of your series."})
    return row["id"]


async def _partner_ids(shares: Sequence[ShareIn], organisation_id: int) -> dict[str, int]:
    """The ids of the shares' partner projects, which must be the organisation's own."""
    if not shares:
        return {}
    slugs = [share.partner for share in shares]
    rows = await Partner.select(Partner.id, Partner.slug).where(Partner.slug.is_in(slugs), Partner.organisation == organisation_id)
    found = {row["slug"]: row["id"] for row in rows}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise InvalidInput(
            f"Unknown partner project: {', '.join(unknown)}. Create it first.",
            fields={"beneficiaries": f"Unknown partner: {', '.join(unknown)}"},
        )
    return found


async def _replace_shares(event_id: int, shares: Sequence[ShareIn], partner_ids: dict[str, int]) -> None:
    await BeneficiaryShare.delete().where(BeneficiaryShare.event == event_id)
    for share in shares:
        await BeneficiaryShare(event=event_id, partner=partner_ids[share.partner], share_bp=share.share_bp).save()


def _new_ticket_type(event_id: int, data: TicketTypeIn, zone: ZoneInfo, position: int) -> TicketType:
    return TicketType(
        event=event_id,
        name=data.name.strip(),
        description=data.description,
        price_pence=data.price_pence,
        channel=data.channel,
        sales_start=_aware(data.sales_start, zone, field="sales_start") if data.sales_start else None,
        sales_end=_aware(data.sales_end, zone, field="sales_end") if data.sales_end else None,
        quota=data.quota,
        max_per_order=data.max_per_order,
        waiting_list=data.waiting_list,
        hidden=data.hidden,
        position=position,
    )


def _type_rule(data: TicketTypeIn, zone: ZoneInfo) -> rules.TicketTypeRule:
    return rules.TicketTypeRule(
        name=data.name,
        price_pence=data.price_pence,
        channel=data.channel,
        sales_start=_aware(data.sales_start, zone, field="sales_start") if data.sales_start else None,
        sales_end=_aware(data.sales_end, zone, field="sales_end") if data.sales_end else None,
        quota=data.quota,
        max_per_order=data.max_per_order,
    )


def _aware(moment: datetime, zone: ZoneInfo, *, field: str) -> datetime:
    """Times without an offset are wall-clock times at the event; store everything in UTC. A time at the very edge of
    the calendar that cannot be moved to UTC (e.g. the last day of year 9999 behind UTC) is the field's 422."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        problem = N_("Enter a date between the years 1 and 9999.")
        raise InvalidInput(problem, fields={field: problem}) from None


def _raise_if(problems: dict[str, str]) -> None:
    if problems:
        first = next(iter(problems.values()))
        raise InvalidInput(first, fields=problems)


def _summary(event: dict[str, Any], types: Sequence[dict[str, Any]], now: datetime, *, held_places: int = 0) -> EventSummaryOut:
    """``held_places``: places held back from general sale for the event's waiting lists (catalogue.sales.HeldBack)."""
    zone = ZoneInfo(event["timezone"])
    types = [t for t in types if not t["hidden"]]  # sold only with a code: not a price anyone else can pay
    online_prices = [t["price_pence"] for t in types if rules.sells_online(t["channel"])]
    return EventSummaryOut(
        slug=event["slug"],
        title=event["title"],
        status=EventStatus(event["status"]),
        starts_at=event["starts_at"].astimezone(zone),
        ends_at=event["ends_at"].astimezone(zone),
        timezone=event["timezone"],
        venue=event["venue"],
        currency=event["currency"],
        places_left=max(0, rules.places_left(event["capacity"], event["reserved_free_places"], event["places_taken"]) - held_places),
        from_price_pence=min(online_prices or [t["price_pence"] for t in types], default=None),
        url=event_url(event["slug"]),
        organisation=_organisation_ref(event),
        series=_series_ref(event),
    )


# The series' columns an event row is selected with, for _series_ref (null when the event is in no series).
_SERIES_REF = (Event.series.slug, Event.series.title)


def _series_ref(event: dict[str, Any]) -> SeriesRefOut | None:
    """From an event row selected with _SERIES_REF."""
    if event.get("series.slug") is None:
        return None
    return SeriesRefOut(slug=event["series.slug"], title=event["series.title"], url=series_url(event["series.slug"]))


# The organisation's columns an event row is selected with, for _organisation_ref.
_ORGANISATION_REF = (Event.organisation.slug, Event.organisation.name, Event.organisation.logo_content_type)


def _organisation_ref(event: dict[str, Any]) -> OrganisationRefOut:
    """From an event row selected with _ORGANISATION_REF."""
    return organisation_ref(event["organisation.slug"], event["organisation.name"], event["organisation.logo_content_type"])


async def _detail(
    event: dict[str, Any], now: datetime, *, shown: Collection[int] | None = (), yours: Mapping[int, int] | None = None
) -> EventDetailOut:
    """``shown``: the hidden ticket types to include (None: every one); ``yours``: as get_event_detail's."""
    zone = ZoneInfo(event["timezone"])
    types = await TicketType.select().where(TicketType.event == event["id"]).order_by(TicketType.position).order_by(TicketType.id)
    if shown is not None:
        types = [t for t in types if not t["hidden"] or t["id"] in shown]
    shares = (
        await BeneficiaryShare.select(
            BeneficiaryShare.share_bp,
            BeneficiaryShare.partner.slug,
            BeneficiaryShare.partner.name,
            BeneficiaryShare.partner.website,
        )
        .where(BeneficiaryShare.event == event["id"])
        .order_by(BeneficiaryShare.share_bp, ascending=False)
    )
    # Places the waiting lists are about to be offered are not on sale (catalogue.sales.HeldBack), as buyers find.
    held = await held_for_waiting_list(event["id"], now)
    left = max(0, rules.places_left(event["capacity"], event["reserved_free_places"], event["places_taken"]) - held.places)
    # The places of the order the guest is changing, of the types shown.
    yours_by_type = {t["id"]: yours[t["id"]] for t in types if yours and yours.get(t["id"], 0) > 0}

    def available(t: dict[str, Any]) -> int:
        taken = t["places_taken"] + held.by_type.get(t["id"], 0)
        return rules.ticket_type_available(left, t["quota"], taken, yours=yours_by_type.get(t["id"], 0), yours_in_event=sum(yours_by_type.values()))

    free = await event_free_places(EventRow.of(event))
    return EventDetailOut(
        slug=event["slug"],
        title=event["title"],
        status=EventStatus(event["status"]),
        description=event["description"],
        venue=event["venue"],
        address=event["address"],
        access_information=event["access_information"],
        starts_at=event["starts_at"].astimezone(zone),
        ends_at=event["ends_at"].astimezone(zone),
        timezone=event["timezone"],
        currency=event["currency"],
        capacity=event["capacity"],
        reserved_free_places=event["reserved_free_places"],
        booking_fee_pence=event["booking_fee_pence"],
        pay_it_forward_place_pence=event["pay_it_forward_place_pence"],
        pay_it_forward_converts_general=event["pay_it_forward_converts_general"],
        allow_reentry=event["allow_reentry"],
        reminder_hours_before=event["reminder_hours_before"],
        thank_you_enabled=event["thank_you_enabled"],
        waiting_list_open=event["waiting_list_open"],
        waiting_list_first=event["waiting_list_first"],
        offer_hours=event["offer_hours"],
        refund_days_before=event["refund_days_before"],
        name_changes_close_hours_before=event["name_changes_close_hours_before"],
        places_left=left,
        free_places=FreePlacesOut(**dataclasses.asdict(dataclasses.replace(free, available=max(0, free.available - held.free)))),
        url=event_url(event["slug"]),
        ticket_types=[
            TicketTypeOut(
                id=t["id"],
                name=t["name"],
                description=t["description"],
                price_pence=t["price_pence"],
                channel=t["channel"],
                available=available(t),
                on_sale=rules.on_sale_online(event["status"], t["channel"], t["sales_start"], t["sales_end"], now),
                sales_start=t["sales_start"].astimezone(zone) if t["sales_start"] else None,
                sales_end=t["sales_end"].astimezone(zone) if t["sales_end"] else None,
                max_per_order=t["max_per_order"],
                waiting_list=t["waiting_list"],
                # A hidden type has no waiting list: an offer would sell it without its code.
                waiting_list_open=not t["hidden"]
                and rules.waiting_list_joinable(
                    event_list_open=event["waiting_list_open"],
                    type_list=t["waiting_list"],
                    on_sale_online=rules.on_sale_online(event["status"], t["channel"], t["sales_start"], t["sales_end"], now),
                    available=available(t),
                ),
                hidden=t["hidden"],
            )
            for t in types
        ],
        beneficiaries=[
            BeneficiaryOut(partner=s["partner.slug"], name=s["partner.name"], website=s["partner.website"], share_bp=s["share_bp"]) for s in shares
        ],
        organisation=_organisation_ref(event),
        series=_series_ref(event),
    )


def _partner_out(row: dict[str, Any]) -> PartnerOut:
    return PartnerOut(
        organisation=row["organisation.slug"], slug=row["slug"], name=row["name"], description=row["description"], website=row["website"]
    )
