"""Stripe unreachable (connections refused, or taken and never answered), or answering 500, for a while (issue #20
§4), through a real `events serve` and a real `events worker` on PostgreSQL, with a fault-injecting proxy
(tests/support/outages.py) between the app's STRIPE_API_BASE and localstripe:

- the order page, which asks Stripe how the payment stands before showing it, asks briefly and once: with Stripe
  silent it answers within a few seconds, showing the payment as still being confirmed;
- a checkout during the outage (the API and the event page's buy form) gets a clear "try again" (503
  `payment_unavailable` with Retry-After), holds nothing, and leaves the holds already made as they were;
- a guest who already holds places and sends the buy form again during the outage, or uses "Change order" and then
  sends the changed form, keeps their earlier hold exactly as it was, its payment page still taking the payment;
- Stripe's webhooks held back by the outage arrive later, twice, and are processed once;
- a payment that succeeds after its hold ran out while Stripe was down ends in tickets while places remain, or in an
  automatic full refund when they went to someone else meanwhile: never lost.

localstripe's webhooks go to a relay that keeps them (localstripe never retries), and the test delivers them as
Stripe would retry after an outage: the very bodies and signatures localstripe made. The time a hold runs out is
compressed by moving its expiry into the past; the worker's own hold sweeper (every 15 s) does the rest.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.integration.payments.conftest import ServerDatabase
from tests.support.faults import UNLIMITED_HOLDS
from tests.support.localstripe import VISA, LocalStripe, run_localstripe
from tests.support.outages import StripeFault, StripeProxy, WebhookRelay, running_workers, stripe_outage_kit
from tests.support.server import demo_environment, live_server, run_cli

ORGANISER = "organiser@example.org"  # seeded by `events demo`
TRY_AGAIN = "Please try again in a moment."
# A Stripe that takes connections but never answers fails a request after this (three tries each): compressed from 80 s.
STRIPE_TIMEOUT_SECONDS = 3


@dataclass
class OutageSite:
    base_url: str
    db: ServerDatabase
    localstripe: LocalStripe
    proxy: StripeProxy
    relay: WebhookRelay
    token: str  # an organiser's API token

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=60)


@pytest.fixture(scope="module")
def site(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageSite]:
    """The demo on PostgreSQL, its Stripe API behind the fault proxy, served by `events serve` with one `events worker`."""
    with run_localstripe(tmp_path_factory.mktemp("outage-localstripe")) as localstripe, stripe_outage_kit(localstripe.url) as (proxy, relay):
        env = demo_environment(
            tmp_path_factory.mktemp("stripe-outage"),
            race_database,
            **{**localstripe.environment(), "STRIPE_API_BASE": proxy.url},
            EVENTS_STRIPE_TIMEOUT_SECONDS=str(STRIPE_TIMEOUT_SECONDS),
            # Every test's guests order from 127.0.0.1 on this one server, a dozen holds within a minute: not what the
            # per-client limits are for (tests/integration/orders/test_hold_limits.py proves those).
            **UNLIMITED_HOLDS,
        )
        token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        localstripe.register_webhook("outages", relay.url)
        with live_server(env) as base_url, running_workers(env, 1):
            yield OutageSite(base_url, ServerDatabase(race_database), localstripe, proxy, relay, token)


@pytest.fixture
def stripe_back(site: OutageSite) -> Iterator[OutageSite]:
    """Whatever a test breaks, Stripe answers again afterwards."""
    yield site
    site.proxy.set_fault(StripeFault.passing)


async def eventually(check: Callable[[], Awaitable[Any]], *, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if result := await check():
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


async def create_event(site: OutageSite, slug: str, *, capacity: int, free_type: bool = False) -> dict[str, int]:
    """An event on sale with a £15 ticket type (and a free one); returns the ticket type ids by name."""
    starts = datetime.now(timezone.utc) + timedelta(days=20)
    types = [{"name": "Standard", "price_pence": 1500, "max_per_order": 4}]
    if free_type:
        types.append({"name": "Free", "price_pence": 0, "max_per_order": 4})
    body = {
        "slug": slug,
        "title": f"Outage test {slug}",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": capacity,
        "status": "on_sale",
        "waiting_list_open": False,
        "ticket_types": types,
        "beneficiaries": [{"partner": "welcome-kitchen", "share_bp": 10_000}],  # one of the demo's partner projects
    }
    async with site.http() as http:
        created = await http.post("/api/events", json=body, headers={"Authorization": f"Bearer {site.token}"})
    assert created.status_code in (200, 201), created.text
    return {t["name"]: t["id"] for t in created.json()["ticket_types"]}


async def order(http: httpx.AsyncClient, slug: str, type_id: int, quantity: int, email: str) -> httpx.Response:
    body = {"buyer": {"name": "Amal Haddad", "email": email}, "items": [{"ticket_type": type_id, "quantity": quantity}]}
    return await http.post(f"/api/events/{slug}/orders", json=body)


async def read_order(http: httpx.AsyncClient, created: dict[str, Any]) -> dict[str, Any]:
    answer = await http.get(f"/api/orders/{created['reference']}", headers={"Authorization": f"Bearer {created['access_token']}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def places_left(http: httpx.AsyncClient, slug: str) -> int:
    return (await http.get(f"/api/events/{slug}")).json()["places_left"]


async def places_add_up(site: OutageSite, slug: str) -> None:
    """Every place counted as taken is a valid ticket or a pending hold: none lost, none stuck."""
    taken = await site.db.value("SELECT places_taken FROM event WHERE slug = ?", slug)
    valid = await site.db.value("SELECT count(*) FROM ticket t JOIN event e ON e.id = t.event WHERE e.slug = ? AND t.status = 'valid'", slug)
    held = await site.db.value(
        "SELECT coalesce(sum(l.quantity), 0) FROM order_line l JOIN ticket_order o ON o.id = l.order_id JOIN event e ON e.id = o.event "
        "WHERE e.slug = ? AND o.status = 'pending' AND l.kind = 'ticket'",
        slug,
    )
    assert taken == valid + held, (taken, valid, held)


async def hold_runs_out_and_is_swept(site: OutageSite, http: httpx.AsyncClient, created: dict[str, Any]) -> None:
    """The hold's time is up (moved into the past, rather than waited for); the worker's sweeper releases it."""
    await site.db.rows("UPDATE ticket_order SET hold_expires_at = now() - interval '1 minute' WHERE reference = ?", created["reference"])

    async def released() -> bool:
        return (await read_order(http, created))["status"] == "expired"

    await eventually(released, what="the worker's sweeper to release the hold")


async def held_webhook(site: OutageSite, intent_id: str) -> Any:
    async def kept() -> Any:
        return site.relay.about(intent_id)

    [webhook] = await eventually(kept, what="localstripe's payment_intent.succeeded webhook")
    return webhook


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


# --- checkouts during the outage ------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [StripeFault.refusing, StripeFault.failing, StripeFault.silent])
async def test_a_checkout_while_stripe_is_down_asks_to_try_again_and_holds_nothing(stripe_back: OutageSite, fault: StripeFault) -> None:
    site = stripe_back
    slug = f"checkout-{fault}".replace("500", "error")  # one event per fault
    types = await create_event(site, slug, capacity=10)
    async with site.http() as http, site.http() as browser:
        # A guest already on the payment page when Stripe goes down.
        waiting = await order(http, slug, types["Standard"], 2, "before@example.org")
        assert waiting.status_code == 201, waiting.text
        before = await places_left(http, slug)
        assert before == 8
        seen = site.proxy.seen[fault]

        site.proxy.set_fault(fault)

        # The API: a clear 503 to try again later, nothing held.
        refused = await order(http, slug, types["Standard"], 2, "api@example.org")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "payment_unavailable" and TRY_AGAIN in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) > 0

        # The buy form on the event page: the page again, saying so, with the buyer's choices kept.
        page = await browser.get(f"/events/{slug}")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf
        form = {f"quantity_{types['Standard']}": "3", "name": "Bo Li", "email": "form@example.org", "_csrf_token": csrf.group(1)}
        bought = await browser.post(f"/events/{slug}/buy", data=form)
        assert bought.status_code == 503, bought.text[:500]
        assert bought.headers["content-type"].startswith("text/html")
        assert TRY_AGAIN in page_text(bought) and 'value="Bo Li"' in bought.text and "form@example.org" in bought.text
        assert "Traceback" not in bought.text
        assert "held_order" not in bought.headers.get("set-cookie", "")

        assert site.proxy.seen[fault] > seen  # the app did try Stripe, through the outage
        assert await places_left(http, slug) == before  # nothing held by the failed checkouts
        statuses = await site.db.rows(
            "SELECT o.buyer_email, o.status FROM ticket_order o JOIN event e ON e.id = o.event WHERE e.slug = ? ORDER BY o.id", slug
        )
        assert [(row["buyer_email"], row["status"]) for row in statuses] == [
            ("before@example.org", "pending"),
            ("api@example.org", "expired"),
            ("form@example.org", "expired"),
        ]
        # The guest who was already paying keeps their hold, and their pages still open.
        created = waiting.json()
        assert (await browser.get(created["payment"]["url"])).status_code == 200
        assert (await browser.get(f"/orders/{created['reference']}?token={created['access_token']}")).status_code == 200
        assert (await read_order(http, created))["status"] == "pending"

        site.proxy.set_fault(StripeFault.passing)
        again = await order(http, slug, types["Standard"], 2, "api@example.org")  # trying again works
        assert again.status_code == 201, again.text
        assert await places_left(http, slug) == before - 2
    await places_add_up(site, slug)


async def buy_form(browser: httpx.AsyncClient, slug: str, type_id: int, quantity: int) -> httpx.Response:
    page = await browser.get(f"/events/{slug}")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {f"quantity_{type_id}": str(quantity), "name": "Bo Li", "email": "again@example.org", "_csrf_token": csrf.group(1)}
    return await browser.post(f"/events/{slug}/buy", data=form)


@pytest.mark.parametrize("fault", [StripeFault.refusing, StripeFault.silent, StripeFault.failing_writes])
async def test_sending_the_buy_form_again_while_stripe_is_down_keeps_the_earlier_hold(stripe_back: OutageSite, fault: StripeFault) -> None:
    """The guest holds two places and is on the payment page; they go back and ask for three while Stripe is down
    (with ``failing_writes`` Stripe still answers reads, so the new hold is placed and its payment fails to start).
    They are asked to try again, and their two places are held exactly as before, with their payment page working;
    once Stripe is back, the form sent again replaces the hold as usual."""
    site, localstripe = stripe_back, stripe_back.localstripe
    slug = f"again-{fault}".replace("500-on-post", "writes")
    types = await create_event(site, slug, capacity=10)
    async with site.http() as browser:
        first = await buy_form(browser, slug, types["Standard"], 2)
        assert first.status_code == 303, first.text[:500]
        payment_page = first.headers["location"]
        reference = re.search(r"/orders/([A-Z0-9-]+)/pay", payment_page)
        assert reference
        columns = "status, places, hold_expires_at, payment_intent_id, client_secret, intent_closed_at"
        before = await site.db.rows(f"SELECT {columns} FROM ticket_order WHERE reference = ?", reference.group(1))
        assert before[0]["status"] == "pending" and await places_left(browser, slug) == 8

        site.proxy.set_fault(fault)
        again = await buy_form(browser, slug, types["Standard"], 3)
        assert again.status_code == 503, again.text[:500]
        assert TRY_AGAIN in page_text(again) and "Traceback" not in again.text

        # The earlier hold as it was: its places, its end, its payment; the failed one holds nothing.
        assert await site.db.rows(f"SELECT {columns} FROM ticket_order WHERE reference = ?", reference.group(1)) == before
        assert await places_left(browser, slug) == 8
        pending = await site.db.rows(
            "SELECT o.reference FROM ticket_order o JOIN event e ON e.id = o.event WHERE e.slug = ? AND o.status = 'pending'", slug
        )
        assert [row["reference"] for row in pending] == [reference.group(1)]
        await places_add_up(site, slug)

        site.proxy.set_fault(StripeFault.passing)
        # Still payable: its page, and its PaymentIntent open at Stripe.
        assert (await browser.get(payment_page)).status_code == 200
        assert (await localstripe.retrieve_intent(before[0]["payment_intent_id"]))["status"] == "requires_payment_method"
        # Trying again works, and replaces the hold rather than adding to it.
        replaced = await buy_form(browser, slug, types["Standard"], 3)
        assert replaced.status_code == 303, replaced.text[:500]
        assert await places_left(browser, slug) == 7
        assert await site.db.value("SELECT status FROM ticket_order WHERE reference = ?", reference.group(1)) == "expired"
        assert (await localstripe.retrieve_intent(before[0]["payment_intent_id"]))["status"] == "canceled"
    await places_add_up(site, slug)


@pytest.mark.parametrize(
    ("fault", "change_during_outage"),
    [(StripeFault.refusing, False), (StripeFault.failing_writes, False), (StripeFault.silent, True)],
)
async def test_a_changed_order_that_cannot_start_its_payment_leaves_the_order_as_it_was(
    stripe_back: OutageSite, fault: StripeFault, change_during_outage: bool
) -> None:
    """The guest holds two places and uses "Change order" on the payment page (before Stripe goes down, or while it
    is down: it changes nothing by itself, so it needs no Stripe), then sends the form for three while Stripe is down.
    The change and the new checkout happen together or not at all: they are asked to try again, and their order is
    exactly as it was, its payment page and PaymentIntent still taking the payment; once Stripe is back, the form
    sent again replaces it."""
    site, localstripe = stripe_back, stripe_back.localstripe
    slug = f"change-{fault}".replace("500-on-post", "writes")
    types = await create_event(site, slug, capacity=10)
    async with site.http() as browser:
        bought = await buy_form(browser, slug, types["Standard"], 2)
        assert bought.status_code == 303, bought.text[:500]
        page = await browser.get(bought.headers["location"])
        form = re.search(r'action="/orders/([A-Z0-9-]+)/change" class="change-order">(.*?)</form>', page.text, re.DOTALL)
        assert form, "the payment page has a Change order form"
        reference = form.group(1)
        token = re.search(r'name="token" value="([^"]+)"', form.group(2))
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token and csrf
        columns = "status, places, hold_expires_at, payment_intent_id, client_secret, intent_closed_at"
        before = await site.db.rows(f"SELECT {columns} FROM ticket_order WHERE reference = ?", reference)
        assert before[0]["status"] == "pending" and await places_left(browser, slug) == 8

        if change_during_outage:
            site.proxy.set_fault(fault)
        started = time.monotonic()
        changed = await browser.post(f"/orders/{reference}/change", data={"token": token.group(1), "_csrf_token": csrf.group(1)})
        assert time.monotonic() - started < STRIPE_TIMEOUT_SECONDS
        assert changed.status_code == 200, changed.text[:500]
        assert "Your order is open to change" in page_text(changed) and 'value="Bo Li"' in changed.text
        assert await site.db.rows(f"SELECT {columns} FROM ticket_order WHERE reference = ?", reference) == before
        changes = re.search(r'name="changes" value="([^"]+)"', changed.text)
        form_csrf = re.search(r'name="_csrf_token" value="([^"]+)"', changed.text)
        assert changes and form_csrf
        three = {
            f"quantity_{types['Standard']}": "3",
            "name": "Bo Li",
            "email": "again@example.org",
            "changes": changes.group(1),
            "_csrf_token": form_csrf.group(1),
        }

        site.proxy.set_fault(fault)
        refused = await browser.post(f"/events/{slug}/buy", data=three)
        assert refused.status_code == 503, refused.text[:500]
        assert TRY_AGAIN in page_text(refused) and "Traceback" not in refused.text
        assert 'value="Bo Li"' in refused.text and changes.group(1) in refused.text  # the changed form, to send again

        # The order as it was: its places, its end, its payment; the failed change holds nothing.
        assert await site.db.rows(f"SELECT {columns} FROM ticket_order WHERE reference = ?", reference) == before
        assert await places_left(browser, slug) == 8
        pending = await site.db.rows(
            "SELECT o.reference FROM ticket_order o JOIN event e ON e.id = o.event WHERE e.slug = ? AND o.status = 'pending'", slug
        )
        assert [row["reference"] for row in pending] == [reference]
        await places_add_up(site, slug)

        site.proxy.set_fault(StripeFault.passing)
        assert (await browser.get(bought.headers["location"], follow_redirects=False)).status_code == 200  # still payable
        assert (await localstripe.retrieve_intent(before[0]["payment_intent_id"]))["status"] == "requires_payment_method"
        # Sent again with Stripe back: the changed order replaces it.
        replaced = await browser.post(f"/events/{slug}/buy", data=three)
        assert replaced.status_code == 303, replaced.text[:500]
        assert await places_left(browser, slug) == 7
        assert await site.db.value("SELECT status FROM ticket_order WHERE reference = ?", reference) == "expired"
        assert (await localstripe.retrieve_intent(before[0]["payment_intent_id"]))["status"] == "canceled"
    await places_add_up(site, slug)


# --- the guest's pages while Stripe is silent -------------------------------------------------------------------


async def test_the_order_page_does_not_wait_for_a_silent_stripe(stripe_back: OutageSite) -> None:
    """The guest has paid (their browser reached Stripe), and opens their order page while our server's requests to
    Stripe go unanswered: the page comes at once, as we know the order (payment being confirmed, the page updating
    itself), rather than after every try at Stripe has timed out (3 x EVENTS_STRIPE_TIMEOUT_SECONDS). Once Stripe
    answers again, the same page finds the payment and shows the tickets."""
    site, localstripe = stripe_back, stripe_back.localstripe
    slug = "order-page-silent"
    types = await create_event(site, slug, capacity=10)
    async with site.http() as http:
        placed = await order(http, slug, types["Standard"], 2, "waiting@example.org")
        assert placed.status_code == 201, placed.text
        created = placed.json()
        page_url = f"/orders/{created['reference']}?token={created['access_token']}"
        assert (await localstripe.pay(created["payment"]["payment_intent"], VISA)).json()["status"] == "succeeded"

        site.proxy.set_fault(StripeFault.silent)
        seen = len(site.proxy.paths)
        started = time.monotonic()
        page = await http.get(page_url)
        took = time.monotonic() - started
        assert page.status_code == 200, page.text[:500]
        # It did ask Stripe about this payment, once: no retries. (The worker's jobs may ask about other orders'
        # payments meanwhile: the module's tests share one site.)
        asked = [path for path in site.proxy.paths[seen:] if created["payment"]["payment_intent"] in path]
        assert len(asked) == 1, site.proxy.paths[seen:]
        # One full try alone would be STRIPE_TIMEOUT_SECONDS, and the three of them three times that.
        assert took < STRIPE_TIMEOUT_SECONDS, took
        text = page_text(page)
        assert "Waiting for your payment" in text and "We are confirming your payment with the bank. This page updates by itself." in text
        assert (await read_order(http, created))["status"] == "pending"

        site.proxy.set_fault(StripeFault.passing)
        settled = await http.get(page_url)
        assert settled.status_code == 200 and "You're going!" in page_text(settled)
        assert [t["status"] for t in (await read_order(http, created))["tickets"]] == ["valid", "valid"]
    await places_add_up(site, slug)


# --- a payment landing after its hold ran out while Stripe was down -------------------------------------------------


async def test_a_late_payment_made_during_the_outage_gets_its_tickets_once_when_stripe_is_back(stripe_back: OutageSite) -> None:
    site, localstripe = stripe_back, stripe_back.localstripe
    slug = "late-with-room"
    types = await create_event(site, slug, capacity=10)
    async with site.http() as http:
        placed = await order(http, slug, types["Standard"], 2, "late@example.org")
        assert placed.status_code == 201, placed.text
        created = placed.json()
        intent_id = created["payment"]["payment_intent"]

        site.proxy.set_fault(StripeFault.failing)
        await hold_runs_out_and_is_swept(site, http, created)
        assert await places_left(http, slug) == 10
        # The sweeper could not cancel the PaymentIntent: it stays open at Stripe, and is tried again later.
        assert (await localstripe.retrieve_intent(intent_id))["status"] == "requires_payment_method"
        assert await site.db.value("SELECT intent_closed_at FROM ticket_order WHERE reference = ?", created["reference"]) is None

        # The guest's card goes through (their browser reaches Stripe; our server cannot).
        paid = await localstripe.pay(intent_id, VISA)
        assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
        webhook = await held_webhook(site, intent_id)

        # Delivered while we still cannot ask Stripe about it: refused for now (Stripe retries), nothing booked.
        early = await webhook.deliver(http)
        assert early.status_code == 503 and early.json()["error"] == "payment_unavailable", early.text
        assert (await read_order(http, created))["status"] == "expired"
        assert await site.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", intent_id) == 0

        # Stripe is back; its retries arrive, twice at once (a delivery whose answer it did not see), then again.
        site.proxy.set_fault(StripeFault.passing)
        retries = await asyncio.gather(webhook.deliver(http), webhook.deliver(http))
        assert [r.status_code for r in retries] == [200, 200], [r.text for r in retries]
        replay = await webhook.deliver(http)
        assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"

        body = await read_order(http, created)
        assert body["status"] == "paid"
        assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]
        assert await places_left(http, slug) == 8

    reference = created["reference"]
    assert await site.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", intent_id) == 1
    assert await site.db.value("SELECT count(*) FROM ticket t JOIN ticket_order o ON o.id = t.order_id WHERE o.reference = ?", reference) == 2
    history = await site.db.rows(
        "SELECT h.kind FROM order_history h JOIN ticket_order o ON o.id = h.order_id WHERE o.reference = ? ORDER BY h.id", reference
    )
    assert [row["kind"] for row in history] == ["created", "hold_expired", "late_payment_issued"]
    recorded = await site.db.rows("SELECT stripe_event_id, processed_at FROM webhook_event WHERE object_id = ?", intent_id)
    assert len(recorded) == 1 and recorded[0]["processed_at"] is not None  # one event, recorded once, processed
    emails = await site.db.rows("SELECT m.kind FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id WHERE o.reference = ?", reference)
    assert [row["kind"] for row in emails] == ["order_confirmation"]
    assert await localstripe.refunds(intent_id) == []
    await places_add_up(site, slug)


async def test_a_late_payment_made_during_the_outage_is_refunded_when_its_places_went_meanwhile(stripe_back: OutageSite) -> None:
    """The hold runs out while Stripe is down; another guest takes the last places (free tickets, which need no
    Stripe); then the first guest's card payment goes through. When Stripe is back the payment is refunded in full,
    once, however often its webhook arrives, and the guest is told."""
    site, localstripe = stripe_back, stripe_back.localstripe
    slug = "late-and-full"
    types = await create_event(site, slug, capacity=2, free_type=True)
    async with site.http() as http:
        placed = await order(http, slug, types["Standard"], 2, "too-late@example.org")
        assert placed.status_code == 201, placed.text
        created = placed.json()
        intent_id = created["payment"]["payment_intent"]

        site.proxy.set_fault(StripeFault.refusing)
        await hold_runs_out_and_is_swept(site, http, created)
        other = await order(http, slug, types["Free"], 2, "in-time@example.org")
        assert other.status_code == 201, other.text
        assert await places_left(http, slug) == 0

        assert (await localstripe.pay(intent_id, VISA)).json()["status"] == "succeeded"
        webhook = await held_webhook(site, intent_id)

        site.proxy.set_fault(StripeFault.passing)
        retries = await asyncio.gather(webhook.deliver(http), webhook.deliver(http))
        assert [r.status_code for r in retries] == [200, 200], [r.text for r in retries]
        assert (await webhook.deliver(http)).json()["outcome"] == "duplicate"

        body = await read_order(http, created)
        assert body["status"] == "refunded" and body["tickets"] == [] and body["refunded_pence"] == created["total_pence"] == 3000
        assert [t["status"] for t in (await read_order(http, other.json()))["tickets"]] == ["valid", "valid"]
        assert await places_left(http, slug) == 0

    at_stripe = await localstripe.refunds(intent_id)
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(3000, "succeeded")]
    reference = created["reference"]
    refunds = await site.db.rows(
        "SELECT r.amount_pence, r.status, r.requested_by FROM refund r JOIN ticket_order o ON o.id = r.order_id WHERE o.reference = ?", reference
    )
    assert refunds == [{"amount_pence": 3000, "status": "succeeded", "requested_by": "system"}]
    assert await site.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", intent_id) == 1
    emails = await site.db.rows("SELECT m.kind FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id WHERE o.reference = ?", reference)
    assert [row["kind"] for row in emails] == ["late_payment_refunded"]
    await places_add_up(site, slug)
