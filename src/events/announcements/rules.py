"""What an organiser's message to an event's guests may say, which wording each guest gets, who is told how, and how
often an event's guests may be written to. Pure: the service reads and writes, this module decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from events import i18n, text
from events.i18n import N_, Sentence

SUBJECT_MAX = 200  # the subject's column (Announcement.subject), and an email subject a phone shows whole
BODY_MAX = 5000  # about two pages: a message, not a newsletter
# Guests are written to a few times at most: a mistake, then its correction, then the news. More than that in an hour
# (per event), or in a day across the organisation's events, is refused, so a stolen token or a stuck form cannot
# flood guests, nor get the organisation's sending address marked as spam.
PER_EVENT = 3
PER_EVENT_WINDOW_SECONDS = 3600
PER_ORGANISATION = 10
PER_ORGANISATION_WINDOW_SECONDS = 24 * 3600
# The languages a version may be given in (the guests' languages), as the organiser's form names them.
LANGUAGES = {
    "en": N_("English"),
    "ar": N_("Arabic (العربية)"),
    "fr": N_("French (français)"),
    "fa": N_("Farsi (فارسی)"),
}
SUBJECT_TOO_LONG = Sentence(N_("Keep the subject to %(max)d characters."), max=SUBJECT_MAX)
BODY_TOO_LONG = Sentence(N_("Keep the message to %(max)d characters."), max=BODY_MAX)
UNKNOWN_LANGUAGE = N_("Choose one of the languages offered.")
OTHER_EVENTS_TYPES = N_("Choose ticket types of this event.")
NO_TYPE_CHOSEN = N_("Tick at least one ticket type, or choose every guest.")


@dataclass(frozen=True, slots=True)
class Wording:
    """A subject and a message in one language."""

    locale: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Draft:
    """What the organiser wrote: their message (in the language they wrote it in), the ticket types whose holders it
    is for (none: every guest) and their versions in other languages."""

    message: Wording
    ticket_types: tuple[int, ...] = ()
    versions: tuple[Wording, ...] = ()


def tidy(draft: Draft) -> Draft:
    """The draft as it is kept: words without surrounding space and with one kind of line break, each ticket type
    once (in order)."""

    def tidy_wording(wording: Wording) -> Wording:
        return Wording(wording.locale, wording.subject.strip(), wording.body.replace("\r\n", "\n").replace("\r", "\n").strip())

    return replace(
        draft,
        message=tidy_wording(draft.message),
        ticket_types=tuple(dict.fromkeys(draft.ticket_types)),
        versions=tuple(tidy_wording(version) for version in draft.versions),
    )


def draft_problems(draft: Draft, *, event_ticket_types: Collection[int]) -> dict[str, str]:
    """What is wrong with a (tidied) draft, each named by its field as the API names it: ``subject``, ``body``,
    ``locale``, ``ticket_types``, ``versions.<locale>.subject`` (.body, .locale). Empty when it can be sent."""
    problems = _wording_problems(draft.message, "")
    if draft.message.locale not in i18n.SUPPORTED_LOCALES:
        problems["locale"] = UNKNOWN_LANGUAGE
    if any(type_id not in event_ticket_types for type_id in draft.ticket_types):
        problems["ticket_types"] = OTHER_EVENTS_TYPES
    seen = Counter(version.locale for version in draft.versions)
    for version in draft.versions:
        where = f"versions.{version.locale}."
        if version.locale not in i18n.SUPPORTED_LOCALES:
            problems[where + "locale"] = UNKNOWN_LANGUAGE
        elif version.locale == draft.message.locale:
            problems[where + "locale"] = Sentence(
                N_("Your message is already in %(language)s: leave this version empty."), language=LANGUAGES[version.locale]
            )
        elif seen[version.locale] > 1:
            problems[where + "locale"] = N_("Give one version per language.")
        problems |= _wording_problems(version, where)
    return problems


def _wording_problems(wording: Wording, where: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if (problem := text.line_problem(wording.subject)) is not None:
        problems[where + "subject"] = problem
    elif len(wording.subject) > SUBJECT_MAX:
        problems[where + "subject"] = SUBJECT_TOO_LONG
    if (problem := text.text_problem(wording.body)) is not None:
        problems[where + "body"] = problem
    elif len(wording.body) > BODY_MAX:
        problems[where + "body"] = BODY_TOO_LONG
    return problems


def wording_for(guest_locale: str, draft: Draft) -> Wording:
    """The words a guest gets: the organiser's version in the guest's language, else the message as written (which
    is what a guest whose language it is written in gets too). The email or text around it is in the guest's
    language either way."""
    return next((version for version in draft.versions if version.locale == guest_locale), draft.message)


@dataclass(frozen=True, slots=True)
class Guest:
    """One order with a valid ticket of a chosen type: its language, and how its guest is reached (``channel`` is
    "email", "sms" or "whatsapp"; "" when the order has no email address nor a mobile number, e.g. a door sale)."""

    locale: str
    channel: str


@dataclass(frozen=True, slots=True)
class LanguageShare:
    """How many guests who read ``locale`` get the message, and whether in their own language (a version, or the
    message written in it) or as written with the event's details in their language."""

    locale: str
    guests: int
    own_language: bool


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a message reaches: one message per order, by email or text; the orders it cannot reach; by language."""

    recipients: int
    by_email: int
    by_text: int
    unreachable: int
    languages: tuple[LanguageShare, ...] = ()
    texts_cut: bool = False  # a guest reached by text gets words longer than a text carries


def audience(guests: Sequence[Guest], draft: Draft, *, text_characters: int) -> Audience:
    """Who of ``guests`` the draft reaches, how, and in which language; whether the words some get by text are longer
    than the ``text_characters`` a text carries of them."""
    reached = [guest for guest in guests if guest.channel]
    texted = [guest for guest in reached if guest.channel != "email"]
    by_locale = Counter(guest.locale if guest.locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE for guest in reached)
    return Audience(
        recipients=len(reached),
        by_email=sum(1 for guest in reached if guest.channel == "email"),
        by_text=len(texted),
        unreachable=len(guests) - len(reached),
        languages=tuple(
            LanguageShare(locale, by_locale[locale], own_language=wording_for(locale, draft).locale == locale)
            for locale in i18n.SUPPORTED_LOCALES
            if by_locale[locale]
        ),
        texts_cut=any(len(wording_for(guest.locale, draft).body) > text_characters for guest in texted),
    )


def limit_reached(*, per_event: bool, retry_after_seconds: int) -> Sentence:
    """Why a message cannot go now, and when it can."""
    minutes = max(1, -(-retry_after_seconds // 60))
    if per_event:
        return Sentence(
            N_(
                "This event's guests have been sent %(limit)d messages this hour, the most we send in an hour so that "
                "guests are not flooded. You can send another in %(minutes)d minutes."
            ),
            limit=PER_EVENT,
            minutes=minutes,
        )
    return Sentence(
        N_("Your organisation has sent %(limit)d messages to guests today, the most we send in a day. You can send another in %(minutes)d minutes."),
        limit=PER_ORGANISATION,
        minutes=minutes,
    )
