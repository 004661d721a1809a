"""How many statements each page of a purchase sends to PostgreSQL (after the event page, which events.page_cache
serves): every round trip costs the worker CPU on top of PostgreSQL's, and a statement built with Piccolo's query
builder several times more, so the guest's path through the pages is built to need few (bench/rush.py, issue #20).
A page that starts needing more fails here, with the statements it sent, rather than showing up only as a slower rush.

The counts are a second guest's, as in a rush: the event's first ticket page also makes the event's signing key. The
hold batch (orders.service) holds this one guest alone."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from litestar import Litestar

from tests.factories import make_event
from tests.support.orders import another_browser
from tests.support.statements import statements_sent

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
TEST_PAYMENT_FORM = re.compile(r'<form method="post" action="([^"]*/test-payment)">(.*?)</form>', re.DOTALL)
ORDER_TOKEN = re.compile(r'name="token" value="([^"]+)"')
TICKET_LINK = re.compile(r'href="(/tickets/[a-z0-9]+)"')

# A statement Piccolo's query builder wrote: it quotes every name ("ticket"."id"), events.db.run's never do.
BUILT = re.compile(r'"\w+"\."\w+"|(INSERT INTO|UPDATE|DELETE FROM) "')

# Statements per page, BEGIN and COMMIT included.
PINNED = {
    # The types the form may name, the organisation's payment account, the questions asked; the hold batch alone (the
    # event, its types and waiting list without locks, then BEGIN, the locked types, event and waiting list, the hold
    # limits' three reads (the address's holds this minute, the email's and the address's unpaid places), the order,
    # its lines and history, the counters, COMMIT); the payment's start.
    "buy": 19,
    # The order with its event, organisation, receipt facts and notices; its lines; its tickets; the payment account.
    "payment_page": 4,
    # The payment account, the order; BEGIN, the payment, the order locked, paid, its ticket lines, guest names, the
    # event's signing key (made with its first tickets, so that showing them never writes), the tickets, the
    # confirmation queued (in a savepoint: where to, the message), the history, the ledger, COMMIT.
    "test_payment": 17,
    # The payment account; the order as on the payment page (three); the messages sent; the questions.
    "confirmation": 6,
    # The ticket with its event and the event's signing key.
    "ticket_page": 1,
}
# Of those, the ones built with the query builder (each costs the worker several times a hand-written one's CPU): none.
PINNED_BUILT = dict.fromkeys(PINNED, 0)


async def buy(browser: httpx.AsyncClient, slug: str, name: str, counted: dict[str, list[str]] | None = None) -> None:
    """One guest's purchase through the pages, each page's statements put in ``counted``."""

    async def step(label: str, method: str, url: str, **form: str) -> httpx.Response:
        if counted is None:
            return await browser.request(method, url, data=form or None)
        with statements_sent() as sent:
            response = await browser.request(method, url, data=form or None)
        counted[label] = sent
        return response

    page = await browser.get(f"/events/{slug}")
    type_id = re.search(r'<select id="quantity_(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {f"quantity_{type_id}": "1", "name": name, "email": f"{name.lower()}@example.org", "_csrf_token": TOKEN.search(page.text).group(1)}  # type: ignore[union-attr]
    bought = await step("buy", "POST", f"/events/{slug}/buy", **form)
    assert bought.status_code == 303, bought.text[:500]
    paying = await step("payment_page", "GET", bought.headers["location"])
    assert paying.status_code == 200
    action, inside = TEST_PAYMENT_FORM.search(paying.text).groups()  # type: ignore[union-attr]
    token = ORDER_TOKEN.search(inside).group(1)  # type: ignore[union-attr]
    paid = await step("test_payment", "POST", action, token=token, _csrf_token=TOKEN.search(paying.text).group(1))  # type: ignore[union-attr]
    assert paid.status_code == 303
    confirmation = await step("confirmation", "GET", paid.headers["location"])
    assert confirmation.status_code == 200 and "You&#39;re going!" in confirmation.text
    ticket = await step("ticket_page", "GET", TICKET_LINK.search(confirmation.text).group(1))  # type: ignore[union-attr]
    assert ticket.status_code == 200 and "<svg" in ticket.text


async def test_each_page_of_a_purchase_sends_the_statements_it_needs_and_no_more(
    app: Litestar, client: httpx.AsyncClient, backend: str, now: datetime
) -> None:
    if backend != "postgres":
        pytest.skip("statements counted on PostgreSQL, the production database (SQLite takes other paths for arrays)")
    slug = await make_event(now)
    await buy(client, slug, "Amal")  # the event's first ticket page makes its signing key
    counted: dict[str, list[str]] = {}
    async with another_browser(app, "127.0.0.2") as second:
        await buy(second, slug, "Bilal", counted)
    sent = {label: len(statements) for label, statements in counted.items()}
    built = {label: sum(1 for statement in statements if BUILT.search(statement)) for label, statements in counted.items()}
    assert (sent, built) == (PINNED, PINNED_BUILT), "\n".join(
        f"{label}: {sent[label]} statements, {built[label]} built (pinned: {PINNED[label]}, {PINNED_BUILT[label]})\n  "
        + "\n  ".join(statement[:140] for statement in counted[label])
        for label in PINNED
        if (sent[label], built[label]) != (PINNED[label], PINNED_BUILT[label])
    )
