"""Series service: an organisation's series (e.g. "First Thursday supper club"), creating and changing them, and
reading them for organisers (every event in them) and for guests (the upcoming ones on sale)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

from events import db
from events.audit import service as audit
from events.catalogue import rules as catalogue_rules
from events.catalogue import service as catalogue
from events.catalogue.tables import Event, Series
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.series.schemas import SeriesEventOut, SeriesIn, SeriesOut, SeriesPageOut, SeriesPatch

NOT_FOUND = N_("We could not find that series.")
AUDITED_SERIES_FIELDS = ("slug", "title", "description")


@dataclass(frozen=True, slots=True)
class SeriesChoice:
    """One of the organisation's series, as the event form's select offers it."""

    id: int
    slug: str
    title: str


async def create_series(data: SeriesIn, *, organisation_id: int, now: datetime) -> SeriesOut:
    """A series of ``organisation_id``; its slug is unique across the service, like an event's."""
    slug = data.slug or catalogue_rules.slugify(data.title)
    if not slug:
        raise InvalidInput("Give the series a web address using Latin letters.", fields={"slug": "Required for this title."})
    try:
        await _create(slug, data, organisation_id=organisation_id, now=now)
    except db.UNIQUE_ERRORS:  # the same form sent twice at once: the first made it
        raise _slug_taken(slug) from None
    return await series_for_organisers(slug)


async def _create(slug: str, data: SeriesIn, *, organisation_id: int, now: datetime) -> None:
    async with db.write_transaction():
        if await Series.exists().where(Series.slug == slug):
            raise _slug_taken(slug)
        series = Series(organisation=organisation_id, slug=slug, title=data.title.strip(), description=data.description.strip(), created_at=now)
        await series.save()
        await audit.record(
            "series.created",
            now=now,
            organisation_id=organisation_id,
            subject_type="series",
            subject_id=slug,
            after={name: getattr(series, name) for name in AUDITED_SERIES_FIELDS},
        )


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"A series with the slug {slug!r} already exists.", code="slug_taken", fields={"slug": "Already in use."})


async def update_series(slug: str, patch: SeriesPatch, *, now: datetime) -> SeriesOut:
    """Change a series' title, description or web address (a new address must be free)."""
    async with db.write_transaction():
        row = await db.locked(Series.select().where(Series.slug == slug)).first()
        if row is None:
            raise NotFound(NOT_FOUND, code="series_not_found")
        changes: dict[str, Any] = {}
        if patch.title is not UNSET:
            changes["title"] = patch.title.strip()
        if patch.description is not UNSET:
            changes["description"] = patch.description.strip()
        if patch.slug is not UNSET and patch.slug != slug:
            if await Series.exists().where(Series.slug == patch.slug):
                raise _slug_taken(patch.slug)
            changes["slug"] = patch.slug
        before, after = audit.changed_fields(
            {name: row[name] for name in AUDITED_SERIES_FIELDS}, {name: changes.get(name, row[name]) for name in AUDITED_SERIES_FIELDS}
        )
        if after:
            await Series.update({getattr(Series, name): value for name, value in after.items()}).where(Series.id == row["id"])
            await audit.record(
                "series.updated",
                now=now,
                organisation_id=row["organisation"],
                subject_type="series",
                subject_id=after.get("slug", slug),
                before=before,
                after=after,
            )
    return await series_for_organisers(changes.get("slug", slug))


async def list_series(organisation_id: int) -> list[SeriesOut]:
    """The organisation's series by title, each with every event in it, soonest first."""
    rows = await Series.select().where(Series.organisation == organisation_id).order_by(Series.title)
    events = await _events_by_series([row["id"] for row in rows])
    return [_series_out(row, events.get(row["id"], [])) for row in rows]


async def series_choices(organisation_id: int) -> list[SeriesChoice]:
    """The organisation's series by title, for the event form's select."""
    rows = await Series.select(Series.id, Series.slug, Series.title).where(Series.organisation == organisation_id).order_by(Series.title)
    return [SeriesChoice(row["id"], row["slug"], row["title"]) for row in rows]


async def series_for_organisers(slug: str) -> SeriesOut:
    row = await Series.select().where(Series.slug == slug).first()
    if row is None:
        raise NotFound(NOT_FOUND, code="series_not_found")
    return _series_out(row, (await _events_by_series([row["id"]])).get(row["id"], []))


async def series_page(slug: str, now: datetime) -> SeriesPageOut:
    """A series as guests see it: its upcoming events on sale (a suspended organisation's series is not found)."""
    row = (
        await Series.select(
            *Series.all_columns(),
            Series.organisation.slug,
            Series.organisation.name,
            Series.organisation.logo_content_type,
            Series.organisation.suspended_at,
        )
        .where(Series.slug == slug)
        .first()
    )
    if row is None or row["organisation.suspended_at"] is not None:
        raise NotFound(NOT_FOUND, code="series_not_found")
    return SeriesPageOut(
        slug=row["slug"],
        title=row["title"],
        description=row["description"],
        url=catalogue.series_url(row["slug"]),
        organisation=catalogue.organisation_ref(row["organisation.slug"], row["organisation.name"], row["organisation.logo_content_type"]),
        events=await catalogue.list_upcoming_events(now, series_id=row["id"]),
    )


async def _events_by_series(series_ids: list[int]) -> dict[int, list[SeriesEventOut]]:
    rows = (
        await Event.select(Event.series, Event.slug, Event.title, Event.status, Event.starts_at, Event.timezone)
        .where(Event.series.is_in(series_ids or [-1]))
        .order_by(Event.starts_at)
        .order_by(Event.id)
    )
    events: dict[int, list[SeriesEventOut]] = {}
    for row in rows:
        events.setdefault(row["series"], []).append(
            SeriesEventOut(
                slug=row["slug"],
                title=row["title"],
                status=row["status"],
                starts_at=row["starts_at"].astimezone(ZoneInfo(row["timezone"])),
                url=catalogue.event_url(row["slug"]),
            )
        )
    return events


def _series_out(row: dict[str, Any], events: list[SeriesEventOut]) -> SeriesOut:
    return SeriesOut(slug=row["slug"], title=row["title"], description=row["description"], url=catalogue.series_url(row["slug"]), events=events)
