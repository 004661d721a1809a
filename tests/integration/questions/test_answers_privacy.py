"""Answers are personal data (dietary and health needs among them): a guest's data export includes them, and they
are erased with the rest, on request and by the worker after the event."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.orders.tables import Order
from events.privacy import service as privacy
from events.questions.tables import Answer, Question
from tests.factories import make_event
from tests.integration.privacy.test_guest_data import ended
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order
from tests.support.questions import add_course, add_dietary


async def bought_with_answers(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, name: str, email: str) -> dict:  # type: ignore[type-arg]
    dietary, course = (await client.get(f"/api/events/{slug}/questions", headers=organiser)).json()
    answers = [
        {"question": course["id"], "ticket_index": 0, "value": "lamb"},
        {"question": dietary["id"], "ticket_index": 0, "value": ["milk", "other"], "note": "Coeliac too"},
    ]
    created = (await place_order(client, slug, quantity=1, buyer={"name": name, "email": email}, answers=answers)).json()
    await pay_with_test_page(client, created)
    return created


async def test_a_guests_export_includes_their_answers_and_erasing_them_deletes_them(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    await add_dietary(client, slug, organiser)
    await add_course(client, slug, organiser)
    amal = await bought_with_answers(client, organiser, slug, "Amal Haddad", "amal@example.org")
    yusuf = await bought_with_answers(client, organiser, slug, "Yusuf Karimi", "yusuf@example.net")
    await sign_in_organiser(client)

    export = await post_form(client, "/manage/guests/export", {"contact": "amal@example.org", "orders": [amal["reference"]]}, page="/manage/guests")
    [order] = export.json()["orders"]
    assert order["answers"] == [
        {"question": "Dietary and allergen needs", "ticket": 1, "answer": "Milk allergy; Something else (tell us below): Coeliac too"},
        {"question": "Main course", "ticket": 1, "answer": "Lamb"},
    ]

    erased = await post_form(
        client, "/manage/guests/erase", {"contact": "amal@example.org", "orders": [amal["reference"]], "confirm": "yes"}, page="/manage/guests"
    )
    assert erased.status_code == 200 and "2 answers to events&#39; questions were deleted." in erased.text
    assert await Answer.count().where(Answer.order_id.reference == amal["reference"]) == 0
    assert await Answer.count().where(Answer.order_id.reference == yusuf["reference"]) == 2  # another guest's stay
    kitchen = (await client.get(f"/api/events/{slug}/questions/summary", headers=organiser)).json()
    assert kitchen["guests"] == 2 and kitchen["questions"][0]["answered"] == 1  # the erased guest still eats, unanswered


async def test_the_worker_erases_answers_after_the_event_with_the_rest(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    await bought_with_answers(client, organiser, slug, "Amal Haddad", "amal@example.org")
    # A question removed once answered is kept with its answers until they go.
    removed = await client.get(f"/api/events/{slug}/questions", headers=organiser)
    assert len(removed.json()) == 2
    await sign_in_organiser(client)
    await post_form(client, f"/manage/events/{slug}/questions/{course['id']}/remove", {}, page=f"/manage/events/{slug}/questions")
    assert await Question.exists().where(Question.id == course["id"], Question.removed_at.is_not_null())
    await ended(slug, 89, now)
    assert await privacy.erase_expired(now, retention_days=90) == 0 and await Answer.count() == 2
    await ended(slug, 91, now)
    assert await privacy.erase_expired(now, retention_days=90) == 1
    assert await Answer.count() == 0
    assert not await Question.exists().where(Question.id == course["id"])  # nothing of it is held any more
    assert (await Order.select(Order.buyer_name).first())["buyer_name"] == ""


async def test_an_order_whose_only_personal_data_left_is_its_answers_is_erased_too(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """An order erased before answers were kept (or by hand) still has them: the worker finds it by them."""
    slug = await make_event(now)
    await add_dietary(client, slug, organiser)
    await add_course(client, slug, organiser)
    await bought_with_answers(client, organiser, slug, "Amal Haddad", "amal@example.org")
    await ended(slug, 91, now)
    assert await privacy.erase_expired(now, retention_days=90) == 1
    order = await Order.select(Order.id).first()
    question = await Question.select(Question.id).first()
    await Answer(question=question["id"], order_id=order["id"], ticket_index=0, value='["vegan"]').save()
    assert await privacy.erase_expired(now, retention_days=90) == 1 and await Answer.count() == 0
