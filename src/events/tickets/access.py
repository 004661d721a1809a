"""Whether a person may reach a ticket named in a path: one of their organisation's events' (and, for an organiser
limited to chosen events, one of those). Registered with the role guards (accounts.auth)."""

from __future__ import annotations

from events.accounts.auth import register_ownership_check
from events.accounts.roles import CurrentUser
from events.catalogue.access import may_reach_event_id
from events.i18n import N_
from events.tickets.tables import Ticket


async def may_reach_ticket(user: CurrentUser, ticket_id: object) -> bool:
    if not isinstance(ticket_id, int):
        return False
    row = await Ticket.select(Ticket.event.id, Ticket.event.organisation).where(Ticket.id == ticket_id).first()
    return row is not None and await may_reach_event_id(user, row["event.id"], row["event.organisation"])


register_ownership_check("ticket_id", may_reach_ticket, message=N_("We could not find that ticket."), code="ticket_not_found")
