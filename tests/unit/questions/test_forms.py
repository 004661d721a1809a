"""The questions' forms: a guest's answers read from a form (checkboxes each with a name of its own) and shown again,
and an organiser's question read from the set-up form."""

from __future__ import annotations

from events.questions import forms, rules
from events.questions.rules import Asked, Given, Option, Stored
from events.questions.statuses import QuestionKind

DIET = Asked(1, QuestionKind.several_choices, "Dietary and allergen needs", rules.DIETARY.options)
COURSE = Asked(2, QuestionKind.one_choice, "Main course", (Option("lamb", "Lamb"), Option("aubergine", "Aubergine")))
ACCESS = Asked(3, QuestionKind.yes_no, "Step-free access?", per_ticket=False)


def test_a_guests_answers_are_read_slot_by_slot() -> None:
    asked = rules.slots([DIET, COURSE, ACCESS], [7, 7])
    form = {
        "answer_1_0.vegan": "on",
        "answer_1_0.peanuts": "on",
        "answer_1_1--note": "No mushrooms",
        "answer_2_1": "aubergine",
        "answer_3": "no",
        "answer_9": "not a question of this event",
        "name": "Amal",
    }
    assert forms.given_from_form(form, asked) == [
        Given(3, None, "no", where="answer_3"),
        Given(1, 0, ["vegan", "peanuts"], "", where="answer_1_0"),
        Given(1, 1, [], "No mushrooms", where="answer_1_1"),
        Given(2, 1, "aubergine", where="answer_2_1"),
    ]


def test_stored_answers_fill_the_form_again() -> None:
    asked = rules.slots([DIET, COURSE, ACCESS], [7])
    stored = [Stored(1, 0, rules.encode_choices(["halal", "other"], "no garlic")), Stored(2, 0, "lamb"), Stored(3, None, "yes")]
    values = forms.form_values(asked, stored)
    assert values == {"answer_1_0.halal": "on", "answer_1_0.other": "on", "answer_1_0--note": "no garlic", "answer_2_0": "lamb", "answer_3": "yes"}
    # Read back, they are the answers stored (in the order asked: the order's question first).
    assert rules.check_answers([DIET, COURSE, ACCESS], [7], forms.given_from_form(values, asked)).answers == [stored[2], stored[0], stored[1]]


def test_the_buy_forms_fields_are_carried_through_the_questions_step_but_not_its_token_or_answers() -> None:
    form = {"quantity_7": "2", "name": "Amal", "_csrf_token": "t", "answer_2_0": "lamb", "answers_step": "1", "gift_aid": "yes"}
    assert forms.carried_fields(form) == [("quantity_7", "2"), ("name", "Amal"), ("gift_aid", "yes")]


def test_an_organisers_question_form_is_read_and_shown_again() -> None:
    form = {
        "kind": "one_choice",
        "label": "Main course",
        "options": "Lamb\r\n\r\nAubergine\r\n",
        "required": "on",
        "asked": "per_order",
        "type_8": "on",
    }
    draft = forms.draft_from_form(form, [7, 8])
    assert draft == rules.Draft(
        "one_choice", "Main course", "", ("Lamb", "Aubergine"), required=True, per_ticket=False, door_flag=False, ticket_types=(8,)
    )
    assert forms.draft_form(draft) == {
        "kind": "one_choice",
        "label": "Main course",
        "help_text": "",
        "options": "Lamb\nAubergine",
        "required": "on",
        "asked": "per_order",
        "door_flag": "",
        "type_8": "on",
    }
