"""What an organiser's message may say, which wording each guest gets, whom it reaches and how, and what the form
reads: the pure rules of messages to guests."""

from __future__ import annotations

import pytest

from events.announcements import forms, rules
from events.announcements.forms import MessageForm
from events.announcements.rules import Draft, Guest, LanguageShare, Wording

MESSAGE = Wording("en", "The venue has changed", "We have moved to St Margaret's Hall.")
ARABIC = Wording("ar", "تغيّر مكان الحفل", "انتقلنا إلى قاعة سانت مارغريت.")
TYPES = {11, 12}


def draft(**changes: object) -> Draft:
    return Draft(**{"message": MESSAGE, "ticket_types": (), "versions": (ARABIC,), **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("guest", "words"),
    [("ar", ARABIC), ("en", MESSAGE), ("fr", MESSAGE), ("fa", MESSAGE), ("xx", MESSAGE)],
)
def test_a_guest_gets_the_version_in_their_language_else_the_message_as_written(guest: str, words: Wording) -> None:
    assert rules.wording_for(guest, draft()) == words


def test_a_message_written_in_arabic_is_what_arabic_guests_get() -> None:
    written_in_arabic = Draft(message=ARABIC, versions=(MESSAGE,))
    assert rules.wording_for("ar", written_in_arabic) == ARABIC and rules.wording_for("en", written_in_arabic) == MESSAGE
    assert rules.wording_for("fr", written_in_arabic) == ARABIC


def test_a_good_draft_has_no_problems() -> None:
    assert rules.draft_problems(rules.tidy(draft(ticket_types=(11,))), event_ticket_types=TYPES) == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"message": Wording("en", "", "Body")}, "subject"),
        ({"message": Wording("en", "Two\nlines", "Body")}, "subject"),
        ({"message": Wording("en", "x" * 201, "Body")}, "subject"),
        ({"message": Wording("en", "Subject", "\u200b\u200b")}, "body"),
        ({"message": Wording("en", "Subject", "nul \x00")}, "body"),
        ({"message": Wording("en", "Subject", "x" * 5001)}, "body"),
        ({"message": Wording("de", "Subject", "Body")}, "locale"),
        ({"ticket_types": (11, 99)}, "ticket_types"),
        ({"versions": (Wording("en", "Again", "In English"),)}, "versions.en.locale"),
        ({"versions": (ARABIC, ARABIC)}, "versions.ar.locale"),
        ({"versions": (Wording("de", "Betreff", "Text"),)}, "versions.de.locale"),
        ({"versions": (Wording("fr", "Sujet", ""),)}, "versions.fr.body"),
        ({"versions": (Wording("fr", "", "Texte"),)}, "versions.fr.subject"),
    ],
)
def test_each_problem_names_its_field(changes: dict[str, object], field: str) -> None:
    problems = rules.draft_problems(rules.tidy(draft(**changes)), event_ticket_types=TYPES)
    assert field in problems, problems


def test_the_longest_subject_and_message_pass() -> None:
    longest = draft(message=Wording("en", "s" * rules.SUBJECT_MAX, "b" * rules.BODY_MAX))
    assert rules.draft_problems(rules.tidy(longest), event_ticket_types=TYPES) == {}


def test_a_version_in_the_messages_own_language_says_so() -> None:
    problems = rules.draft_problems(draft(versions=(Wording("en", "Again", "In English"),)), event_ticket_types=TYPES)
    assert problems["versions.en.locale"] == "Your message is already in English: leave this version empty."


def test_tidying_keeps_one_kind_of_line_break_and_each_type_once() -> None:
    tidied = rules.tidy(draft(message=Wording("en", "  Subject  ", "\r\n Line one\r\nLine two\rLine three \n"), ticket_types=(12, 11, 12)))
    assert tidied.message == Wording("en", "Subject", "Line one\nLine two\nLine three")
    assert tidied.ticket_types == (12, 11)


def test_the_audience_counts_guests_by_channel_and_language() -> None:
    guests = [
        Guest("en", "email"),
        Guest("en", "email"),
        Guest("ar", "email"),
        Guest("fr", "sms"),
        Guest("fa", "whatsapp"),
        Guest("ar", ""),  # a door sale without contact details
        Guest("xx", "email"),  # a language we do not have reads English
    ]
    audience = rules.audience(guests, draft(), text_characters=400)
    assert (audience.recipients, audience.by_email, audience.by_text, audience.unreachable) == (6, 4, 2, 1)
    assert not audience.texts_cut
    assert audience.languages == (
        LanguageShare("en", 3, own_language=True),
        LanguageShare("ar", 1, own_language=True),
        LanguageShare("fr", 1, own_language=False),
        LanguageShare("fa", 1, own_language=False),
    )


def test_the_organiser_is_told_when_a_text_guest_gets_only_the_start_of_the_words() -> None:
    long = draft(message=Wording("en", "Subject", "x" * 401))
    assert rules.audience([Guest("fr", "sms")], long, text_characters=400).texts_cut
    assert not rules.audience([Guest("fr", "email")], long, text_characters=400).texts_cut
    # The Arabic guest gets the short Arabic version by text; the long English message goes to no text guest.
    assert not rules.audience([Guest("ar", "whatsapp")], long, text_characters=400).texts_cut


@pytest.mark.parametrize(("seconds", "minutes"), [(1, 1), (60, 1), (61, 2), (3599, 60)])
def test_the_limit_says_when_another_message_can_go(seconds: int, minutes: int) -> None:
    per_event = rules.limit_reached(per_event=True, retry_after_seconds=seconds)
    assert f"{rules.PER_EVENT} messages this hour" in per_event and f"another in {minutes} minutes" in per_event
    assert f"{rules.PER_ORGANISATION} messages to guests today" in rules.limit_reached(per_event=False, retry_after_seconds=seconds)


def test_the_form_reads_into_a_draft_with_only_the_versions_written() -> None:
    form = MessageForm(
        subject="Subject", body="Body", locale="en", audience="types", ticket_types=["11", " ", "12"], subject_ar=ARABIC.subject, body_ar=ARABIC.body
    )
    read, problems = forms.draft_of(form)
    assert problems == {}
    assert read == Draft(Wording("en", "Subject", "Body"), (11, 12), (ARABIC,))


def test_the_form_for_every_guest_ignores_ticked_types_and_a_half_written_version_is_kept_to_be_refused() -> None:
    read, problems = forms.draft_of(MessageForm(subject="S", body="B", audience="all", ticket_types=["11"], subject_fr="Sujet"))
    assert problems == {} and read.ticket_types == () and read.versions == (Wording("fr", "Sujet", ""),)
    assert "versions.fr.body" in rules.draft_problems(rules.tidy(read), event_ticket_types=TYPES)


def test_the_form_asks_for_a_type_when_only_some_guests_are_chosen_and_refuses_a_type_that_is_not_a_number() -> None:
    _, problems = forms.draft_of(MessageForm(subject="S", body="B", audience="types"))
    assert problems == {"ticket_types": rules.NO_TYPE_CHOSEN}
    read, _ = forms.draft_of(MessageForm(subject="S", body="B", audience="types", ticket_types=["eleven"]))
    assert "ticket_types" in rules.draft_problems(read, event_ticket_types=TYPES)


@pytest.mark.parametrize(
    ("problem", "field"),
    [("subject", "subject"), ("ticket_types", "ticket_types"), ("versions.ar.body", "body_ar"), ("versions.en.locale", "subject_en")],
)
def test_a_problem_shows_next_to_its_form_field(problem: str, field: str) -> None:
    assert forms.form_field(problem) == field
