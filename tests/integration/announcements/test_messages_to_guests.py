"""Messages to guests: an organiser writes to every guest of an event, or to those holding tickets of chosen types.
Each guest (one per order with a valid ticket of those types) gets one message of their own, delivered to a real SMTP
server (aiosmtpd) or by text through the real Twilio SDK to the stand-in for Twilio's API; in the organiser's version
for their language where there is one, else the organiser's words with the event's details in the guest's language.
No message carries another guest's address; refunded, given-back and unreachable guests get none. Sending is
limited, audited, and shown with how many went and failed; the organiser's words arrive as text, never as markup."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from html import unescape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from events import i18n
from events.announcements import service
from events.announcements.rules import Draft, Wording
from events.announcements.tables import Announcement, AnnouncementVersion
from events.catalogue.tables import Event
from events.config import Settings
from events.orders.codes import order_access_token
from events.orders.tables import Order
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.tickets.test_email import SmtpServer
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.mail import app_mail_server
from tests.support.orders import pay_with_test_page, ticket_type_id
from tests.support.twilio import TwilioStandIn, running_twilio

MOBILE, E164 = "07911 123456", "+447911123456"
VENUE_CHANGE = {"subject": "The venue has changed", "body": "We have moved to St Margaret's Hall.\nDoors open at 18:30 as before."}
ARABIC = {"locale": "ar", "subject": "تغيّر مكان الحفل", "body": "انتقلنا إلى قاعة سانت مارغريت.\nتفتح الأبواب في 18:30."}


@dataclasses.dataclass
class Guest:
    name: str
    address: str  # their email address, or mobile number in E.164
    reference: str


@dataclasses.dataclass
class Outbound:
    mail: SmtpServer
    twilio: TwilioStandIn
    settings: Settings  # sending email to `mail` and texts to `twilio`

    def emails(self) -> list[EmailMessage]:
        return self.mail.inbox.messages()


@pytest.fixture
def outbound(settings: Settings) -> Iterator[Outbound]:
    with app_mail_server(settings) as mail, running_twilio() as twilio:
        yield Outbound(mail, twilio, dataclasses.replace(mail.settings, twilio=twilio.settings()))


def clock() -> datetime:
    """The app stamps messages with the real time of each request, so drains run at the real time too."""
    return datetime.now(timezone.utc)


async def supper_club(now: datetime) -> str:
    return await make_event(
        now,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}, {"name": "Volunteer", "price_pence": 500, "max_per_order": 2}],
    )


async def buy(
    client: httpx.AsyncClient, slug: str, name: str, email: str, *, locale: str = "en", type_name: str = "Supper", quantity: int = 1
) -> Guest:
    body = {"buyer": {"name": name, "email": email}, "items": [{"ticket_type": await ticket_type_id(client, slug, type_name), "quantity": quantity}]}
    created = await client.post(f"/api/events/{slug}/orders", json=body, headers={"Accept-Language": locale})
    assert created.status_code == 201, created.text
    assert (await pay_with_test_page(client, created.json())).status_code == 303
    return Guest(name, email, created.json()["reference"])


async def claim(client: httpx.AsyncClient, code: str, name: str, **contact: str) -> Guest:
    claimed = await client.post("/api/claims", json={"code": code, "name": name, **contact})
    assert claimed.status_code == 201, claimed.text
    row = await Ticket.select(Ticket.order_id.reference).where(Ticket.id == claimed.json()["id"]).first()
    return Guest(name, contact.get("email") or E164, row["order_id.reference"])


async def guests(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, settings: Settings) -> dict[str, Guest]:
    """The supper club's guests: some who will hear, some who will not."""
    code = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 5}, headers=organiser)).json()["code"]
    people = {
        "english": await buy(client, slug, "Ellen Brown", "ellen@example.org", quantity=2),
        "arabic": await buy(client, slug, "Amal Haddad", "amal@example.org", locale="ar"),
        "french": await buy(client, slug, "Fleur Martin", "fleur@example.org", locale="fr"),
        "texted": await claim(client, code, "Leila", phone=MOBILE, locale="fa"),
        "volunteer": await buy(client, slug, "Victor Stone", "victor@example.org", type_name="Volunteer"),
        "refunded": await buy(client, slug, "Rita Refund", "rita@example.org"),
        "released": await claim(client, code, "Gina", email="gina@example.org"),
    }
    refunded = await client.post(f"/api/orders/{people['refunded'].reference}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refunded.status_code == 201, refunded.text
    released = people["released"]
    [ticket] = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == released.reference)
    token = order_access_token(settings.secret_key, released.reference)
    given_back = await client.post(
        f"/api/tickets/{ticket['id']}/release", json={"choice": "free_place"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert given_back.status_code == 200, given_back.text
    # A ticket sold at the door with no contact details: nobody to write to.
    door = await client.post(
        f"/api/events/{slug}/door-sales",
        json={"items": [{"ticket_type": await ticket_type_id(client, slug, "Supper"), "quantity": 1}], "payment_method": "cash"},
        headers=organiser,
    )
    assert door.status_code == 201, door.text
    # The tickets' own messages have gone already: what follows is only the organiser's.
    await OutboxMessage.delete().where(OutboxMessage.kind != "announcement")
    return people


async def announce(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/events/{slug}/announcements", json={**VENUE_CHANGE, **body}, headers=organiser)


def plain(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


async def test_each_guest_gets_one_message_of_their_own_in_their_language(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, now: datetime
) -> None:
    slug = await supper_club(now)
    people = await guests(client, organiser, slug, outbound.settings)
    supper = await ticket_type_id(client, slug, "Supper")

    response = await announce(client, organiser, slug, ticket_types=[supper], versions=[ARABIC])
    assert response.status_code == 201, response.text
    sent = response.json()
    # The English, Arabic and French buyers and the guest who claimed by phone: not the Volunteer holder, the refunded
    # or given-back guests, nor the door sale without contact details.
    assert sent["recipients"] == 4 and sent["ticket_types"] == [supper]
    assert sent["versions"] == [{"locale": "ar", "subject": ARABIC["subject"], "body": ARABIC["body"]}]
    assert sent["delivery"] == {"sent": 0, "failed": 0, "waiting": 4, "not_sent": 0}

    assert await drain_outbox(clock(), settings=outbound.settings) == 4
    assert await drain_outbox(clock() + timedelta(hours=2), settings=outbound.settings) == 0  # once, never again
    emails = outbound.emails()
    envelopes = outbound.mail.inbox.envelopes
    # One message per guest, each to that guest alone: no To, Cc or Bcc lists.
    assert sorted(envelope.rcpt_tos[0] for envelope in envelopes) == sorted(people[name].address for name in ("english", "arabic", "french"))
    assert all(len(envelope.rcpt_tos) == 1 for envelope in envelopes)
    assert all(message["Cc"] is None and message["Bcc"] is None for message in emails)
    [text] = outbound.twilio.received
    assert text.to == E164 and text.problems == []
    for message in emails:
        # Every header and both parts, decoded (an Arabic email's parts are encoded on the wire).
        whole = "\n".join(f"{name}: {value}" for name, value in message.items()) + plain(message) + html(message)
        own = next(guest for guest in people.values() if guest.address == message["To"])
        leaked = [value for guest in people.values() if guest is not own for value in (guest.address, guest.name) if value in whole]
        assert leaked == [], (message["To"], leaked)
    leaked = [value for guest in people.values() if guest is not people["texted"] for value in (guest.address, guest.name) if value in text.body]
    assert leaked == [], leaked

    by_address = {message["To"]: message for message in emails}
    zone = ZoneInfo("Europe/London")
    starts = (await Order.select(Order.event.starts_at).where(Order.reference == people["english"].reference).first())["event.starts_at"]
    local = starts.astimezone(zone)

    english = by_address["ellen@example.org"]
    assert english["Subject"] == "The venue has changed" and not list(english.iter_attachments())  # links, no PDF
    assert "We have moved to St Margaret's Hall.\nDoors open at 18:30 as before." in plain(english)
    assert i18n.date_and_time(local, "en") in plain(english) and "Community Hall" in plain(english)
    assert plain(english).count(f"{outbound.settings.base_url}/tickets/") == 2  # both of Ellen's tickets
    assert f"/orders/{people['english'].reference}?token=" in plain(english)

    # The Arabic guest gets the Arabic version, in an Arabic email.
    arabic = by_address["amal@example.org"]
    assert arabic["Subject"] == ARABIC["subject"]
    assert ARABIC["body"] in plain(arabic) and VENUE_CHANGE["body"] not in plain(arabic)
    assert i18n.date_and_time(local, "ar") in plain(arabic)
    assert '<html lang="ar" dir="rtl">' in html(arabic) and 'lang="ar" dir="rtl"' in html(arabic)

    # The French guest has no French version: the organiser's English words, with the event's details in French.
    french = by_address["fleur@example.org"]
    assert french["Subject"] == "The venue has changed" and VENUE_CHANGE["body"] in plain(french)
    assert i18n.date_and_time(local, "fr") in plain(french)
    french_words = i18n.translations("fr").gettext("Your order %(reference)s") % {"reference": people["french"].reference}
    assert french_words != f"Your order {people['french'].reference}" and french_words in plain(french)
    assert '<html lang="fr" dir="ltr">' in html(french) and '<div lang="en" dir="ltr"' in html(french)

    # The guest who gave only a mobile number gets it by text: the organiser's words, the event and their ticket.
    assert "The venue has changed" in text.body and "We have moved to St Margaret's Hall." in text.body
    assert "Supper Club" in text.body and f"{outbound.settings.base_url}/tickets/" in text.body and text.body.count("http") == 1

    listed = (await client.get(f"/api/events/{slug}/announcements", headers=organiser)).json()
    assert [(item["id"], item["recipients"], item["delivery"]) for item in listed] == [
        (sent["id"], 4, {"sent": 4, "failed": 0, "waiting": 0, "not_sent": 0})
    ]


async def test_every_guest_and_only_the_chosen_types_holders(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, now: datetime
) -> None:
    slug = await supper_club(now)
    people = await guests(client, organiser, slug, outbound.settings)
    everyone = await announce(client, organiser, slug)
    assert everyone.status_code == 201 and everyone.json()["recipients"] == 5 and everyone.json()["ticket_types"] == []
    volunteers = await announce(
        client, organiser, slug, subject="Volunteers: arrive at 17:00", ticket_types=[await ticket_type_id(client, slug, "Volunteer")]
    )
    assert volunteers.status_code == 201 and volunteers.json()["recipients"] == 1
    await drain_outbox(clock(), settings=outbound.settings)
    subjects: dict[str, list[str]] = {}
    for message in outbound.emails():
        subjects.setdefault(message["To"], []).append(message["Subject"])
    assert subjects["victor@example.org"] == ["The venue has changed", "Volunteers: arrive at 17:00"]
    assert all(subject == ["The venue has changed"] for address, subject in subjects.items() if address != "victor@example.org")
    assert people["refunded"].address not in subjects and people["released"].address not in subjects


async def test_a_guest_whose_ticket_goes_before_the_message_does_is_not_sent_it(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, now: datetime
) -> None:
    slug = await supper_club(now)
    ellen = await buy(client, slug, "Ellen Brown", "ellen@example.org")
    fleur = await buy(client, slug, "Fleur Martin", "fleur@example.org")
    await OutboxMessage.delete(force=True)
    sent = (await announce(client, organiser, slug)).json()
    assert sent["recipients"] == 2
    refunded = await client.post(f"/api/orders/{ellen.reference}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refunded.status_code == 201
    await OutboxMessage.delete().where(OutboxMessage.kind != "announcement")
    assert await drain_outbox(clock(), settings=outbound.settings) == 1
    assert [message["To"] for message in outbound.emails()] == [fleur.address]
    [listed] = (await client.get(f"/api/events/{slug}/announcements", headers=organiser)).json()
    assert listed["delivery"] == {"sent": 1, "failed": 0, "waiting": 0, "not_sent": 1}


async def test_the_organisers_words_arrive_as_text_never_as_markup(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, now: datetime
) -> None:
    slug = await supper_club(now)
    await buy(client, slug, "Ellen Brown", "ellen@example.org")
    await OutboxMessage.delete(force=True)
    body = '<script>alert("x")</script>\n<b>bold</b> & <a href="https://evil.example">click</a>'
    response = await announce(client, organiser, slug, subject="<img src=x onerror=alert(1)>", body=body)
    assert response.status_code == 201, response.text
    await drain_outbox(clock(), settings=outbound.settings)
    [message] = outbound.emails()
    assert message["Subject"] == "<img src=x onerror=alert(1)>"
    page = html(message)
    assert "<script>" not in page and "<img" not in page and "<b>" not in page and 'href="https://evil.example"' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a" in page  # escaped, line break kept
    assert body in plain(message)  # the text part as written

    await sign_in_organiser(client)
    listing = await client.get(f"/manage/events/{slug}/announcements")
    assert listing.status_code == 200 and "<img src=x" not in listing.text and "&lt;img src=x onerror=alert(1)&gt;" in listing.text


async def test_sending_is_limited_per_event_and_every_message_is_audited(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, now: datetime
) -> None:
    slug = await supper_club(now)
    ellen = await buy(client, slug, "Ellen Brown", "ellen@example.org")
    for number in range(3):
        assert (await announce(client, organiser, slug, subject=f"News {number}")).status_code == 201
    refused = await announce(client, organiser, slug, subject="One too many")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert "3 messages this hour" in refused.json()["detail"] and "You can send another in" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert await Announcement.count() == 3 and await OutboxMessage.count().where(OutboxMessage.kind == "announcement") == 3

    entries = await list_entries(action="announcement_sent")
    assert len(entries) == 3
    entry = entries[0]
    assert entry.actor == "organiser@test.example" and entry.event_slug == slug and entry.subject_type == "announcement"
    assert entry.after == {"recipients": 1, "by_email": 1, "by_text": 0, "ticket_types": [], "locale": "en", "versions": []}
    assert ellen.address not in str(entry) and "News" not in str(entry)


async def test_an_organisation_sends_at_most_ten_messages_a_day_across_its_events(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slugs = []
    for number in range(4):
        slug = await make_event(now, slug=f"night-{number}", title=f"Night {number}")
        await buy(client, slug, f"Guest {number}", f"guest{number}@example.org")
        slugs.append(slug)
    answers = [await announce(client, organiser, slug, subject=f"News {n}") for slug in slugs for n in range(3)]
    assert [answer.status_code for answer in answers] == [201] * 10 + [429] * 2
    refused = answers[-1].json()
    assert "Your organisation has sent 10 messages to guests today" in refused["detail"]
    assert await Announcement.count() == 10


async def test_bad_messages_are_refused_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    other = await make_event(now, slug="other-night", title="Other Night")
    await buy(client, slug, "Ellen Brown", "ellen@example.org")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"subject": "Two\nlines"}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"body": "   "}, "body"),
        ({"body": "bell \x07"}, "body"),
        ({"locale": "de"}, "locale"),
        ({"ticket_types": [await ticket_type_id(client, other)]}, "ticket_types"),
        ({"versions": [{**VENUE_CHANGE, "locale": "en"}]}, "versions.en.locale"),
        ({"versions": [{**ARABIC, "body": ""}]}, "versions[0].body"),
    ]
    for change, field in cases:
        response = await announce(client, organiser, slug, **change)
        assert response.status_code == 422, (change, response.text)
        assert field in response.json()["fields"], (change, response.json())
    assert await Announcement.count() == 0 and await AnnouncementVersion.count() == 0
    assert not await OutboxMessage.exists().where(OutboxMessage.kind == "announcement")

    empty = await make_event(now, slug="empty-night", title="Empty Night")
    nobody = await announce(client, organiser, empty)
    assert nobody.status_code == 409 and nobody.json()["error"] == "no_recipients"


def csrf(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


async def post_fields(client: httpx.AsyncClient, path: str, fields: list[tuple[str, str]]) -> httpx.Response:
    """A form posted as a browser posts it: repeated names (the ticket types) included."""
    return await client.post(path, content=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"})


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(name, unescape(value)) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)]


async def test_the_organiser_writes_checks_who_gets_it_and_sends_it_once_from_the_back_office(
    client: httpx.AsyncClient, organiser: dict[str, str], outbound: Outbound, app: Litestar, now: datetime
) -> None:
    slug = await supper_club(now)
    await guests(client, organiser, slug, outbound.settings)
    await sign_in_organiser(client)
    dashboard = await client.get(f"/manage/events/{slug}")
    assert f'href="/manage/events/{slug}/announcements"' in dashboard.text and "Message guests" in dashboard.text
    page = await client.get(f"/manage/events/{slug}/announcements")
    assert page.status_code == 200 and "Messages sent" not in page.text
    assert "Every guest with a valid ticket (6 bookings)" in page.text  # the door sale is a booking too

    supper = await ticket_type_id(client, slug, "Supper")
    form = {
        "audience": "types",
        "ticket_types": str(supper),
        "locale": "en",
        **VENUE_CHANGE,
        "subject_ar": ARABIC["subject"],
        "body_ar": ARABIC["body"],
    }
    refused = await post_form(client, f"/manage/events/{slug}/announcements", {**form, "subject": ""}, page=f"/manage/events/{slug}/announcements")
    assert refused.status_code == 422 and 'id="error-summary"' in refused.text and 'aria-invalid="true"' in refused.text
    nothing_ticked = await post_form(
        client, f"/manage/events/{slug}/announcements", {**form, "ticket_types": ""}, page=f"/manage/events/{slug}/announcements"
    )
    assert nothing_ticked.status_code == 422 and "Tick at least one ticket type" in nothing_ticked.text

    checked = await post_form(client, f"/manage/events/{slug}/announcements", form, page=f"/manage/events/{slug}/announcements")
    assert checked.status_code == 200, checked.text
    assert "Send to 4 guests" in checked.text and await Announcement.count() == 0  # nothing sent yet
    assert re.search(r'class="by-email">3<', checked.text) and re.search(r'class="by-text">1<', checked.text)
    assert "1 booking has no email address or mobile number" in checked.text
    assert "1 guest reading Arabic (العربية): your message in their language" in checked.text
    assert "1 guest reading French (français): your message as you wrote it, with the event&#39;s details in their language" in checked.text
    fields = hidden_fields(checked.text)
    assert ("body", VENUE_CHANGE["body"]) in fields  # its line break kept for the sending step

    sent = await post_fields(client, f"/manage/events/{slug}/announcements/send", [*fields, ("_csrf_token", csrf(checked.text))])
    assert sent.status_code == 303 and sent.headers["location"] == f"/manage/events/{slug}/announcements?notice=sent"
    again = await post_fields(client, f"/manage/events/{slug}/announcements/send", [*fields, ("_csrf_token", csrf(checked.text))])
    assert again.status_code == 303 and again.headers["location"].endswith("notice=already_sent")
    assert await Announcement.count() == 1 and await AnnouncementVersion.count() == 1

    listing = await client.get(f"/manage/events/{slug}/announcements?notice=sent")
    assert "Your message is on its way" in listing.text and "The venue has changed" in listing.text
    assert "also in Arabic (العربية)" in listing.text
    assert re.search(r'class="number recipients">4<', listing.text) and re.search(r'class="number delivered">0<', listing.text)
    outbound.twilio.refuse(E164)  # "not a mobile number": fails at once
    await drain_outbox(clock(), settings=outbound.settings)
    reloaded = await client.get(f"/manage/events/{slug}/announcements")
    assert re.search(r'class="number delivered">3<', reloaded.text) and re.search(r'class="number failed">1<', reloaded.text)
    assert re.search(r'class="number waiting">0<', reloaded.text)

    # Going back from the confirmation keeps what was written.
    edit = await post_fields(client, f"/manage/events/{slug}/announcements", [*fields, ("step", "edit"), ("_csrf_token", csrf(checked.text))])
    assert edit.status_code == 200 and "St Margaret&#39;s Hall" in edit.text and ARABIC["subject"] in edit.text


async def test_the_page_says_when_the_limit_is_reached_and_keeps_the_message(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    await buy(client, slug, "Ellen Brown", "ellen@example.org")
    for number in range(3):
        assert (await announce(client, organiser, slug, subject=f"News {number}")).status_code == 201
    await sign_in_organiser(client)
    page = f"/manage/events/{slug}/announcements"
    refused = await post_form(client, f"{page}/send", {"audience": "all", "locale": "en", **VENUE_CHANGE, "send_token": "a-token"}, page=page)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "3 messages this hour" in refused.text and "St Margaret&#39;s Hall" in refused.text
    assert await Announcement.count() == 3


async def test_the_door_team_cannot_message_guests(client: httpx.AsyncClient, now: datetime) -> None:
    from events.accounts import service as accounts

    slug = await supper_club(now)
    await accounts.create_user("door@test.example", role="door", password=None)
    door = {"Authorization": f"Bearer {await accounts.create_api_token('door@test.example', now=now)}"}
    assert (await client.post(f"/api/events/{slug}/announcements", json=VENUE_CHANGE, headers=door)).status_code == 403
    assert (await client.get(f"/api/events/{slug}/announcements", headers=door)).status_code == 403
    assert await Announcement.count() == 0


async def test_thousands_of_guests_are_queued_in_one_go(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """A big event's guests are queued a few hundred rows to a statement, in the one transaction that writes the
    message: more guests than one statement could take arguments for, each once."""
    slug = await make_event(now, capacity=5000)
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    type_id = await ticket_type_id(client, slug)
    guests = 1234
    for start in range(0, guests, 200):  # the set-up's own rows, a few hundred to a statement too
        await Order.insert(
            *(
                Order(reference=f"BIG{n:05d}", event=event["id"], status="paid", buyer_email=f"guest{n}@example.org", currency="GBP", locale="en")
                for n in range(start, min(start + 200, guests))
            )
        )
    orders = await Order.select(Order.id).where(Order.event == event["id"])
    for start in range(0, guests, 200):
        await Ticket.insert(
            *(Ticket(order_id=row["id"], event=event["id"], ticket_type=type_id, secret=f"big{row['id']:08d}") for row in orders[start : start + 200])
        )
    response = await announce(client, organiser, slug)
    assert response.status_code == 201, response.text
    assert response.json()["recipients"] == guests
    queued = await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == "announcement")
    assert len(queued) == guests and len({row["recipient"] for row in queued}) == guests


async def test_a_whatsapp_message_sent_again_by_sms_counts_as_its_sms_went(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    ellen = await buy(client, slug, "Ellen Brown", "ellen@example.org")
    await OutboxMessage.delete(force=True)
    sent = (await announce(client, organiser, slug)).json()
    order = await Order.select(Order.id).where(Order.reference == ellen.reference).first()
    await OutboxMessage.update({OutboxMessage.channel: "whatsapp", OutboxMessage.status: "failed"}).where(OutboxMessage.kind == "announcement")
    [failed] = await OutboxMessage.select().where(OutboxMessage.kind == "announcement")
    await OutboxMessage.insert(
        OutboxMessage(
            kind="announcement", order_id=order["id"], recipient=E164, channel="sms", dedupe_key=f"sms-fallback:{failed['id']}", status="sent"
        )
    )
    [listed] = (await client.get(f"/api/events/{slug}/announcements", headers=organiser)).json()
    assert listed["id"] == sent["id"] and listed["delivery"] == {"sent": 1, "failed": 0, "waiting": 0, "not_sent": 0}


async def test_messages_sent_at_once_are_counted_exactly_against_the_limit(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Eight sends at the same moment (on PostgreSQL, in parallel transactions): exactly the three the hour allows go."""
    slug = await supper_club(now)
    await buy(client, slug, "Ellen Brown", "ellen@example.org")
    answers = await asyncio.gather(*(announce(client, organiser, slug, subject=f"News {number}") for number in range(8)))
    assert sorted(answer.status_code for answer in answers) == [201] * 3 + [429] * 5
    assert await Announcement.count() == 3 and await OutboxMessage.count().where(OutboxMessage.kind == "announcement") == 3


async def test_one_confirmation_sent_several_times_at_once_sends_once(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await supper_club(now)
    await buy(client, slug, "Ellen Brown", "ellen@example.org")
    draft = Draft(Wording("en", VENUE_CHANGE["subject"], VENUE_CHANGE["body"]))
    outcomes = await asyncio.gather(
        *(service.send_announcement(slug, draft, sent_by="Sam", now=now, once="one-confirmation-page") for _ in range(4)), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["AlreadySent"] * 3 + ["SentMessage"]
    assert await Announcement.count() == 1 and await OutboxMessage.count().where(OutboxMessage.kind == "announcement") == 1
