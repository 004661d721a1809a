"""Door sale HTTP: door staff selling tickets paid in cash or on a card terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from events.accounts.auth import DOOR_TOKEN_ROUTE, requires_role
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.checkin.scanning import door_event
from events.dependencies import BEARER, error_responses
from events.door_sales import service
from events.door_sales.schemas import DoorSaleIn
from events.orders.schemas import OrderOut
from events.tickets.views import order_details


class DoorSalesApi(Controller):
    path = "/api"
    tags = ["Orders"]

    @post(
        "/events/{slug:str}/door-sales",
        summary="Sell door tickets, paid in cash or on a card terminal; issued and checked in at once (door staff)",
        guards=[requires_role(DOOR, ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
        opt={DOOR_TOKEN_ROUTE: True},  # a door device's token sells here, for its own event (door_event)
    )
    async def door_sale(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[DoorSaleIn], now: NamedDependency[datetime]
    ) -> OrderOut:
        user: CurrentUser = request.user
        await door_event(slug, user)  # door staff (and door devices) sell only at the events they are on the door for
        placed = await service.sell_at_door(
            slug,
            [(item.ticket_type, item.quantity) for item in data.items],
            payment_method=data.payment_method,
            buyer_name=data.buyer_name,
            buyer_email=data.buyer_email,
            seller=user.name,
            now=now,
        )
        return await order_details(placed.reference)

    @post(
        "/events/{slug:str}/door-sales/{reference:str}/undo",
        status_code=200,
        summary="Undo a door sale made by mistake, within 30 minutes: refunded whole by the way it was paid (door staff)",
        description=(
            "The whole payment is recorded as handed back (cash or card terminal), the tickets stop working and their "
            "places go back on sale, once: 409 `door_sale_undone` when it was undone or refunded already, "
            "`undo_window_closed` after 30 minutes (an organiser refunds it from the order's page), `not_a_door_sale` "
            "for an order made online; 404 for an order of another event. Returns the order, refunded."
        ),
        guards=[requires_role(DOOR, ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409),
        opt={DOOR_TOKEN_ROUTE: True},
    )
    async def undo_door_sale(
        self, request: Request[Any, Any, Any], slug: FromPath[str], reference: FromPath[str], now: NamedDependency[datetime]
    ) -> OrderOut:
        user: CurrentUser = request.user
        event = await door_event(slug, user)  # only at an event this user is on the door for
        await service.undo_door_sale(event.id, reference, undone_by=user.name, now=now)
        return await order_details(reference)
