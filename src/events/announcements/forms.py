"""The organiser's "Message guests" form: its fields, read into a draft, and where each problem shows on it. Pure."""

from __future__ import annotations

import msgspec

from events import i18n
from events.announcements.rules import NO_TYPE_CHOSEN, Draft, Wording

EVERYONE = "all"
CHOSEN_TYPES = "types"
BAD_TYPE = -1  # a ticket type field that is not a number: no event has it, so the rules refuse it


class MessageForm(msgspec.Struct):
    """The form as posted: the message, its language, who it is for and a version per language (``subject_ar``,
    ``body_ar``, ...). ``send_token`` is the confirmation page's, so a form sent twice sends once; ``step`` is
    "edit" when the organiser goes back from the confirmation to change the message."""

    subject: str = ""
    body: str = ""
    locale: str = i18n.DEFAULT_LOCALE
    audience: str = EVERYONE
    ticket_types: list[str] = []
    subject_en: str = ""
    body_en: str = ""
    subject_ar: str = ""
    body_ar: str = ""
    subject_fr: str = ""
    body_fr: str = ""
    subject_fa: str = ""
    body_fa: str = ""
    send_token: str = ""
    step: str = ""

    def version(self, locale: str) -> tuple[str, str]:
        return getattr(self, f"subject_{locale}", ""), getattr(self, f"body_{locale}", "")


def draft_of(form: MessageForm) -> tuple[Draft, dict[str, str]]:
    """The draft the form describes, and the problems only the form can have (who it is for) by form field."""
    problems: dict[str, str] = {}
    ticket_types: tuple[int, ...] = ()
    if form.audience == CHOSEN_TYPES:
        ticket_types = tuple(int(value) if value.strip().isdigit() else BAD_TYPE for value in form.ticket_types if value.strip())
        if not ticket_types:
            problems["ticket_types"] = NO_TYPE_CHOSEN
    versions = tuple(
        Wording(locale, subject, body)
        for locale in i18n.SUPPORTED_LOCALES
        for subject, body in [form.version(locale)]
        if subject.strip() or body.strip()
    )
    return Draft(Wording(form.locale, form.subject, form.body), ticket_types, versions), problems


def form_field(problem: str) -> str:
    """The form field a draft's problem (named as the API names it) belongs to: ``versions.ar.body`` is ``body_ar``;
    a version in the message's own language is a problem with its subject field."""
    if problem.startswith("versions."):
        _, locale, field = problem.split(".", 2)
        return f"{'subject' if field == 'locale' else field}_{locale}"
    return problem


def form_values(form: MessageForm) -> dict[str, object]:
    """The form's fields as the page fills them in again."""
    return msgspec.structs.asdict(form)
