"""Every guest page, and the organiser's event dashboard, an order's page and the audit log, is valid HTML: zero errors
from the Nu Html Checker.

The pages come from a real server seeded with the demo (with a paid order, so the order, ticket and dashboard pages
have something to show, a gift without a ticket, and a claim link), fetched as a browser would, and checked in one run of vnu.jar (npm's
`vnu-jar`, pinned in tests/html/package.json, installed by `make install-dev`) with the system's Java. Warnings are
left to a person; an error fails the test with the checker's message, the page and the line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from events.config import PROJECT_ROOT
from tests.support.orders import pay_with_test_page, place_order, refund_refused_by_stripe
from tests.support.server import demo_environment, live_server, run_cli

VNU_JAR = PROJECT_ROOT / "tests" / "html" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

SLUG = "choose-love-night"  # seeded by `events demo`: online and door tickets, a booking fee, one partner
SOLD_OUT = "welcome-cinema-screening"  # seeded by `events demo`: sold out online, with a waiting list
SUPPER = "august-supper-club"  # seeded by `events demo`: free places, pay it forward, two partners
ORGANISER = ("organiser@example.org", "organiser-demo-2026")  # the demo's organiser login in development
KITCHEN = ("kitchen@example.org", "kitchen-demo-2026")  # the demo's other organisation's owner
KITCHEN_EVENT = "open-kitchen-sunday-lunch"

# Guest pages anyone can open, by name (the name is the checked file's, so it appears in every message).
GUEST_PAGES = {
    "event-list": "/",
    "event-page": f"/events/{SLUG}",
    "event-page-supper": f"/events/{SUPPER}",
    "event-page-arabic": f"/events/{SUPPER}?lang=ar",
    "event-page-with-code": f"/events/{SUPPER}?code=KITCHEN-VOLUNTEERS",
    "event-page-wrong-code": f"/events/{SUPPER}?code=NOT-A-CODE",
    "organisation-page": "/organisations/refugee-welcome",
    "organisation-page-kitchen": "/organisations/open-kitchen",
    "series-page": "/series/supper-club",
    "event-page-kitchen": "/events/open-kitchen-sunday-lunch",
    "login": "/login",
    "forgot-password": "/forgot-password",
    "not-found": "/no/such/page",
}


@dataclass(frozen=True)
class Demo:
    base_url: str
    token: str  # an organiser's API token
    database: Path  # the server's SQLite file


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    vnu_command()  # skip (or fail in CI) before starting a server when the checker cannot run
    var_dir = tmp_path_factory.mktemp("valid-html")
    env = demo_environment(var_dir)
    token = run_cli(env, "token", "create", ORGANISER[0]).strip().splitlines()[-1]
    with live_server(env) as base_url:
        yield Demo(base_url, token, var_dir / "events.sqlite3")


@pytest.fixture
async def guest(demo: Demo) -> AsyncIterator[httpx.AsyncClient]:
    """A guest's browser: its own cookies, asking for pages."""
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=60, headers={"Accept": "text/html"}) as http:
        yield http


