"""The organiser's side of questions: the Questions page (a ready-made question, an own one, editing, ordering,
removing, the cut-off, each in the audit log), the answers on the attendee list and the order page, and the door
search's flag (never the answer)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import httpx

from events.audit.tables import AuditEntry
from events.questions.tables import Answer, Question, QuestionTicketType
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order, ticket_type_id

PAGE = "/manage/events/supper-club/questions"


async def questions() -> list[dict]:  # type: ignore[type-arg]
    return await Question.select(Question.id, Question.label, Question.kind, Question.position, Question.removed_at).order_by(Question.position)


async def test_an_organiser_sets_up_questions_on_the_questions_page(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(
        now,
        ticket_types=[
            {"name": "Supper", "price_pence": 3000, "max_per_order": 6},
            {"name": "Supper with wine", "price_pence": 4000, "max_per_order": 6},
        ],
    )
    wine = await ticket_type_id(client, slug, "Supper with wine")
    await sign_in_organiser(client)
    page = await client.get(PAGE)
    assert page.status_code == 200 and 'aria-current="page">Questions</a>' in page.text
    assert "Add “Dietary and allergen needs”" in page.text

    added = await post_form(client, f"{PAGE}/preset", {"preset": "dietary"}, page=PAGE)
    assert added.status_code == 303 and "notice=added" in added.headers["location"]
    assert "Add “Dietary and allergen needs”" not in (await client.get(PAGE)).text  # added once

    # An own question with mistakes comes back with a summary naming each field.
    refused = await post_form(client, PAGE, {"kind": "one_choice", "label": "", "options": "Red", "asked": "per_ticket"}, page=PAGE)
    assert refused.status_code == 422
    assert '<a href="#label">Question: Write the question.</a>' in refused.text
    assert '<a href="#options">Choices: Give at least two choices, one per line.</a>' in refused.text
    form = {"kind": "one_choice", "label": "Red or white?", "options": "Red\nWhite", "required": "on", "asked": "per_ticket", f"type_{wine}": "on"}
    assert (await post_form(client, PAGE, form, page=PAGE)).status_code == 303
    [dietary, wine_question] = await questions()
    assert wine_question["label"] == "Red or white?" and wine_question["position"] == 1
    assert [row["ticket_type"] for row in await QuestionTicketType.select(QuestionTicketType.ticket_type)] == [wine]

    # Edited: a choice added, the old ones keep their keys; moved to the top; the dietary one removed.
    edit_page = f"{PAGE}/{wine_question['id']}/edit"
    edited = await post_form(client, edit_page, {**form, "options": "Red\nWhite\nRosé"}, page=edit_page)
    assert edited.status_code == 303
    options = (await Question.select(Question.options).where(Question.id == wine_question["id"]).first())["options"]
    assert re.findall(r'"key": "([^"]+)"', options) == ["red", "white", "rose"]
    assert (await post_form(client, f"{PAGE}/{wine_question['id']}/move", {"direction": "up"}, page=PAGE)).status_code == 303
    assert [q["label"] for q in await questions()] == ["Red or white?", "Dietary and allergen needs"]
    assert (await post_form(client, f"{PAGE}/{dietary['id']}/remove", {}, page=PAGE)).status_code == 303
    assert [q["label"] for q in await questions()] == ["Red or white?"]  # unanswered: gone altogether

    refused_hours = await post_form(client, f"{PAGE}/cut-off", {"close_hours": "soon"}, page=PAGE)
    assert refused_hours.status_code == 422 and "Give a whole number of hours" in refused_hours.text
    assert (await post_form(client, f"{PAGE}/cut-off", {"close_hours": "72"}, page=PAGE)).status_code == 303
    actions = [
        row["action"]
        for row in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
        if row["action"].startswith(("question", "event.answers"))
    ]
    assert actions == ["question.added", "question.added", "question.changed", "question.moved", "question.removed", "event.answers_close_changed"]
    # Another event's question is not this event's to change.
    other = await make_event(now, slug="other-night", title="Other Night")
    assert (await post_form(client, f"/manage/events/{other}/questions/{wine_question['id']}/remove", {}, page=PAGE)).status_code == 404
    assert await Question.exists().where(Question.id == wine_question["id"])


async def test_a_question_with_answers_keeps_its_kind_and_its_answers_when_removed(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    question = (await client.post(f"/api/events/{slug}/questions", json={"kind": "yes_no", "label": "Step-free access?"}, headers=organiser)).json()
    created = (await place_order(client, slug, answers=[{"question": question["id"], "value": "yes"}])).json()
    await pay_with_test_page(client, created)
    await sign_in_organiser(client)
    edit_page = f"{PAGE}/{question['id']}/edit"
    refused = await post_form(client, edit_page, {"kind": "text", "label": "Step-free access?", "asked": "per_ticket"}, page=edit_page)
    assert refused.status_code == 409 and "its kind cannot change" in refused.text
    assert (await post_form(client, f"{PAGE}/{question['id']}/remove", {}, page=PAGE)).status_code == 303
    [kept] = await questions()
    assert kept["removed_at"] is not None and await Answer.count() == 1
    assert "Step-free access?" not in (await client.get(PAGE)).text  # no longer asked
    assert (await client.get(f"/api/events/{slug}/questions", headers=organiser)).json() == []
    assert (await place_order(client, slug, answers=[{"question": question["id"], "value": "yes"}])).status_code == 422


async def test_the_attendee_list_and_the_order_page_show_the_answers_and_the_door_only_a_flag(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    dietary = (await client.post(f"/api/events/{slug}/questions", json={"preset": "dietary"}, headers=organiser)).json()
    course = (
        await client.post(
            f"/api/events/{slug}/questions", json={"kind": "one_choice", "label": "Main course", "options": ["Lamb", "Aubergine"]}, headers=organiser
        )
    ).json()
    answers = [
        {"question": dietary["id"], "ticket_index": 1, "value": ["peanuts", "other"], "note": "=cmd|' /C calc'!A0"},
        {"question": course["id"], "ticket_index": 0, "value": "lamb"},
    ]
    created = (await place_order(client, slug, quantity=2, buyer={"name": "Amal Haddad", "email": "amal@example.org"}, answers=answers)).json()
    await pay_with_test_page(client, created)
    await sign_in_organiser(client)

    attendees = await client.get(f"/manage/events/{slug}/attendees.csv")
    rows = list(csv.reader(io.StringIO(attendees.text)))
    assert rows[0][-2:] == ["Dietary and allergen needs", "Main course"] and rows[0][-3] == "checked_in_at"
    assert sorted(row[-2:] for row in rows[1:]) == [["", "Lamb"], ["Peanut allergy; Something else (tell us below): =cmd|' /C calc'!A0", ""]]

    order_page = await client.get(f"/manage/orders/{created['reference']}")
    text = " ".join(order_page.text.split())
    assert "Answers to the questions" in text
    assert '<td dir="auto">Main course</td><td dir="auto">Lamb</td>' in text
    assert "Peanut allergy; Something else (tell us below): =cmd|&#39; /C calc&#39;!A0" in text

    door = await door_team(now, slug=slug)
    hits = (await client.get(f"/api/checkin/events/{slug}/search", params={"q": "Amal"}, headers=door)).json()
    assert sorted(hit["notes"] for hit in hits) == [[], ["Dietary note"]]  # the second guest's, and only a flag
    assert "Peanut" not in str(hits) and "calc" not in str(hits)
