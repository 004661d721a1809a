"""The buy form asks the event's questions on a second page, without JavaScript: the first page's choices travel on,
a missing required answer or a bad choice comes back beside its question (naming it) with nothing held, and the
answers are recorded with the order."""

from __future__ import annotations

import html
import re
from datetime import datetime

import httpx

from events.orders.tables import Order
from events.questions.tables import Answer
from tests.factories import make_event
from tests.integration.orders.test_buy_pages import csrf
from tests.support.orders import ticket_type_id
from tests.support.questions import add_course, add_dietary, add_question


async def first_page(client: httpx.AsyncClient, slug: str, type_id: int, quantity: int = 2) -> httpx.Response:
    page = await client.get(f"/events/{slug}")
    form = {f"quantity_{type_id}": str(quantity), "donation": "5", "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
    return await client.post(f"/events/{slug}/buy", data=form)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


async def test_the_questions_come_after_the_tickets_and_are_recorded_with_the_order(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    dietary = await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    step = await first_page(client, slug, type_id)
    assert step.status_code == 200 and await Order.count() == 0  # nothing held yet
    html = step.text
    assert "A few questions before you pay" in html
    # Each guest's questions under their ticket, the choices in fieldsets with legends, the optional one marked.
    assert "Ticket 1" in html and "Ticket 2" in html
    assert html.count("<legend><bdi>Main course</bdi></legend>") == 2
    assert html.count('<legend><bdi>Dietary and allergen needs</bdi> <span class="optional">(optional)</span></legend>') == 2
    assert f'name="answer_{dietary["id"]}_1.peanuts"' in html and f'name="answer_{dietary["id"]}_0--note"' in html
    carried = hidden_fields(html)
    assert carried[f"quantity_{type_id}"] == "2" and carried["donation"] == "5" and carried["email"] == "amal@example.org"

    answered = {
        **carried,
        f"answer_{course['id']}_0": "lamb",
        f"answer_{course['id']}_1": "aubergine",
        f"answer_{dietary['id']}_1.vegan": "on",
        f"answer_{dietary['id']}_1.sesame": "on",
        "_csrf_token": csrf(html),
    }
    placed = await client.post(f"/events/{slug}/buy", data=answered)
    assert placed.status_code == 303 and "/pay?token=" in placed.headers["location"]
    order = await Order.select(Order.id, Order.places, Order.donation_pence).first()
    assert order["places"] == 2 and order["donation_pence"] == 500
    rows = await Answer.select(Answer.question, Answer.ticket_index, Answer.value).where(Answer.order_id == order["id"]).order_by(Answer.id)
    assert {(r["question"], r["ticket_index"], r["value"]) for r in rows} == {
        (course["id"], 0, "lamb"),
        (course["id"], 1, "aubergine"),
        (dietary["id"], 1, '["vegan", "sesame"]'),
    }


async def test_a_missing_answer_comes_back_beside_its_question_and_nothing_is_held(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    course = await add_course(client, slug, organiser)
    step = await first_page(client, slug, type_id)
    carried = hidden_fields(step.text)
    refused = await client.post(
        f"/events/{slug}/buy",
        data={**carried, f"answer_{course['id']}_0": "lamb", f"answer_{course['id']}_1": "beef", "_csrf_token": csrf(step.text)},
    )
    assert refused.status_code == 422
    html = refused.text
    # The summary names the question and links to it; the message sits beside it, which is marked invalid.
    assert f'<a href="#answer_{course["id"]}_1">Choose one of the answers offered for &#34;Main course&#34;.</a>' in html
    assert f'id="answer_{course["id"]}_1-error"' in html
    assert re.search(rf'id="answer_{course["id"]}_1" name="answer_{course["id"]}_1" value="lamb" [^>]*aria-invalid="true"', html)
    assert 'value="lamb" checked' in html  # the first guest's answer is kept
    assert hidden_fields(html)[f"quantity_{type_id}"] == "2"  # and the tickets chosen
    missing = await client.post(f"/events/{slug}/buy", data={**carried, f"answer_{course['id']}_0": "lamb", "_csrf_token": csrf(step.text)})
    assert missing.status_code == 422 and "Please answer &#34;Main course&#34; for ticket 2." in missing.text
    assert await Order.count() == 0 and await Answer.count() == 0


async def test_the_order_form_is_checked_before_the_questions_are_asked(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    await add_course(client, slug, organiser)
    page = await client.get(f"/events/{slug}")
    no_name = await client.post(
        f"/events/{slug}/buy", data={f"quantity_{type_id}": "1", "name": "", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
    )
    assert no_name.status_code == 422 and "Please give your name." in no_name.text and "A few questions" not in no_name.text


async def test_an_event_without_questions_goes_straight_to_payment(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    assert (await first_page(client, slug, type_id)).status_code == 303


async def test_only_optional_questions_still_ask_but_may_be_skipped(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    await add_dietary(client, slug, organiser)
    step = await first_page(client, slug, type_id, quantity=1)
    assert step.status_code == 200 and "Ticket 1" not in step.text  # one ticket: no ticket headings
    skipped = await client.post(f"/events/{slug}/buy", data={**hidden_fields(step.text), "_csrf_token": csrf(step.text)})
    assert skipped.status_code == 303 and await Order.count() == 1 and await Answer.count() == 0


async def test_changing_the_order_shows_its_answers_again_to_keep_or_change(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """A guest who pressed "Change order" on the payment page (to change their donation, say) finds the questions step
    with what they answered, a peanut allergy among it, rather than empty: sent as it is, the changed order keeps the
    answers; nothing of theirs is lost by changing something else."""
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    dietary = await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    step = await first_page(client, slug, type_id)
    answers = {
        f"answer_{course['id']}_0": "lamb",
        f"answer_{course['id']}_1": "aubergine",
        f"answer_{dietary['id']}_1.peanuts": "on",
        f"answer_{dietary['id']}_1--note": "No coriander",
    }
    placed = await client.post(f"/events/{slug}/buy", data={**hidden_fields(step.text), **answers, "_csrf_token": csrf(step.text)})
    reference, changes_page, changed_form = await changing(client, placed)

    again = await client.post(f"/events/{slug}/buy", data={**changed_form, "donation": "10", "_csrf_token": csrf(changes_page)})
    assert again.status_code == 200 and "A few questions before you pay" in again.text
    html = again.text
    assert re.search(rf'name="answer_{course["id"]}_0" value="lamb"\s+checked', html)
    assert re.search(rf'name="answer_{course["id"]}_1" value="aubergine"\s+checked', html)
    assert re.search(rf'name="answer_{dietary["id"]}_1.peanuts" value="on"\s+checked', html)
    assert f'name="answer_{dietary["id"]}_1--note" maxlength="200" dir="auto" autocomplete="off" value="No coriander"' in html

    # Sent as shown (the fields filled in as the page has them).
    changed = await client.post(f"/events/{slug}/buy", data={**hidden_fields(html), **answers, "_csrf_token": csrf(html)})
    assert changed.status_code == 303
    new = await Order.select(Order.id, Order.donation_pence).where(Order.reference != reference, Order.status == "pending").first()
    assert new is not None and new["donation_pence"] == 1000

    async def answers_of(order_id: int) -> set[tuple[int, int, str]]:
        rows = await Answer.select(Answer.question, Answer.ticket_index, Answer.value).where(Answer.order_id == order_id)
        return {(r["question"], r["ticket_index"], r["value"]) for r in rows}

    old = await Order.select(Order.id).where(Order.reference == reference).first()
    assert old is not None and await answers_of(new["id"]) == await answers_of(old["id"])
    assert (course["id"], 1, "aubergine") in await answers_of(new["id"])


async def changing(client: httpx.AsyncClient, placed: httpx.Response) -> tuple[str, str, dict[str, str]]:
    """From a placed order's payment page, "Change order": the order's reference, the event page it shows, and that
    page's buy form's hidden fields (the order it changes)."""
    assert placed.status_code == 303, placed.text
    payment = await client.get(placed.headers["location"])
    form = re.search(r'<form method="post" action="/orders/([A-Z0-9-]+)/change" class="change-order">(.*?)</form>', payment.text, re.DOTALL)
    assert form is not None
    token = re.search(r'name="token" value="([^"]+)"', form.group(2))
    assert token is not None
    page = await client.post(f"/orders/{form.group(1)}/change", data={"token": token.group(1), "_csrf_token": csrf(payment.text)})
    assert page.status_code == 200
    changes = re.search(r'<input[^>]*name="changes"[^>]*value="([^"]*)"', page.text) or re.search(
        r'<input[^>]*value="([^"]*)"[^>]*name="changes"', page.text
    )
    assert changes is not None
    fields = {f"quantity_{q}": v for q, v in re.findall(r'<select[^>]*name="quantity_(\d+)".*?<option value="(\d+)" selected>', page.text, re.DOTALL)}
    return form.group(1), page.text, {**fields, "changes": changes.group(1), "name": "Amal Haddad", "email": "amal@example.org"}


async def test_the_form_says_what_the_door_sees_beside_each_question_that_puts_a_note_on_the_ticket(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """An answer to a flagged question puts a short note on the ticket at the door: the dietary question's "Dietary
    note" (never the answer), a yes-or-no question's own words when the answer is yes. The form says so beside each."""
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    await add_course(client, slug, organiser)  # not flagged at the door
    step = (await first_page(client, slug, type_id, quantity=1)).text
    assert "door team sees" not in step and "Only the organisers see your answers." in step
    dietary = await add_dietary(client, slug, organiser)
    quiet = await add_question(client, slug, organiser, kind="yes_no", label="Do you need a quiet space?", door_flag=True)
    step = (await first_page(client, slug, type_id, quantity=1)).text
    assert "where a question says so, the door team sees a short note on your ticket" in step
    said = re.search(rf'<p class="hint door-note-hint" id="answer_{dietary["id"]}_0-door">(.*?)</p>', step)
    assert (
        said
        and html.unescape(said.group(1))
        == "If you answer, the door team sees “<bdi>Dietary note</bdi>” on your ticket, so that they can look after you, never your answer."
    )
    asked = re.search(rf'<p class="hint door-note-hint" id="answer_{quiet["id"]}_0-door">(.*?)</p>', step)
    assert asked and "If you answer yes, the door team sees “<bdi>Do you need a quiet space?</bdi>”" in html.unescape(asked.group(1))
    assert f'aria-describedby="answer_{quiet["id"]}_0-door"' in step  # read with the question
