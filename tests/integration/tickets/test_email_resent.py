"""An email sent again (its worker died after the mail server took it, before it was marked sent) is the same
message to the guest's mail system: the same Message-ID at every try, different for every message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from events.config import Settings
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage
from tests.factories import make_event
from tests.integration.tickets.test_email import SmtpServer
from tests.support.mail import app_mail_server
from tests.support.orders import pay_with_test_page, place_order


@pytest.fixture
def smtp(settings: Settings) -> Iterator[SmtpServer]:
    with app_mail_server(settings) as server:
        yield server


async def test_an_email_sent_again_after_a_crash_keeps_its_message_id(client: httpx.AsyncClient, smtp: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    for name in ("Amal Haddad", "Bea Okafor"):
        buyer = {"name": name, "email": f"{name.split()[0].lower()}@example.org"}
        await pay_with_test_page(client, (await place_order(client, slug, buyer=buyer)).json())
    sent_at = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert await drain_outbox(sent_at, settings=smtp.settings) == 2
    # What a worker killed between the mail server's "250 accepted" and marking the message sent leaves behind: the
    # message still queued, its claim run out. The next worker sends it again.
    [first] = await OutboxMessage.select(OutboxMessage.id).where(OutboxMessage.recipient == "amal@example.org")
    await OutboxMessage.update({OutboxMessage.status: "queued", OutboxMessage.sending_until: None}).where(OutboxMessage.id == first["id"])
    assert await drain_outbox(sent_at + timedelta(minutes=10), settings=smtp.settings) == 1

    messages = smtp.inbox.messages()
    ids: dict[str, list[str]] = {str(message["To"]): [] for message in messages}
    for message in messages:
        ids[str(message["To"])].append(str(message["Message-ID"]))
    amal, bea = ids["amal@example.org"], ids["bea@example.org"]
    assert len(amal) == 2 and len(set(amal)) == 1, amal
    assert len(bea) == 1 and bea[0] not in amal
    assert amal[0].startswith("<") and amal[0].endswith("@events.test>")
