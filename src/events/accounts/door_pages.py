"""The door pages a signed-in person works (events whose door team they are on), for their account page. The door
team is checkin's, a layer above: it registers how to find them here, as the ownership checks are registered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from events.accounts.roles import CurrentUser


@dataclass(frozen=True, slots=True)
class DoorPage:
    """An upcoming event's door page (``/door/<slug>``) that the person may open."""

    slug: str
    title: str
    starts_at: datetime

    @property
    def path(self) -> str:
        return f"/door/{self.slug}"


DoorPagesFinder = Callable[[CurrentUser, datetime], Awaitable[list[DoorPage]]]
_finders: list[DoorPagesFinder] = []


def register_door_pages(finder: DoorPagesFinder) -> None:
    """Called once by the package that keeps door teams (checkin.door_team)."""
    if finder not in _finders:
        _finders.append(finder)


async def door_pages_of(user: CurrentUser, *, now: datetime) -> list[DoorPage]:
    """The upcoming events whose door ``user`` works in the organisation they act for, soonest first."""
    pages = [page for finder in _finders for page in await finder(user, now)]
    return sorted(pages, key=lambda page: page.starts_at)
