"""Questions through the API: an organiser sets them up, and an order's answers are checked before anything is held
(a 422 naming the question) and recorded with the order, ticket by ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event
from events.orders.tables import Order
from events.questions.tables import Answer
from tests.factories import make_event
from tests.support.orders import place_order, ticket_type_id
from tests.support.questions import add_course, add_dietary, add_question


async def answers_of(reference: str) -> set[tuple[str, int | None, str]]:
    rows = await Answer.select(Answer.question.label, Answer.ticket_index, Answer.value).where(Answer.order_id.reference == reference)
    return {(row["question.label"], row["ticket_index"], row["value"]) for row in rows}


async def places_taken(slug: str) -> int:
    return (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"]


async def test_an_organiser_adds_the_dietary_preset_and_their_own_question(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    assert dietary["kind"] == "several_choices" and dietary["label"] == "Dietary and allergen needs" and dietary["preset"] == "dietary"
    assert dietary["door_flag"] is True and dietary["required"] is False and dietary["per_ticket"] is True
    keys = [option["key"] for option in dietary["options"]]
    assert {"vegetarian", "vegan", "halal", "kosher", "gluten_free", "peanuts", "tree_nuts", "sesame", "other"} <= set(keys)
    again = await client.post(f"/api/events/{slug}/questions", json={"preset": "dietary"}, headers=organiser)
    assert again.status_code == 409 and again.json()["error"] == "question_exists"  # asked once
    course = await add_course(client, slug, organiser)
    assert [option["key"] for option in course["options"]] == ["lamb", "aubergine"] and course["door_flag"] is False
    listed = (await client.get(f"/api/events/{slug}/questions", headers=organiser)).json()
    assert [(q["label"], q["position"], q["answers"]) for q in listed] == [("Dietary and allergen needs", 0, 0), ("Main course", 1, 0)]
    assert await AuditEntry.count().where(AuditEntry.action == "question.added") == 2


async def test_a_question_that_breaks_a_rule_is_refused_naming_the_field(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    refused = await client.post(
        f"/api/events/{slug}/questions", json={"kind": "one_choice", "label": "Main course", "options": ["Lamb"]}, headers=organiser
    )
    assert refused.status_code == 422 and refused.json()["fields"] == {"options": "Give at least two choices, one per line."}
    no_kind = await client.post(f"/api/events/{slug}/questions", json={"label": "Anything else?"}, headers=organiser)
    assert no_kind.status_code == 422 and "kind" in no_kind.json()["fields"]
    other_event = await client.post(
        f"/api/events/{slug}/questions", json={"kind": "text", "label": "Q", "ticket_types": [999_999]}, headers=organiser
    )
    assert other_event.status_code == 422 and "ticket_types" in other_event.json()["fields"]
    assert (await client.get(f"/api/events/{slug}/questions", headers=organiser)).json() == []
    # Guests cannot set questions up.
    assert (await client.post(f"/api/events/{slug}/questions", json={"preset": "dietary"})).status_code == 401


async def test_required_and_optional_answers_are_recorded_ticket_by_ticket(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    access = await add_question(client, slug, organiser, kind="yes_no", label="Do you need step-free access?", per_ticket=False)
    answers: list[dict[str, Any]] = [
        {"question": course["id"], "ticket_index": 0, "value": "lamb"},
        {"question": course["id"], "ticket_index": 1, "value": "aubergine"},
        {"question": dietary["id"], "ticket_index": 1, "value": ["vegan", "other"], "note": "No mushrooms"},
        {"question": access["id"], "value": "yes"},
    ]
    created = await place_order(client, slug, quantity=2, answers=answers)
    assert created.status_code == 201, created.text
    assert await answers_of(created.json()["reference"]) == {
        ("Main course", 0, "lamb"),
        ("Main course", 1, "aubergine"),
        ("Dietary and allergen needs", 1, '{"choices": ["vegan", "other"], "note": "No mushrooms"}'),
        ("Do you need step-free access?", None, "yes"),
    }
    listed = {q["label"]: q["answers"] for q in (await client.get(f"/api/events/{slug}/questions", headers=organiser)).json()}
    assert listed == {"Dietary and allergen needs": 1, "Main course": 2, "Do you need step-free access?": 1}


async def test_a_missing_required_answer_is_a_422_naming_the_question_and_nothing_is_held(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    course = await add_course(client, slug, organiser)
    before = await places_taken(slug)
    missing = await place_order(client, slug, quantity=2, answers=[{"question": course["id"], "ticket_index": 0, "value": "lamb"}])
    assert missing.status_code == 422
    body = missing.json()
    assert body["error"] == "invalid" and body["detail"] == 'Please answer "Main course" for ticket 2.'
    assert body["fields"] == {f"answer_{course['id']}_1": 'Please answer "Main course" for ticket 2.'}
    none_at_all = await place_order(client, slug, quantity=1)
    assert none_at_all.status_code == 422 and none_at_all.json()["detail"] == 'Please answer "Main course" for ticket 1.'
    assert await Order.count() == 0 and await Answer.count() == 0 and await places_taken(slug) == before


async def test_a_bad_choice_or_a_wrong_type_is_a_422_naming_the_question(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    course = await add_course(client, slug, organiser)
    dietary = await add_dietary(client, slug, organiser)
    cases = [
        ([{"question": course["id"], "value": "beef"}], 'Choose one of the answers offered for "Main course".'),
        ([{"question": course["id"], "value": ["lamb"]}], 'Give one answer to "Main course".'),
        (
            [{"question": course["id"], "value": "lamb"}, {"question": dietary["id"], "value": "vegan"}],
            'Give the answers to "Dietary and allergen needs" as a list of choices.',
        ),
        (
            [{"question": course["id"], "value": "lamb"}, {"question": dietary["id"], "value": ["paleo"]}],
            'Choose one of the answers offered for "Dietary and allergen needs".',
        ),
        ([{"question": course["id"], "value": "lamb"}, {"question": 987_654, "value": "x"}], "This event asks no question 987654."),
        ([{"question": course["id"], "value": "lamb", "ticket_index": 3}], "This order has no ticket 4."),
    ]
    for answers, message in cases:
        refused = await place_order(client, slug, quantity=1, answers=answers)
        assert refused.status_code == 422, (answers, refused.text)
        assert message in refused.json()["fields"].values(), (answers, refused.json())
    # Control characters are refused by the body's own checks, naming the field.
    bell = await place_order(client, slug, quantity=1, answers=[{"question": course["id"], "value": "lamb\x07"}])
    assert bell.status_code == 422 and "answers[0].value" in bell.json()["fields"]
    assert await Order.count() == 0 and await Answer.count() == 0


async def test_a_question_limited_to_a_ticket_type_is_asked_only_with_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(
        now,
        ticket_types=[
            {"name": "Supper", "price_pence": 3000, "max_per_order": 6},
            {"name": "Supper with wine", "price_pence": 4000, "max_per_order": 6},
        ],
    )
    supper, wine = await ticket_type_id(client, slug, "Supper"), await ticket_type_id(client, slug, "Supper with wine")
    red_or_white = await add_question(
        client, slug, organiser, kind="one_choice", label="Red or white?", options=["Red", "White"], required=True, ticket_types=[wine]
    )
    supper_only = await place_order(client, slug, quantity=2, type_name="Supper")
    assert supper_only.status_code == 201, supper_only.text  # not asked of supper tickets
    body = {
        "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
        "items": [{"ticket_type": supper, "quantity": 1}, {"ticket_type": wine, "quantity": 1}],
    }
    refused = await client.post(f"/api/events/{slug}/orders", json=body)
    assert refused.status_code == 422 and refused.json()["detail"] == 'Please answer "Red or white?" for ticket 2.'
    wrong_ticket = await client.post(
        f"/api/events/{slug}/orders", json={**body, "answers": [{"question": red_or_white["id"], "ticket_index": 0, "value": "red"}]}
    )
    assert wrong_ticket.status_code == 422 and '"Red or white?" is not asked for ticket 1.' in wrong_ticket.json()["fields"].values()
    placed = await client.post(f"/api/events/{slug}/orders", json={**body, "answers": [{"question": red_or_white["id"], "value": "red"}]})
    assert placed.status_code == 201, placed.text
    assert await answers_of(placed.json()["reference"]) == {("Red or white?", 1, "red")}