def vnu_command() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        message = "The Nu Html Checker needs Java and vnu.jar: run `make install-dev` (npm ci --prefix tests/html)"
        if os.environ.get("EVENTS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EVENTS_TEST_REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return [java, "-Xss1024k", "-jar", str(VNU_JAR)]


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, f"{page.request.url} has a form with a CSRF token"
    return found.group(1)


def html_errors(pages: dict[str, str], directory: Path) -> list[str]:
    """The checker's errors over all the pages, in one run (the JVM starts once), as `page:line: message`."""
    for name, html in pages.items():
        (directory / f"{name}.html").write_text(html, encoding="utf-8")
    files = sorted(str(path) for path in directory.glob("*.html"))
    result = subprocess.run([*vnu_command(), "--errors-only", "--format", "json", *files], capture_output=True, text=True, timeout=600, check=False)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    assert result.returncode == 0 or messages, result.stderr
    return [f"{Path(m.get('url', '')).stem}:{m.get('lastLine', '?')}: {m['message']} [{m.get('extract', '').strip()}]" for m in messages]


async def guest_pages(guest: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    pages: dict[str, str] = {}
    for name, path in GUEST_PAGES.items():
        response = await guest.get(path)
        assert response.status_code == (404 if name.startswith("not-found") else 200), path
        pages[name] = response.text

    # The buy form sent empty: the page again with its error messages.
    event = await guest.get(f"/events/{SLUG}")
    refused = await guest.post(f"/events/{SLUG}/buy", data={"_csrf_token": csrf_of(event)})
    assert refused.status_code >= 400
    pages["buy-form-errors"] = refused.text

    # Sold out while the form was filled in: the refusal, the donation kept in a form without tickets, the waiting
    # list's form filled in.
    sold_out = await guest.get(f"/events/{SOLD_OUT}")
    screening = (await guest.get(f"/api/events/{SOLD_OUT}")).json()["ticket_types"][0]["id"]
    typed = {f"quantity_{screening}": "2", "donation": "5", "name": "Amal Haddad", "email": "amal@example.org"}
    raced = await guest.post(f"/events/{SOLD_OUT}/buy", data={**typed, "_csrf_token": csrf_of(sold_out)})
    assert raced.status_code == 409 and 'id="wl-name"' in raced.text and 'id="donation"' in raced.text
    pages["buy-form-sold-out"] = raced.text

    # An order: its checkout page, then paid, its order page and each ticket's page.
    created = (await place_order(guest, SUPPER, quantity=2, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
    checkout = await guest.get(created["payment"]["url"])
    assert checkout.status_code == 200
    pages["checkout"] = checkout.text
    paid = await pay_with_test_page(guest, created)
    assert paid.status_code == 303
    order = await guest.get(paid.headers["location"])
    assert order.status_code == 200
    pages["order"] = order.text
    ticket_links = sorted(set(re.findall(r'href="(/tickets/[^"/?]+)"', order.text)))
    assert ticket_links, "the order page links its tickets"
    for number, link in enumerate(ticket_links):
        ticket = await guest.get(link)
        assert ticket.status_code == 200, link
        pages[f"ticket-{number}"] = ticket.text

    # A gift without a ticket (pay-it-forward places and a donation), paid: its order page thanks the donor.
    gift = (
        await guest.post(
            f"/api/events/{SUPPER}/orders",
            json={"buyer": {"name": "Amal Haddad", "email": "amal@example.org"}, "items": [], "pay_it_forward_places": 1, "donation_pence": 99},
        )
    ).json()
    gift_paid = await pay_with_test_page(guest, gift)
    assert gift_paid.status_code == 303
    gift_page = await guest.get(gift_paid.headers["location"])
    assert gift_page.status_code == 200 and "Thank you for your gift" in gift_page.text
    pages["gift-order"] = gift_page.text

    # Changing a ticket's holder name from the order page.
    holder_links = sorted(set(re.findall(r'href="(/orders/[^"]+/holder\?token=[^"]+)"', order.text)))
    assert holder_links, "the order page offers to change a ticket's name"
    holder = await guest.get(holder_links[0].replace("&amp;", "&"))
    assert holder.status_code == 200
    pages["holder"] = holder.text

    # Another order, changed from its payment page: the event page again with its choices filled in.
    second = (await place_order(guest, SUPPER, quantity=1, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
    second_checkout = await guest.get(second["payment"]["url"])
    changed = await guest.post(
        f"/orders/{second['reference']}/change", data={"token": second["access_token"], "_csrf_token": csrf_of(second_checkout)}
    )
    assert changed.status_code == 200
    pages["changed-order"] = changed.text

    # The embeddable ticket form: its buy form and its payment step.
    pages["embed-event"] = (await guest.get(f"/embed/events/{SUPPER}")).text
    third = (await place_order(guest, SUPPER, quantity=1, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
    embed_checkout = await guest.get(f"/embed/orders/{third['reference']}/pay?token={third['access_token']}")
    assert embed_checkout.status_code == 200
    pages["embed-checkout"] = embed_checkout.text

    # A free place through a claim link: the form, the form with its errors, the place, the link's use.
    code = (
        await guest.post(
            f"/api/events/{SUPPER}/claim-codes",
            json={"partner_name": "Refugee Women's Group", "places": 3},
            headers={"Authorization": f"Bearer {demo.token}"},
        )
    ).json()["code"]
    claim = await guest.get(f"/claim/{code}")
    assert claim.status_code == 200
    pages["claim"] = claim.text
    refused = await guest.post(f"/claim/{code}", data={"_csrf_token": csrf_of(claim), "name": "", "email": "not an email"})
    assert refused.status_code >= 400
    pages["claim-errors"] = refused.text
    claimed = await guest.post(f"/claim/{code}", data={"_csrf_token": csrf_of(claim), "name": "Layla", "email": ""}, follow_redirects=True)
    assert claimed.status_code == 200
    pages["claimed"] = claimed.text
    again = await guest.get(f"/claim/{code}")  # the link opened again on the same phone: the ticket it gave, then the form
    assert "Ticket for <bdi>Layla</bdi>" in again.text
    pages["claim-again"] = again.text
    pages["claim-places"] = (await guest.get(f"/claim/{code}/places")).text

    # "Can't come?" from a ticket.
    cant_come = await guest.get(f"{ticket_links[0]}/cant-come")
    assert cant_come.status_code == 200
    pages["cant-come"] = cant_come.text

    # A claim link whose places are taken: its waiting list, joined, and the guest's place in it.
    used_up = (
        await guest.post(
            f"/api/events/{SUPPER}/claim-codes",
            json={"partner_name": "Drop-in", "places": 1},
            headers={"Authorization": f"Bearer {demo.token}"},
        )
    ).json()["code"]
    assert (await guest.post("/api/claims", json={"code": used_up, "name": "Amal"})).status_code == 201
    full = await guest.get(f"/claim/{used_up}")
    assert "waiting-list-form" in full.text
    pages["claim-waiting-list"] = full.text
    form = full.text.split('class="form waiting-list-form"', 1)[1].split("</form>", 1)[0]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    joined = await guest.post(f"/claim/{used_up}/waiting-list", data={**hidden, "name": "Layla", "email": "layla@example.org"})
    assert joined.status_code == 303, joined.text
    entry = await guest.get(joined.headers["location"])
    assert entry.status_code == 200
    pages["waiting-list-entry"] = entry.text
    return pages


async def dashboard_pages(demo: Demo) -> dict[str, str]:
    """The organiser's event dashboard (its charts are inline SVG) and the event's statement, signed in; an order's
    page, with a refund Stripe refused and the form recording how it was given back (and that form's errors); the
    audit log."""
    pages = {}
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=60, headers={"Accept": "text/html"}) as organiser:
        created = (await place_order(organiser, SUPPER, quantity=2, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
        assert (await pay_with_test_page(organiser, created)).status_code == 303
        refund_id = await refund_refused_by_stripe(organiser, created["reference"], token=demo.token, database=demo.database)
        login = await organiser.get("/login")
        signed_in = await organiser.post(
            "/login", data={"_csrf_token": csrf_of(login), "email": ORGANISER[0], "password": ORGANISER[1], "next": "/manage"}
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        for name, path in {"dashboard": f"/manage/events/{SUPPER}", "statement": f"/manage/events/{SUPPER}/statement"}.items():
            response = await organiser.get(path)
            assert response.status_code == 200, path
            assert "<svg" in response.text, f"{path} draws its charts"
            pages[name] = response.text
        order_page = await organiser.get(f"/manage/orders/{created['reference']}")
        assert order_page.status_code == 200 and "given-back-form" in order_page.text
        pages["manage-order"] = order_page.text
        unsure = await organiser.post(
            f"/manage/orders/{created['reference']}/refunds/{refund_id}/given-back", data={"_csrf_token": csrf_of(order_page)}
        )
        assert unsure.status_code == 422
        pages["manage-order-errors"] = unsure.text
        audit = await organiser.get("/manage/audit")
        assert audit.status_code == 200 and "<time" in audit.text
        pages["audit-log"] = audit.text
    pages |= await unused_money_pages(demo)
    return pages


async def unused_money_pages(demo: Demo) -> dict[str, str]:
    """A closed event's statement with the form for its unused pay-it-forward money, and the form's confirmation (the
    kitchen's event: closing it leaves the network's events, which the guest pages use, as they are)."""
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=60, headers={"Accept": "text/html"}) as kitchen:
        login = await kitchen.get("/login")
        await kitchen.post("/login", data={"_csrf_token": csrf_of(login), "email": KITCHEN[0], "password": KITCHEN[1], "next": "/manage"})
        statement_path = f"/manage/events/{KITCHEN_EVENT}/statement"
        setup = await kitchen.get(f"/manage/events/{KITCHEN_EVENT}/edit")
        closed = await kitchen.post(f"/manage/events/{KITCHEN_EVENT}/status/close", data={"_csrf_token": csrf_of(setup)})
        assert closed.status_code == 303, closed.text
        statement = await kitchen.get(statement_path)
        assert 'id="unused-heading"' in statement.text
        confirm = await kitchen.post(f"{statement_path}/pay-it-forward", data={"_csrf_token": csrf_of(statement), "decision": "beneficiaries"})
        assert confirm.status_code == 200, confirm.text
        return {"unused-money-statement": statement.text, "unused-money-confirm": confirm.text}


async def test_every_guest_page_and_the_dashboard_are_valid_html(guest: httpx.AsyncClient, demo: Demo, tmp_path: Path) -> None:
    pages = await guest_pages(guest, demo) | await dashboard_pages(demo)
    errors = html_errors(pages, tmp_path)
    assert errors == [], f"{len(errors)} HTML errors:\n" + "\n".join(errors)


# Back-office links that are not pages: downloads, and signing out (which would end the crawl's session).
NOT_PAGES = re.compile(r"\.(csv|pdf|xlsx|json)\b|/logout|/download|/export")
MOST_PAGES = 300


async def test_every_back_office_page_an_organiser_can_reach_is_valid_html(demo: Demo, tmp_path: Path) -> None:
    """Every page the organiser's links lead to (events, orders, statements, payouts, people, the platform's pages...),
    found by following them from the back office's start pages, as a person clicking through would."""
    async with httpx.AsyncClient(base_url=demo.base_url, timeout=60, headers={"Accept": "text/html"}) as organiser:
        login = await organiser.get("/login")
        signed_in = await organiser.post("/login", data={"_csrf_token": csrf_of(login), "email": ORGANISER[0], "password": ORGANISER[1]})
        assert signed_in.status_code in (302, 303), signed_in.text
        pages: dict[str, str] = {}
        broken: list[str] = []  # links that lead to a server error
        waiting, seen = ["/manage", "/account", "/platform"], set()
        while waiting and len(pages) < MOST_PAGES:
            path = waiting.pop()
            if path in seen:
                continue
            seen.add(path)
            response = await organiser.get(path)
            if response.status_code >= 500:
                broken.append(f"{path}: {response.status_code}")
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/html"):
                continue
            pages[re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:150]] = response.text
            for found in re.findall(r'href="(/(?:manage|account|platform)[^"#]*)"', response.text):
                link = found.replace("&amp;", "&")
                if link not in seen and not NOT_PAGES.search(link):
                    waiting.append(link)
    assert not broken, f"links leading to a server error: {broken}"
    assert len(pages) > 60, f"the crawl reached only {len(pages)} pages"
    errors = html_errors(pages, tmp_path)
    assert errors == [], f"{len(errors)} HTML errors over {len(pages)} pages:\n" + "\n".join(errors)
