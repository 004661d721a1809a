"""An event's ticket signing key is made once, on first use, however many requests need it at the same moment."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx

from events.catalogue.tables import Event
from events.tickets import keys
from events.tickets.tables import EventSigningKey
from tests.factories import make_event

SECRET_KEY = "a test installation secret of 32 characters or more"


async def test_ten_first_uses_at_once_make_one_key(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]

    used = await asyncio.gather(*(keys.current_signing_key(event_id, secret_key=SECRET_KEY, now=now) for _ in range(10)))

    assert await EventSigningKey.count().where(EventSigningKey.event == event_id) == 1
    assert len({key_id for key_id, _ in used}) == 1
    # A door phone that fetched the event's public keys checks every ticket signed since.
    assert set(await keys.public_keys(event_id)) == {used[0][0]}


async def test_a_rotation_racing_first_use_leaves_one_active_key(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]

    await asyncio.gather(
        keys.rotate_signing_key(event_id, secret_key=SECRET_KEY, now=now),
        *(keys.current_signing_key(event_id, secret_key=SECRET_KEY, now=now) for _ in range(5)),
    )

    active = await EventSigningKey.count().where(EventSigningKey.event == event_id, EventSigningKey.retired_at.is_null())
    assert active == 1
