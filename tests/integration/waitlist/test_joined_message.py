"""A guest who joins a waiting list hears from us at once: their place in the queue and their own page's link (to see
their place, leave, or take places when they are offered), by email, else by text, in their language. It is all they
have besides the page they landed on."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
from litestar import Litestar

from events.organisations.tables import Organisation
from events.privacy import service as privacy
from events.tickets import outbox
from events.tickets.tables import OutboxMessage
from events.waitlist.tables import WaitingEntry
from tests.integration.waitlist.helpers import join, joined, sold_out_event

JOINED = "waiting_list_joined"


async def joined_statuses() -> list[str]:
    return await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.kind == JOINED).order_by(OutboxMessage.id).output(as_list=True)


async def test_joining_sends_the_place_and_the_link_by_email_in_the_guests_language(
    client: httpx.AsyncClient, now: datetime, app: Litestar, tmp_path: Path
) -> None:
    await Organisation.update({Organisation.contact_email: "hello@kitchen.test"}).where(Organisation.id > 0)
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira")
    token = await joined(client, slug, "Nadia", locale="fr", quantity=2)
    [queued] = await OutboxMessage.select().where(OutboxMessage.recipient == "nadia@example.org")
    assert queued["kind"] == JOINED and queued["order_id"] is None and queued["channel"] == "email"

    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await outbox.drain_outbox(now + timedelta(minutes=1), settings=settings)  # the diners' confirmations go too (the joins queued theirs after `now`)
    assert await joined_statuses() == ["sent", "sent"]
    [eml] = [path for path in (tmp_path / "outbox").glob(f"*-{JOINED}.eml") if b"nadia@example.org" in path.read_bytes()]
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert message["Subject"].startswith("Vous êtes sur la liste d'attente") and message["Reply-To"] == "hello@kitchen.test"
    assert 'lang="fr"' in html and "Bonjour Nadia" in plain
    assert f"{settings.base_url}/waiting-list/{token}" in plain and f'href="{settings.base_url}/waiting-list/{token}"' in html
    assert "numéro 2" in plain  # Amira joined first
    assert "2 places" in plain
    assert await outbox.drain_outbox(now + timedelta(minutes=5), settings=settings) == 0  # once
    assert len(list((tmp_path / "outbox").glob(f"*-{JOINED}.eml"))) == 2


async def test_a_guest_who_gave_only_a_mobile_number_gets_a_text(client: httpx.AsyncClient, now: datetime, app: Litestar, tmp_path: Path) -> None:
    slug = await sold_out_event(client, now)
    token = await joined(client, slug, "Bashir", email="", phone="07911 123456", locale="ar")
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await outbox.drain_outbox(now + timedelta(minutes=1), settings=settings)
    assert await joined_statuses() == ["sent"]
    [text] = (tmp_path / "outbox").glob(f"*-{JOINED}.txt")
    words = text.read_text()
    assert "+447911123456" in words and f"/waiting-list/{token}" in words
    assert "أنت على قائمة الانتظار لـ" in words  # in their language


async def test_a_guest_who_left_before_the_message_went_is_not_told_they_joined(
    client: httpx.AsyncClient, now: datetime, app: Litestar, tmp_path: Path
) -> None:
    slug = await sold_out_event(client, now)
    token = await joined(client, slug, "Amira")
    assert (await client.delete(f"/api/waiting-list/{token}")).status_code == 204
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await outbox.drain_outbox(now + timedelta(minutes=1), settings=settings)
    assert await joined_statuses() == ["skipped"] and not list((tmp_path / "outbox").glob(f"*-{JOINED}.eml"))


async def test_erasing_a_guests_data_takes_the_message_that_named_them(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await sold_out_event(client, now)
    token = await joined(client, slug, "Amira")
    await joined(client, slug, "Nadia")
    organisation = (await Organisation.select(Organisation.id).first())["id"]  # type: ignore[index]
    amira = (await WaitingEntry.select(WaitingEntry.id).where(WaitingEntry.token == token).first())["id"]  # type: ignore[index]
    # Amira joined again having lost it (it went again), and its first sending's second try by SMS is queued too.
    await OutboxMessage.update({OutboxMessage.created_at: OutboxMessage.created_at - timedelta(minutes=11)}, force=True)
    assert (await join(client, slug, "Amira", email="amira@example.org")).status_code == 409
    [first] = await OutboxMessage.select().where(OutboxMessage.kind == JOINED, OutboxMessage.recipient == "amira@example.org").limit(1)
    await outbox.send_again_by_sms(first, now=now)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "amira@example.org") == 3
    await privacy.erase_guest("amira@example.org", [], organisation_id=organisation, now=now, waiting=[str(amira)])
    recipients = await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == JOINED).output(as_list=True)
    assert recipients == ["nadia@example.org"]
