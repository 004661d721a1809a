"""The organiser's waiting-list API: the list, offering places by hand, removing a person, closing and reopening."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath
from msgspec import Struct

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.dependencies import BEARER, error_responses
from events.row_ids import RowIdParameter
from events.waitlist import organiser
from events.waitlist.organiser import ClosedOut, WaitingListOut

EntryId = RowIdParameter


class CloseIn(Struct, forbid_unknown_fields=True):
    # Also take off everyone still waiting their turn (offers already made stand).
    remove_waiting: bool = False


class WaitingListOrganiserApi(Controller):
    path = "/api/events/{slug:str}/waiting-list"
    tags = ["Waiting lists"]
    guards = [requires_role(ORGANISER)]
    security = BEARER

    @post(
        "/{entry_id:int}/offer",
        status_code=200,
        summary="Offer places to this person now, whatever their turn (organiser)",
        responses=error_responses(401, 403, 404, 409),
        description="The places free now are held for them for the event's offer time, and they are sent the offer. "
        "409 `no_places` when nothing is free; 409 `not_waiting` when they are not waiting (already offered, or gone).",
    )
    async def offer(self, slug: FromPath[str], entry_id: EntryId, now: NamedDependency[datetime]) -> WaitingListOut:
        return await organiser.offer_by_hand(slug, entry_id, now=now)

    @delete(
        "/{entry_id:int}",
        status_code=200,
        summary="Take a person off the waiting list; places offered to them go back (organiser)",
        responses=error_responses(401, 403, 404),
        description="Their status becomes `removed`. Places held by an offer they had not taken go to the next "
        "person (or back on sale). Removing someone already off the list changes nothing.",
    )
    async def remove(self, slug: FromPath[str], entry_id: EntryId, now: NamedDependency[datetime]) -> WaitingListOut:
        return await organiser.remove_entry(slug, entry_id, now=now)

    @post(
        "/close",
        status_code=200,
        summary="Close the waiting lists: nobody new can join (organiser)",
        responses=error_responses(401, 403, 404, 422),
        description='Offers already made stand, and people waiting keep their turn unless `{"remove_waiting": true}`, '
        "which takes them off (their status becomes `removed`), so freed places are no longer kept for them.",
    )
    async def close(
        self, slug: FromPath[str], now: NamedDependency[datetime], data: Annotated[CloseIn | None, Body(title="CloseIn")] = None
    ) -> ClosedOut:
        return await organiser.close(slug, remove_waiting=bool(data and data.remove_waiting), now=now)

    @post("/open", status_code=200, summary="Reopen the waiting lists to new guests (organiser)", responses=error_responses(401, 403, 404))
    async def reopen(self, slug: FromPath[str], now: NamedDependency[datetime]) -> WaitingListOut:
        return await organiser.reopen(slug, now=now)
