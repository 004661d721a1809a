"""Whether a person may reach a waiting-list entry named in a path: one of their organisation's events' (and, for an
organiser limited to chosen events, one of those). Registered with the role guards (accounts.auth)."""

from __future__ import annotations

from events.accounts.auth import register_ownership_check
from events.accounts.roles import CurrentUser
from events.catalogue.access import may_reach_event_id
from events.i18n import N_
from events.waitlist.tables import WaitingEntry


async def may_reach_entry(user: CurrentUser, entry_id: object) -> bool:
    if not isinstance(entry_id, int):
        return False
    row = await WaitingEntry.select(WaitingEntry.event.id, WaitingEntry.event.organisation).where(WaitingEntry.id == entry_id).first()
    return row is not None and await may_reach_event_id(user, row["event.id"], row["event.organisation"])


register_ownership_check(
    "entry_id", may_reach_entry, message=N_("We could not find that person on the waiting list."), code="waiting_entry_not_found"
)
