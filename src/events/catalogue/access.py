"""Which events and partner projects a person may reach: their organisation's, and for an organiser limited to
chosen events (Membership.restricted), only those (EventAccess). Registered with the role guards (accounts.auth)
for the path parameters that name them, so every organiser route answers 404 for another organisation's."""

from __future__ import annotations

from events.accounts.auth import register_ownership_check
from events.accounts.roles import ORGANISER, PARTNER_VIEWER, CurrentUser
from events.accounts.tables import Membership
from events.catalogue.tables import Event, EventAccess, Partner, Series
from events.i18n import N_


def limited_to_chosen_events(user: CurrentUser) -> bool:
    """An organiser limited to chosen events (a door member is limited by the door team, checked by checkin)."""
    return user.restricted and user.role == ORGANISER


async def chosen_event_ids(user: CurrentUser) -> list[int] | None:
    """The events a limited organiser may manage; None when they may manage every event of their organisation."""
    if not limited_to_chosen_events(user):
        return None
    rows = await EventAccess.select(EventAccess.event).where(
        EventAccess.membership.user == user.id, EventAccess.membership.organisation == user.organisation_id
    )
    return [row["event"] for row in rows]


async def may_reach_event_id(user: CurrentUser, event_id: int, organisation_id: int) -> bool:
    """Whether ``user`` may reach the event ``event_id`` of ``organisation_id``."""
    if user.organisation_id is None or organisation_id != user.organisation_id:
        return False
    if not limited_to_chosen_events(user):
        return True
    return await EventAccess.exists().where(
        EventAccess.event == event_id, EventAccess.membership.user == user.id, EventAccess.membership.organisation == user.organisation_id
    )


async def may_reach_event(user: CurrentUser, slug: object) -> bool:
    if not isinstance(slug, str):
        return False
    row = await Event.select(Event.id, Event.organisation).where(Event.slug == slug).first()
    return row is not None and await may_reach_event_id(user, row["id"], row["organisation"])


async def may_reach_partner(user: CurrentUser, slug: object) -> bool:
    """A partner project of the person's organisation (a partner viewer: only their own project)."""
    if not isinstance(slug, str) or user.organisation_id is None:
        return False
    row = await Partner.select(Partner.id).where(Partner.slug == slug, Partner.organisation == user.organisation_id).first()
    if row is None:
        return False
    return user.role != PARTNER_VIEWER or row["id"] == user.partner_id


async def may_reach_series(user: CurrentUser, slug: object) -> bool:
    """A series of the person's organisation (series are the whole organisation's, like partner projects)."""
    if not isinstance(slug, str) or user.organisation_id is None:
        return False
    return await Series.exists().where(Series.slug == slug, Series.organisation == user.organisation_id)


async def set_chosen_events(membership_id: int, event_ids: list[int], organisation_id: int) -> None:
    """Limit a membership to these events of its organisation (in the caller's transaction); others are ignored."""
    await EventAccess.delete().where(EventAccess.membership == membership_id)
    own = await Event.select(Event.id).where(Event.id.is_in(event_ids or [-1]), Event.organisation == organisation_id)
    for row in own:
        await EventAccess(membership=membership_id, event=row["id"]).save()
    await Membership.update({Membership.restricted: True}).where(Membership.id == membership_id)


register_ownership_check("slug", may_reach_event, message=N_("We could not find that event."), code="event_not_found")
register_ownership_check("partner_slug", may_reach_partner, message=N_("We could not find that partner project."), code="partner_not_found")
register_ownership_check("series_slug", may_reach_series, message=N_("We could not find that series."), code="series_not_found")
