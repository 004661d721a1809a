"""Text messages to guests (SMS or WhatsApp): what each kind says, in the guest's language, short enough for two
SMS segments where the language allows (an organiser's message carries their words, up to a limit of its own). Pure:
the outbox gathers the order's plain data, this module writes the text.

A text carries at most one link. For one ticket it is the ticket page, which keeps working with no signal once it
has been opened (static/js/sw.js); for several tickets it is the order page, which lists them and keeps itself
and its tickets for offline use the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.dates import format_skeleton, format_time, get_datetime_format

from events import i18n
from events.money import format_money
from events.tickets.statuses import MessageKind, refunded_at_the_door

# Two segments: what an SMS may cost at most, on purpose (a third costs the charity a third more per guest).
MAX_SEGMENTS = 2

# GSM 03.38: an SMS in only these characters carries 160 per segment (153 when split); any other character makes the
# whole text UCS-2, 70 per segment (67 when split). The extension characters take two places each.
_GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = set("^{}\\[~]|€\f")
# An organiser's message (an announcement) is sent whole in an email; a text carries this much of it, cut at a word
# with "..." after (three full stops: "…" is not a GSM character and would make the whole text cost twice as much):
# enough for "the venue has changed, …" and its details, in about four SMS segments in English, and
# well inside what WhatsApp takes in a template's variable. The organiser's form says so.
ANNOUNCEMENT_TEXT_CHARACTERS = 400
# How a WhatsApp template variable joins the message's lines (it may not hold a line break).
TEMPLATE_LINE_JOINER = " · "
_RUNS_OF_SPACE = re.compile(r"\s+")

# Babel separates amounts and times with no-break spaces, which are not GSM characters: one would double the cost of
# an English or French text, and a plain space reads the same on a phone.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


@dataclass(frozen=True, slots=True)
class OrderText:
    """What a text about an order needs to know: plain data, dates already in the event's time zone, links absolute."""

    kind: str
    locale: str
    organisation: str  # who writes: the guest may not know the number it comes from
    event_title: str
    starts_at: datetime
    venue: str = ""
    link: str = ""  # the ticket page (one ticket) or the order page; empty for a thank-you
    tickets: int = 0  # valid tickets on the order
    currency: str = "GBP"
    paid_pence: int = 0
    refunded_pence: int = 0
    detail: Mapping[str, Any] = field(default_factory=dict)  # the cause's details (COMMON: refund_notice, thank_you)
    offer_expires_at: datetime | None = None  # a waiting-list offer: when it stops holding the places (event's time zone)
    # An order confirmation of pay-it-forward places or a donation alone (no ticket): a thank-you, the amount paid and
    # the order page's receipt as its link.
    contribution: bool = False


def link_for(ticket_urls: Sequence[str], order_url: str) -> str:
    """The one link a text carries: the ticket itself when there is one, else the order page that lists them."""
    return ticket_urls[0] if len(ticket_urls) == 1 else order_url


@dataclass(frozen=True, slots=True)
class ComposedText:
    """One text, written for each way it may go: the SMS signed with the organisation's name, and the variables of
    the approved WhatsApp template (WhatsApp takes no free-form message a business starts)."""

    body: str
    template_variables: Mapping[str, str]


def compose(text: OrderText, *, signed: bool = True) -> str:
    """The message, in the guest's language (English when the language is not one we have); ``signed`` starts it
    with the organisation's name ("Refugee Kitchen: Your ticket")."""
    locale = text.locale if text.locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    words = _Words(locale)
    when = str(get_datetime_format("medium", locale=words.formats)).format(
        format_time(text.starts_at, "HH:mm", locale=words.formats), format_skeleton("MMMEd", text.starts_at, locale=words.formats)
    )
    lines = _lines(text, words, when, signed=signed)
    if text.kind == MessageKind.thank_you:
        lines = _fit(lines, text, words)
    return "\n".join(line for line in lines if line).translate(_SPACES).strip()


def template_variables(text: OrderText) -> dict[str, str]:
    """The approved WhatsApp template's variables: {{1}} the organisation's name (the template signs the message
    itself), {{2}} the message on one line, its lines joined by " · ": WhatsApp refuses a variable holding a line
    break, a tab or more than four spaces in a row."""
    lines = compose(text, signed=False).splitlines()
    return {"1": _one_line(text.organisation), "2": TEMPLATE_LINE_JOINER.join(_one_line(line) for line in lines if line.strip())}


