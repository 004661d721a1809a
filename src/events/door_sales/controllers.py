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
