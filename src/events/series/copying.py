"""Copying an event: "Copy this event" makes a new draft with the event's whole set-up, in one transaction.

Copied: the event's settings (venue, access information, capacity, free-place allocation, booking fee, pay it
forward, allocation rules, messages, waiting lists, release policy, answers' cut-off, series, time zone), its ticket
types (hidden ones too, with their quotas, channels and limits; sales windows move with the event, in wall-clock
time at the venue), partner shares, costs (recorded and booked again as the copy's own), questions (with the ticket
types they are limited to), door team and the organisers limited to it. Never copied: orders, tickets, codes,
claim links, waiting lists, answers, signing keys, payouts or any other money; every counter starts at zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from events import db
from events.audit import service as audit
from events.catalogue import rules as catalogue_rules
from events.catalogue import service as catalogue
from events.catalogue.copying import copy_event_setup
from events.catalogue.schemas import EventDetailOut
from events.catalogue.tables import Event
from events.checkin import door_team
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ledger import service as ledger
from events.questions.copying import copy_questions
from events.series import rules
from events.series.schemas import EventCopyIn

EVENT_NOT_FOUND = N_("We could not find that event.")


@dataclass(frozen=True, slots=True)
class CopySuggestion:
    """What the "Copy this event" form offers: the same weekday of next month (local times at the venue), the
    title and web address with the month changed (or the date added), a web address nobody has."""

    title: str
    slug: str
    starts_at: datetime
    ends_at: datetime
    timezone: str


async def suggest_copy(slug: str) -> CopySuggestion:
    source = await _source(slug)
    zone = ZoneInfo(source["timezone"])
    starts_at, ends_at = rules.next_dates(source["starts_at"], source["ends_at"], zone)
    old_day = source["starts_at"].astimezone(zone).date()
    base = rules.suggested_slug(source["slug"], old_day, starts_at.date())
    candidate, number = base, 2
    while await Event.exists().where(Event.slug == candidate):
        suffix = f"-{number}"
        candidate, number = base[: rules.MAX_SLUG - len(suffix)].strip("-") + suffix, number + 1
    return CopySuggestion(
        title=rules.suggested_title(source["title"], old_day, starts_at.date()),
        slug=candidate,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=source["timezone"],
    )


async def copy_event(source_slug: str, data: EventCopyIn, *, organisation_id: int, now: datetime) -> EventDetailOut:
    """A new draft ``data.slug`` of ``organisation_id`` with the set-up of its event ``source_slug`` (see the module's
    doc), on the dates given; 409 ``slug_taken`` when the web address is in use, 422 for dates that do not work."""
    source = await _source(source_slug)
    if source["organisation"] != organisation_id:
        raise NotFound(EVENT_NOT_FOUND, code="event_not_found")
    zone = ZoneInfo(source["timezone"])
    title = (data.title or source["title"]).strip()
    try:
        starts_at, ends_at = rules.at_venue(data.starts_at, zone), rules.at_venue(data.ends_at, zone)
    except OverflowError:  # a date at the very edge of the calendar, moved to UTC
        starts_at = ends_at = datetime.min.replace(tzinfo=timezone.utc)
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if problem := rules.dates_problem(moment, now):
            raise InvalidInput(problem, fields={name: problem})
    problems = catalogue_rules.event_problems(
        catalogue_rules.EventRule(
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=source["timezone"],
            capacity=source["capacity"],
            reserved_free_places=source["reserved_free_places"],
            currency=source["currency"],
            booking_fee_pence=source["booking_fee_pence"],
        )
    )
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)

    try:
        await _copy(source_slug, data, title=title, starts_at=starts_at, ends_at=ends_at, zone=zone, now=now)
    except db.UNIQUE_ERRORS:  # the same copy sent twice at once (a double click): the first made it
        raise _slug_taken(data.slug) from None
    return await catalogue.get_event_detail(data.slug, now, include_drafts=True)


async def _copy(source_slug: str, data: EventCopyIn, *, title: str, starts_at: datetime, ends_at: datetime, zone: ZoneInfo, now: datetime) -> None:
    """The copy itself, in one transaction."""
    async with db.write_transaction():
        if await Event.exists().where(Event.slug == data.slug):
            raise _slug_taken(data.slug)
        # Read again inside the transaction: the copy is of one moment's set-up.
        source = await _source(source_slug)
        copied = await copy_event_setup(
            source,
            slug=data.slug,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            sales_window=lambda moment: _moved(moment, source["starts_at"], starts_at, zone),
            now=now,
        )
        costs_pence = await ledger.copy_event_costs(source["id"], copied.event_id, now=now)
        questions = await copy_questions(source["id"], copied.event_id, copied.ticket_types, now=now)
        door = await door_team.copy_door_team(source["id"], copied.event_id, source["organisation"])
        event = await Event.select().where(Event.id == copied.event_id).first()
        assert event is not None
        await audit.record(
            "event.copied",
            now=now,
            event_id=copied.event_id,
            subject_type="event",
            subject_id=data.slug,
            before={"copied_from": source_slug},
            after={
                **{name: event[name] for name in catalogue.AUDITED_EVENT_FIELDS},
                "ticket_types": len(copied.ticket_types),
                "shares": copied.shares,
                "costs_pence": costs_pence,
                "questions": questions,
                "door_team": door,
                "managers": copied.managers,
            },
        )


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"An event with the slug {slug!r} already exists.", code="slug_taken", fields={"slug": "Already in use."})


def _moved(moment: datetime, from_start: datetime, to_start: datetime, zone: ZoneInfo) -> datetime:
    """A sales window's time moved with the event; one so far from the event that it would leave the calendar stays."""
    try:
        return rules.shift_wall_clock(moment, from_start=from_start, to_start=to_start, zone=zone)
    except OverflowError:
        return moment


async def _source(slug: str) -> dict[str, Any]:
    row = await Event.select().where(Event.slug == slug).first()
    if row is None:
        raise NotFound(EVENT_NOT_FOUND, code="event_not_found")
    return row
