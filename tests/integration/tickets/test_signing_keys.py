"""An event's ticket signing key is made once, as its first tickets are issued (or, for tickets issued without one, on
first use), however many requests need it at the same moment; showing a ticket then only reads it."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events import db
from events.catalogue.tables import Event
from events.config import Settings
from events.tickets import keys
from events.tickets.signing import InvalidTicketCode, verify_ticket
from events.tickets.tables import EventSigningKey
from events.tickets.views import ticket_by_id
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order

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


async def paid_tickets(client: httpx.AsyncClient, slug: str, quantity: int = 2) -> list[dict[str, Any]]:
    created = (await place_order(client, slug, quantity=quantity)).json()
    assert (await pay_with_test_page(client, created)).status_code in (200, 303)
    return list((await get_order(client, created))["tickets"])


async def test_the_first_tickets_make_the_key_so_showing_them_only_reads(client: httpx.AsyncClient, settings: Settings, now: datetime) -> None:
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    tickets = await paid_tickets(client, slug)
    [made] = await EventSigningKey.select(EventSigningKey.key_id).where(EventSigningKey.event == event_id)  # before any view
    tickets += await paid_tickets(client, slug)  # later tickets use it

    for ticket in tickets:
        assert (await client.get(ticket["url"])).status_code == 200
        view = await ticket_by_id(ticket["id"], secret_key=settings.secret_key, now=now)
        assert verify_ticket(view.code, await keys.public_keys(event_id)).key_id == made["key_id"]
    assert await EventSigningKey.count().where(EventSigningKey.event == event_id) == 1


async def test_tickets_issued_without_a_key_get_one_on_first_view(client: httpx.AsyncClient, settings: Settings, now: datetime) -> None:
    """Tickets issued before keys were made as tickets are issued: their event's key is made when one is first shown."""
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    tickets = await paid_tickets(client, slug)
    await EventSigningKey.delete().where(EventSigningKey.event == event_id)  # as such an event's tickets were left

    assert (await client.get(tickets[0]["url"])).status_code == 200
    [made] = await EventSigningKey.select(EventSigningKey.key_id).where(EventSigningKey.event == event_id)
    for ticket in tickets:
        view = await ticket_by_id(ticket["id"], secret_key=settings.secret_key, now=now)
        assert verify_ticket(view.code, await keys.public_keys(event_id)).key_id == made["key_id"]


async def test_issuing_never_waits_for_another_key_maker_and_one_key_is_made(
    client: httpx.AsyncClient, backend: str, settings: Settings, now: datetime
) -> None:
    """Issuing holds its order's row and maybe the event's counters, so waiting there for whoever is making the key (who
    could be waiting for those) could lock both: it leaves the key to them. PostgreSQL: SQLite has one writer at once."""
    if backend != "postgres":
        pytest.skip("SQLite runs one write transaction at a time")
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    making, done = asyncio.Event(), asyncio.Event()

    async def first_issue() -> None:
        async with db.write_transaction():
            await keys.make_first_key(event_id, now=now)
            making.set()
            await done.wait()  # the rest of its issuing transaction

    async def other_issue() -> None:
        async with db.write_transaction():
            await keys.make_first_key(event_id, now=now)

    first = asyncio.create_task(first_issue(), context=contextvars.Context())
    await asyncio.wait_for(making.wait(), timeout=10)
    others = [asyncio.create_task(other_issue(), context=contextvars.Context()) for _ in range(5)]
    rotation = asyncio.create_task(keys.rotate_signing_key(event_id, secret_key=settings.secret_key, now=now), context=contextvars.Context())
    await asyncio.wait_for(asyncio.gather(*others), timeout=10)  # never waited for the first
    assert not rotation.done()  # a rotation does wait, holding nothing else
    done.set()
    await first
    rotated = await rotation
    active = await EventSigningKey.select(EventSigningKey.key_id).where(EventSigningKey.event == event_id, EventSigningKey.retired_at.is_null())
    assert active == [{"key_id": rotated}]
    assert await EventSigningKey.count().where(EventSigningKey.event == event_id) == 2  # the first key, and the rotation's


async def test_the_door_checks_codes_with_the_private_half_it_can_open_else_the_public(
    client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keys.checking_key: re-signing a code with the private half is the cheaper check (signing.verify_ticket); a
    process without the installation's secret, or whose secret no longer opens the key, checks with the public half,
    and both accept the event's codes."""
    from events.tickets.signing import TicketClaims, sign_ticket

    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    key_id, private = await keys.current_signing_key(event_id, secret_key=SECRET_KEY, now=now)
    row = await EventSigningKey.select(EventSigningKey.public_key, EventSigningKey.private_key).where(EventSigningKey.key_id == key_id).first()
    claims = TicketClaims(key_id, 1, 1, event_id, 1, "hq7mtw2xz9kcpe4rab3d", 1_786_900_000, 1_787_100_000)
    code = sign_ticket(claims, private)

    halves = {}
    for name, secret in (("the secret", SECRET_KEY), ("no secret", None), ("another secret", "another installation secret of 32 characters")):
        monkeypatch.setattr(keys, "_secret_key", secret)
        halves[name] = keys.checking_key(row["public_key"], row["private_key"])
        assert verify_ticket(code, {key_id: halves[name]}).event_id == event_id, name
    assert isinstance(halves["the secret"], Ed25519PrivateKey)
    assert isinstance(halves["no secret"], Ed25519PublicKey) and isinstance(halves["another secret"], Ed25519PublicKey)

    # A row whose halves do not belong together (a sealed key copied from another row): the public half, the one door
    # phones have, decides, so a code signed with the stray private half is refused on the server as on the phones.
    monkeypatch.setattr(keys, "_secret_key", SECRET_KEY)
    stray = Ed25519PrivateKey.generate()
    mismatched = keys.checking_key(row["public_key"], keys._seal(stray, SECRET_KEY))
    assert isinstance(mismatched, Ed25519PublicKey)
    with pytest.raises(InvalidTicketCode):
        verify_ticket(sign_ticket(claims, stray), {key_id: mismatched})