def segments(body: str) -> int:
    """How many SMS segments ``body`` is sent as (GSM-7 if every character allows it, else UCS-2)."""
    if all(character in _GSM_BASIC or character in _GSM_EXTENSION for character in body):
        length = sum(2 if character in _GSM_EXTENSION else 1 for character in body)
        single, part = 160, 153
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    if length <= single:
        return 1
    return -(-length // part)


class _Words:
    """The guest's catalogue and number formats."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.catalogue = i18n.translations(locale)
        self.formats = i18n.FORMAT_LOCALES[locale]

    def __call__(self, message: str, **variables: Any) -> str:
        translated = self.catalogue.gettext(message)
        return translated % variables if variables else translated

    def plural(self, singular: str, plural: str, count: int, **variables: Any) -> str:
        return self.catalogue.ngettext(singular, plural, count) % {"num": count, **variables}

    def money(self, pence: int, currency: str) -> str:
        return format_money(pence, currency, self.formats)


def shortened(words: str, characters: int) -> str:
    """``words`` as they are when they fit in ``characters``, else cut at the last space before then, with "..."."""
    words = words.strip()
    if len(words) <= characters:
        return words
    cut = words[: characters - 3]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > characters // 2 else cut).rstrip() + "..."


def _one_line(value: str) -> str:
    return _RUNS_OF_SPACE.sub(" ", value).strip()


def _lines(text: OrderText, _: _Words, when: str, *, signed: bool = True) -> list[str]:
    signature = f"{text.organisation}: " if text.organisation and signed else ""
    event = text.event_title
    if text.kind == MessageKind.order_confirmation and text.contribution:
        return [
            signature + _("Thank you for your gift to %(event)s", event=event),
            _("Your receipt for %(amount)s:", amount=_.money(text.paid_pence, text.currency)),
            text.link,
        ]
    if text.kind in (MessageKind.order_confirmation, MessageKind.tickets_resent):
        return [signature + _.plural("Your ticket", "Your tickets", max(text.tickets, 1)), event, when, text.link]
    if text.kind == MessageKind.tickets_reissued:
        return [signature + _("Your updated tickets for %(event)s", event=event), when, text.link]
    if text.kind == MessageKind.reminder:
        return [
            signature + _("Reminder: %(event)s", event=event),
            when,
            text.venue,
            _.plural("Show this ticket on your phone at the door:", "Show these tickets on your phone at the door:", max(text.tickets, 1)),
            text.link,
            # The link's page has the "Can't come?" link: a text carries one link only.
            _("Can't come? Give your place back from that page."),
        ]
    # A message about a refund states that refund (its detail), never the order's totals when the text is written:
    # a second refund of the same order has its own amount.
    refund = _refund(text)
    if text.kind == MessageKind.refund_notice:
        amount = _.money(refund.amount_pence, refund.currency)
        return [
            signature
            + (_("%(amount)s refunded to you in cash.", amount=amount) if refund.method == "cash" else _("Refunded: %(amount)s", amount=amount)),
            event,
            _refund_timing(refund, _),
            text.link,
        ]
    if text.kind == MessageKind.event_cancelled and "refund_choice_until" in text.detail:
        until = datetime.fromisoformat(str(text.detail["refund_choice_until"])).astimezone(text.starts_at.tzinfo)
        return [
            signature + _("%(event)s is cancelled", event=event),
            _(
                "We will refund %(amount)s on %(date)s, or you can donate it:",
                amount=_.money(int(text.detail["choice_pence"]), str(text.detail.get("currency", text.currency))),
                date=format_skeleton("MMMd", until, locale=_.formats),
            ),
            text.link,
        ]
    if text.kind == MessageKind.event_cancelled:
        if not refund.amount_pence:
            refunding = ""
        elif refund.amount_pence == text.paid_pence:
            refunding = _("We are refunding everything you paid: %(amount)s.", amount=_.money(refund.amount_pence, refund.currency))
        else:
            refunding = _("We are refunding what was left of your payment: %(amount)s.", amount=_.money(refund.amount_pence, refund.currency))
        return [
            signature + _("%(event)s is cancelled", event=event),
            when,
            refunding,  # when it arrives is in the email and on the order page: two segments have no room for it
            _("Your tickets no longer work. You do not need to do anything."),
            text.link,
        ]
    if text.kind == MessageKind.late_payment_refunded:
        return [
            signature + _("Your payment for %(event)s has been refunded", event=event),
            _("Refunded: %(amount)s", amount=_.money(refund.amount_pence, refund.currency)),
            _refund_timing(refund, _),
            text.link,
        ]
    if text.kind == MessageKind.thank_you:
        return [signature + _("Thank you for your generosity at %(event)s", event=event), *_thank_you_totals(text, _, _partners(text))]
    # "Can't come?" confirmations: what happened, and that the old ticket no longer works.
    if text.kind == MessageKind.place_released:
        return [signature + _("You gave back your place for %(event)s. Thank you: someone else can come.", event=event), text.link]
    if text.kind == MessageKind.ticket_donated:
        pence = int(text.detail.get("donated_pence", 0))
        donated = _("Your donation: %(amount)s", amount=_.money(pence, str(text.detail.get("currency", text.currency)))) if pence else ""
        return [signature + _("Thank you! Your ticket for %(event)s is now a donation.", event=event), donated, text.link]
    if text.kind == MessageKind.ticket_passed_on:
        return [
            signature + _("Your ticket for %(event)s was passed on.", event=event),
            _("Your friend has a new ticket; your old one no longer works."),
            text.link,
        ]
    if text.kind == MessageKind.waiting_list_offer:
        return _offer_lines(text, _, signature=signature)
    if text.kind == MessageKind.waiting_list_joined:
        # Their place in the queue, and their own page's link (to see it, or leave): the offer will come by text too.
        return [
            signature + _("You are on the waiting list for %(event)s", event=event),
            _("You are number %(position)s in the queue.", position=int(text.detail.get("position", 1))),
            text.link,
        ]
    if text.kind == MessageKind.announcement:
        # The organiser's words (in the language they wrote them in), then the event's in the guest's.
        return [
            signature + _one_line(str(text.detail.get("subject", ""))),
            shortened(str(text.detail.get("body", "")), ANNOUNCEMENT_TEXT_CHARACTERS),
            event,
            when,
            text.venue,
            text.link,
        ]
    if text.kind == MessageKind.refund_donated:
        pence = int(text.detail.get("donated_pence", 0))
        donated = _("Your donation: %(amount)s", amount=_.money(pence, str(text.detail.get("currency", text.currency)))) if pence else ""
        return [signature + _("Thank you! Your refund for %(event)s is now a donation.", event=event), donated, text.link]
    raise ValueError(f"no text for messages of kind {text.kind!r}")


def _offer_lines(text: OrderText, _: _Words, *, signature: str) -> list[str]:
    """A waiting-list offer: the places held, until when, and the one link that takes them."""
    places = int(text.detail.get("places", 1))
    if text.detail.get("free"):
        held = _("A free place has come up for you at %(event)s.", event=text.event_title)
    else:
        held = _.plural(
            "A place has come up for you at %(event)s.", "%(num)d places have come up for you at %(event)s.", places, event=text.event_title
        )
    until = ""
    if text.offer_expires_at is not None:
        moment = text.offer_expires_at
        at = str(get_datetime_format("medium", locale=_.formats)).format(
            format_time(moment, "HH:mm", locale=_.formats), format_skeleton("MMMEd", moment, locale=_.formats)
        )
        until = _("Held for you until %(time)s:", time=at)
    return [signature + held, until, text.link]


@dataclass(frozen=True, slots=True)
class _Refund:
    amount_pence: int
    currency: str
    method: str


def _refund(text: OrderText) -> _Refund:
    """The refund a message tells of, from its detail (payments queue it with the refund). A message queued before
    refunds carried their detail falls back to the order's refunded total, paid by card."""
    detail = text.detail
    if "amount_pence" in detail:
        return _Refund(int(detail["amount_pence"]), str(detail.get("currency", text.currency)), str(detail.get("method", "")))
    return _Refund(text.refunded_pence, text.currency, "stripe")


def _refund_timing(refund: _Refund, _: _Words) -> str:
    """When the money arrives: a card refund takes days; cash and card-terminal refunds are handed back at the door."""
    if refunded_at_the_door(refund.method):
        return _("The money is given back as arranged at the door.")
    return _("The money usually reaches your account within 5 to 10 working days.")


def _partners(text: OrderText) -> list[tuple[str, int]]:
    partners = [(str(p.get("name", "")), int(p.get("amount_pence", 0))) for p in text.detail.get("partners", ()) if p.get("name")]
    return sorted(partners, key=lambda partner: -partner[1])


def _thank_you_totals(text: OrderText, _: _Words, partners: Sequence[tuple[str, int]]) -> list[str]:
    """The event's totals (never other guests' names): free places funded and used, and what each partner raised."""
    currency = str(text.detail.get("currency", text.currency))
    funded = int(text.detail.get("free_places_funded", 0))
    used = int(text.detail.get("free_places_used", 0))
    lines = []
    if funded:
        lines.append(
            _.plural("Guests funded %(num)d free place; %(used)d taken.", "Guests funded %(num)d free places; %(used)d taken.", funded, used=used)
        )
    if partners:
        raised = i18n.comma(_.locale).join(f"{name} {_.money(amount, currency)}" for name, amount in partners)
        lines.append(_("Raised for our partners: %(partners)s", partners=raised))
    return lines


def _fit(lines: list[str], text: OrderText, _: _Words) -> list[str]:
    """A thank-you names the partners that fit in two segments, largest amounts first."""
    partners = _partners(text)
    while partners and segments("\n".join(lines).translate(_SPACES)) > MAX_SEGMENTS:
        partners = partners[:-1]
        lines = [lines[0], *_thank_you_totals(text, _, partners)]
    return lines
