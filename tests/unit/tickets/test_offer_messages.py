"""The waiting-list offer's email and text: the places held, until when (in the event's time), and the one link that
takes them, in the guest's language."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from events import i18n
from events.tickets import email, texts
from events.tickets.statuses import MessageKind
from tests.unit.tickets.test_email import build, content

LONDON = ZoneInfo("Europe/London")
STARTS = datetime(2031, 8, 16, 19, 0, tzinfo=LONDON)  # a Saturday
EXPIRES = datetime(2031, 8, 14, 21, 30, tzinfo=LONDON)  # a Thursday
LINK = "https://tickets.example.org/waiting-list/" + "A" * 22


def offer_text(locale: str = "en", **detail: object) -> texts.OrderText:
    return texts.OrderText(
        kind=MessageKind.waiting_list_offer,
        locale=locale,
        organisation="Refugee Kitchen",
        event_title="Supper Club",
        starts_at=STARTS,
        link=LINK,
        detail={"places": 2, "free": False, **detail},
        offer_expires_at=EXPIRES,
    )


def test_the_offer_text_says_how_many_places_until_when_and_links_to_them() -> None:
    assert texts.compose(offer_text()) == (
        f"Refugee Kitchen: 2 places have come up for you at Supper Club.\nHeld for you until Thu 14 Aug, 21:30:\n{LINK}"
    )
    assert texts.compose(offer_text(places=1, free=True)).startswith("Refugee Kitchen: A free place has come up for you at Supper Club.\n")


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_the_offer_text_fits_two_segments_and_carries_one_link(locale: str) -> None:
    body = texts.compose(offer_text(locale))
    assert body.count("https://") == 1 and LINK in body
    if locale == "en":  # as every kind's (test_texts): other languages may need UCS-2
        assert texts.segments(body) <= texts.MAX_SEGMENTS, body


def test_the_offer_email_holds_the_link_and_the_time_in_both_alternatives() -> None:
    summary = email.OfferSummary(link=LINK, places=2, expires_at=EXPIRES, free=False)
    message = build(dataclasses.replace(content(), kind=MessageKind.waiting_list_offer, offer=summary, tickets=()))
    assert message["Subject"] == "A place for you at Supper Club"
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    for part in (plain, html):
        assert LINK in part and "2 places have come up for you." in part and "21:30" in part
    assert "next person on the waiting list" in plain


def test_the_offer_detail_is_read_back_in_the_events_time_zone() -> None:
    summary = email.OfferSummary.from_detail(
        {"link": "/waiting-list/x", "places": 3, "expires_at": "2031-08-14T20:30:00+00:00", "free": True}, base_url="https://t.example", zone=LONDON
    )
    assert summary == email.OfferSummary("https://t.example/waiting-list/x", 3, EXPIRES, True)
