"""Questions' rules: the dietary preset, a guest's answers checked (each problem naming its question), answers read
back, the cut-off, and the kitchen list's counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.i18n import Sentence
from events.questions import rules
from events.questions.rules import Asked, Given, Option, Stored
from events.questions.statuses import QuestionKind

SUPPER, DRINKS = 7, 8
DIET = Asked(1, QuestionKind.several_choices, "Dietary and allergen needs", rules.DIETARY.options, preset="dietary", door_flag=True)
COURSE = Asked(2, QuestionKind.one_choice, "Main course", (Option("lamb", "Lamb"), Option("aubergine", "Aubergine")), required=True)
ACCESS = Asked(3, QuestionKind.yes_no, "Do you need step-free access?", per_ticket=False)
MESSAGE = Asked(4, QuestionKind.text, "Anything else?", per_ticket=False)
DRINKS_ONLY = Asked(
    5, QuestionKind.one_choice, "Wine", (Option("red", "Red"), Option("white", "White")), required=True, ticket_types=frozenset({DRINKS})
)
QUESTIONS = [DIET, COURSE, ACCESS, MESSAGE]


def test_the_dietary_preset_covers_the_diets_the_14_uk_allergens_and_something_else_with_a_note() -> None:
    keys = [option.key for option in rules.DIETARY.options]
    assert keys[:5] == ["vegetarian", "vegan", "halal", "kosher", "gluten_free"]
    allergens = {
        "celery",
        "cereals_gluten",
        "crustaceans",
        "eggs",
        "fish",
        "lupin",
        "milk",
        "molluscs",
        "mustard",
        "tree_nuts",
        "peanuts",
        "sesame",
        "soya",
        "sulphites",
    }
    assert allergens <= set(keys) and len(allergens) == 14
    assert keys[-1] == "other" and rules.DIETARY.options[-1].takes_note
    assert len(set(keys)) == len(keys)  # stable keys, each once
    assert rules.DIETARY.kind == QuestionKind.several_choices and not rules.DIETARY.required and rules.DIETARY.door_flag
    # Stored and read back as they were, the note option included.
    assert rules.read_options(rules.options_json(rules.DIETARY.options)) == rules.DIETARY.options


def test_answers_are_stored_for_their_tickets_in_issue_order() -> None:
    checked = rules.check_answers(
        QUESTIONS,
        [SUPPER, SUPPER],
        [
            Given(1, 0, ["vegan", "peanuts"]),
            Given(1, 1, ["halal"]),
            Given(2, 0, "lamb"),
            Given(2, 1, "aubergine"),
            Given(3, None, "Yes"),
            Given(4, None, "  Two of us are coming by wheelchair taxi.  "),
        ],
    )
    assert checked.problems == {}
    assert Stored(1, 0, '["vegan", "peanuts"]') in checked.answers
    assert Stored(2, 1, "aubergine") in checked.answers
    assert Stored(3, None, "yes") in checked.answers
    assert Stored(4, None, "Two of us are coming by wheelchair taxi.") in checked.answers


def test_a_missing_required_answer_names_the_question_and_the_ticket() -> None:
    checked = rules.check_answers(QUESTIONS, [SUPPER, SUPPER], [Given(2, 0, "lamb")])
    assert checked.answers == [Stored(2, 0, "lamb")] and list(checked.problems) == ["answer_2_1"]
    assert checked.problems["answer_2_1"] == 'Please answer "Main course" for ticket 2.'
    # Optional questions left out are no problem; nor is a required one for a free place's claim.
    assert rules.check_answers(QUESTIONS, [SUPPER, SUPPER], [], require=False).problems == {}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Given(2, 0, "beef"), 'Choose one of the answers offered for "Main course".'),
        (Given(2, 0, ["lamb"]), 'Give one answer to "Main course".'),
        (Given(1, 0, "vegan"), 'Give the answers to "Dietary and allergen needs" as a list of choices.'),
        (Given(1, 0, ["vegan", "carnivore"]), 'Choose one of the answers offered for "Dietary and allergen needs".'),
        (Given(3, None, "maybe"), 'Answer "Do you need step-free access?" with yes or no.'),
        (Given(4, None, "a" * 501), 'Keep the answer to "Anything else?" to 500 characters.'),
        (Given(4, None, "bell\x07"), 'Write the answer to "Anything else?" on one line, without control characters.'),
        (Given(4, None, "two\nlines"), 'Write the answer to "Anything else?" on one line, without control characters.'),
        (Given(4, None, 12), 'Give the answer to "Anything else?" as text.'),
        (Given(1, 0, ["other"], note="x" * 201), 'Keep the note about "Dietary and allergen needs" to one line of 200 characters at most.'),
        (Given(1, 0, ["other"], note="two\nlines"), 'Keep the note about "Dietary and allergen needs" to one line of 200 characters at most.'),
        (Given(2, 0, "lamb", note="rare"), '"Main course" takes no note.'),
    ],
)
def test_a_wrong_answer_names_its_question(answer: Given, message: str) -> None:
    checked = rules.check_answers(QUESTIONS, [SUPPER], [answer, Given(2, 0, "lamb")] if answer.question != 2 else [answer])
    assert message in checked.problems.values(), checked.problems
    assert all(a.question != answer.question for a in checked.answers)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Given(99, None, "x"), "This event asks no question 99."),
        (Given(2, 5, "lamb"), "This order has no ticket 6."),
        (Given(3, 0, "yes"), '"Do you need step-free access?" is asked once per order: leave out ticket_index.'),
        (Given(5, 0, "red"), '"Wine" is not asked for ticket 1.'),
    ],
)
def test_an_answer_that_fits_no_question_or_ticket_says_where_it_was(answer: Given, message: str) -> None:
    checked = rules.check_answers([*QUESTIONS, DRINKS_ONLY], [SUPPER], [answer], require=False)
    assert checked.problems == {"answers[0]": message}


def test_a_ticket_index_may_be_left_out_when_one_ticket_is_asked() -> None:
    assert rules.check_answers(QUESTIONS, [SUPPER], [Given(2, None, "lamb")]).answers == [Stored(2, 0, "lamb")]
    two = rules.check_answers(QUESTIONS, [SUPPER, SUPPER], [Given(2, None, "lamb"), Given(2, 1, "lamb")])
    assert two.problems["answers[0]"] == 'Say which ticket the answer to "Main course" is for (ticket_index).'
    twice = rules.check_answers(QUESTIONS, [SUPPER], [Given(2, 0, "lamb"), Given(2, 0, "aubergine")])
    assert twice.problems == {"answer_2_0": '"Main course" is answered twice.'}


def test_a_question_limited_to_ticket_types_is_asked_only_of_those_tickets() -> None:
    asked = rules.slots([COURSE, DRINKS_ONLY, ACCESS], [SUPPER, DRINKS, SUPPER])
    assert [(slot.question.id, slot.ticket_index) for slot in asked] == [(3, None), (2, 0), (2, 1), (5, 1), (2, 2)]
    checked = rules.check_answers([COURSE, DRINKS_ONLY], [SUPPER, DRINKS], [Given(2, 0, "lamb"), Given(2, 1, "lamb")])
    assert checked.problems == {"answer_5_1": 'Please answer "Wine" for ticket 2.'}
    # A per-order question limited to a type is asked of an order with such a ticket only.
    wine_order = Asked(6, QuestionKind.yes_no, "Corkage?", per_ticket=False, ticket_types=frozenset({DRINKS}))
    assert rules.slots([wine_order], [SUPPER]) == [] and len(rules.slots([wine_order], [SUPPER, DRINKS])) == 1
    assert rules.slots(QUESTIONS, []) == []  # no ticket, no question (a donation alone)


def test_a_note_with_something_else_is_kept_and_ticks_it() -> None:
    checked = rules.check_answers([DIET], [SUPPER], [Given(1, 0, ["vegan"], note="No mushrooms, please")])
    [stored] = checked.answers
    decoded = rules.decode(QuestionKind.several_choices, stored.value)
    assert decoded.choices == ("vegan", "other") and decoded.note == "No mushrooms, please"
    assert rules.answer_text(DIET, stored.value) == "Vegan; Something else (tell us below): No mushrooms, please"
    # Choices are stored in the question's order, each once.
    [ordered] = rules.check_answers([DIET], [SUPPER], [Given(1, 0, ["peanuts", "vegan", "vegan"])]).answers
    assert rules.decode(QuestionKind.several_choices, ordered.value).choices == ("vegan", "peanuts")


def test_messages_translate_their_sentence_and_keep_the_question_apart() -> None:
    problem = rules.check_answers([COURSE], [SUPPER], []).problems["answer_2_0"]
    assert isinstance(problem, Sentence) and problem.msgid == rules.MISSING_FOR_TICKET and problem.values["question"] == "Main course"


def test_answers_close_the_set_number_of_hours_before_the_start() -> None:
    starts = datetime(2027, 8, 19, 18, tzinfo=timezone.utc)
    assert rules.answers_open(starts, 48, starts - timedelta(hours=48, seconds=1))
    assert not rules.answers_open(starts, 48, starts - timedelta(hours=48))
    assert rules.answers_open(starts, 0, starts - timedelta(seconds=1)) and not rules.answers_open(starts, 0, starts)
    assert rules.close_hours_problem(-1) and rules.close_hours_problem(None) and rules.close_hours_problem(48) is None


def test_the_kitchen_counts_each_option_and_who_did_not_answer() -> None:
    values = ['["vegetarian"]', '["vegetarian", "peanuts"]', '["halal"]', "[]", '{"choices": ["other"], "note": "no garlic"}', '["retired_key"]']
    counts = rules.count_answers(DIET, values, asked=8)
    by_key = {tally.key: tally.count for tally in counts.tallies}
    assert by_key["vegetarian"] == 2 and by_key["halal"] == 1 and by_key["peanuts"] == 1 and by_key["other"] == 1 and by_key["vegan"] == 0
    assert counts.answered == 4 and counts.unanswered == 4 and counts.notes == 1
    assert [tally.key for tally in counts.tallies] == [option.key for option in rules.DIETARY.options]  # the organiser's order, zeros too
    yes_no = rules.count_answers(ACCESS, ["yes", "no", "yes"], asked=3)
    assert [(t.key, t.count) for t in yes_no.tallies] == [("yes", 2), ("no", 1)]
    text = rules.count_answers(MESSAGE, ["Vegan cake please", ""], asked=5)
    assert text.tallies == () and text.answered == 1  # what was written is never counted or shown


@given(st.lists(st.lists(st.sampled_from([option.key for option in rules.DIETARY.options]), max_size=5), max_size=30))
def test_no_option_counts_more_guests_than_answered(answers: list[list[str]]) -> None:
    values = [rules.encode_choices(keys) for keys in answers]
    counts = rules.count_answers(DIET, values, asked=len(values))
    assert counts.answered == sum(1 for keys in answers if keys)
    assert all(0 <= tally.count <= counts.answered for tally in counts.tallies)
    assert counts.unanswered >= 0


def test_a_flag_at_the_door_is_for_an_answer_given() -> None:
    assert rules.flags_at_door(DIET, '["vegan"]') and not rules.flags_at_door(DIET, "[]")
    assert rules.flags_at_door(ACCESS, "yes") and not rules.flags_at_door(ACCESS, "no")


def test_an_organisers_question_is_checked_and_its_choices_keep_their_keys() -> None:
    draft = rules.Draft(kind="one_choice", label="Main course", options=("Lamb", "Aubergine"))
    assert rules.draft_problems(draft, [SUPPER]) == {}
    assert rules.draft_problems(rules.Draft(kind="one_choice", label="", options=("Lamb",)), [SUPPER]) == {
        "label": "Write the question.",
        "options": "Give at least two choices, one per line.",
    }
    assert "label" in rules.draft_problems(rules.Draft(kind="text", label="Two\nlines"), [SUPPER])
    assert rules.draft_problems(rules.Draft(kind="text", label="Q", ticket_types=(99,)), [SUPPER]) == {
        "ticket_types": "Choose ticket types of this event."
    }
    assert rules.draft_problems(rules.Draft(kind="one_choice", label="Q", options=("Tea", "tea")), [SUPPER]) == {"options": "Give each choice once."}
    first = rules.options_for(["Lamb", "Aubergine", "Gluten-free bread"])
    assert [o.key for o in first] == ["lamb", "aubergine", "gluten_free_bread"]
    second = rules.options_for(["Aubergine", "Lamb", "Fish", "سمك"], first)
    assert [o.key for o in second] == ["aubergine", "lamb", "fish", "choice"]  # kept keys stay; a label in Arabic gets one too
    assert rules.Ordering((1, 2, 3)).moved(3, "up") == (1, 3, 2) and rules.Ordering((1, 2, 3)).moved(1, "up") == (1, 2, 3)
