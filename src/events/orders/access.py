"""Whether a person may reach an order named in a path: one of their organisation's events' (and, for an organiser
limited to chosen events, one of those). Registered with the role guards (accounts.auth)."""

from __future__ import annotations

from events.accounts.auth import register_ownership_check
from events.accounts.roles import CurrentUser
from events.catalogue.access import may_reach_event_id
from events.errors import NotFound
from events.i18n import N_
from events.orders import codes
from events.orders.tables import Order


async def may_reach_order(user: CurrentUser, reference: object) -> bool:
    if not isinstance(reference, str):
        return False
    row = await Order.select(Order.event.id, Order.event.organisation).where(Order.reference == codes.normalise_reference(reference)).first()
    return row is not None and await may_reach_event_id(user, row["event.id"], row["event.organisation"])


def reference_with_token(secret_key: str, reference: str, token: str | None) -> str:
    """A guest's order, reached with its access token (the link in their messages, or the API's bearer token): its
    reference, or not found whatever the reason (a wrong token tells nothing about the order)."""
    reference = codes.normalise_reference(reference)
    if not codes.token_matches(secret_key, reference, token):
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return reference


register_ownership_check("reference", may_reach_order, message=N_("We could not find that order."), code="order_not_found")
