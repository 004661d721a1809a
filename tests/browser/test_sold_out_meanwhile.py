"""On a phone, in Arabic: another buyer takes the last places while a guest fills the buy form in. The refusal takes
the focus, their contribution is kept in a form without tickets and their details in the waiting list's form; and a
guest holding the last places can still change their order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from tests.support.accessibility import assert_accessible, assert_touch_targets
from tests.support.server import demo_environment, live_server, run_cli

pytestmark = pytest.mark.browser

ORGANISER = "organiser@example.org"  # seeded by `events demo` in development
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A demo server, and the organiser's API headers."""
    env = demo_environment(tmp_path_factory.mktemp("sold-out-meanwhile"))
    token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
    with live_server(env) as base_url:
        yield base_url, {"Authorization": f"Bearer {token}"}


async def small_event(http: httpx.AsyncClient, organiser: dict[str, str], slug: str, capacity: int) -> int:
    """An on-sale supper with ``capacity`` places, pay-it-forward places and a waiting list; its ticket type's id."""
    starts = (datetime.now(timezone.utc) + timedelta(days=20)).replace(microsecond=0)
    created = await http.post(
        "/api/events",
        json={
            "slug": slug,
            "title": "Small Supper",
            "venue": "Community Hall",
            "address": "1 High Street, London",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": capacity,
            "reserved_free_places": 0,
            "pay_it_forward_place_pence": 2500,
            "status": "on_sale",
            "ticket_types": [{"name": "Supper", "price_pence": 2500, "max_per_order": 4}],
            "beneficiaries": [{"partner": "welcome-kitchen", "share_bp": 10000}],
        },
        headers=organiser,
    )
    assert created.status_code == 201, created.text
    return int(created.json()["ticket_types"][0]["id"])


async def take_places(http: httpx.AsyncClient, slug: str, type_id: int, quantity: int) -> None:
    """Another buyer holds ``quantity`` places."""
    body = {"buyer": {"name": "Sam Buyer", "email": "sam@example.org"}, "items": [{"ticket_type": type_id, "quantity": quantity}]}
    order = await http.post(f"/api/events/{slug}/orders", json=body)
    assert order.status_code == 201, order.text


async def test_the_last_places_taken_while_the_form_is_filled_in(browser, server: tuple[str, dict[str, str]], artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url, organiser = server
    slug = "small-supper-raced"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        type_id = await small_event(http, organiser, slug, capacity=2)
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    assert (await page.goto(f"{base_url}/language/ar?next=/events/{slug}")) is not None
    await page.locator(f"#quantity_{type_id}").select_option("2")
    await page.locator("#pay_it_forward_places").select_option("1")
    await page.locator("#donation").fill("5")
    await page.locator("#name").fill("ليلى أحمد")
    await page.locator("#email").fill("leila@example.org")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await take_places(http, slug, type_id, 2)  # meanwhile, another buyer takes both places
    await page.locator("form.buy-form button[type=submit]").click()
    await page.wait_for_load_state()

    # The refusal is read out and takes the focus, as the form's own error summary does.
    assert await page.evaluate("document.activeElement.id") == "buy-error"
    assert await page.locator("#buy-error").get_attribute("role") == "alert"
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The waiting list's form is filled in with what they typed.
    assert await page.locator("#wl-name").input_value() == "ليلى أحمد"
    assert await page.locator("#wl-email").input_value() == "leila@example.org"
    assert await page.locator("#wl-quantity").input_value() == "2"
    # Their contribution is kept, to give without a ticket.
    assert await page.locator(f"#quantity_{type_id}").count() == 0
    assert await page.locator("#pay_it_forward_places").input_value() == "1"
    assert await page.locator("#donation").input_value() == "5"
    await page.locator("#buy-error").screenshot(path=str(artifacts_dir / "sold-out-meanwhile-alert-ar.png"))
    await assert_accessible(page, "a11y-sold-out-meanwhile-ar-phone", artifacts_dir)
    await assert_touch_targets(page, "sold-out-meanwhile")

    # The link in the alert goes to the waiting list's form, which joins as filled in.
    await page.locator("#buy-error a[href='#waiting-list']").click()
    await page.locator("form.waiting-list-form button[type=submit]").click()
    await page.wait_for_url("**/waiting-list/*?joined=1")
    await context.close()


async def test_a_guest_holding_the_last_places_changes_their_order(browser, server: tuple[str, dict[str, str]], artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url, organiser = server
    slug = "small-supper-changed"
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        type_id = await small_event(http, organiser, slug, capacity=3)
        await take_places(http, slug, type_id, 1)
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{base_url}/events/{slug}")
    await page.locator(f"#quantity_{type_id}").select_option("2")  # the last two places
    await page.locator("#name").fill("Amal Haddad")
    await page.locator("#email").fill("amal@example.org")
    await page.locator("form.buy-form button[type=submit]").click()
    await page.wait_for_url("**/pay?token=*")

    await page.locator("form.change-order button[type=submit]").click()
    await page.wait_for_load_state()
    assert await page.evaluate("document.activeElement.id") == "order-changed"
    assert await page.locator(f"#quantity_{type_id}").input_value() == "2"
    assert "Your order holds 2 places for you." in await page.locator(".ticket-type .availability").inner_text()
    await page.locator(f"#quantity_{type_id}").select_option("1")
    await page.locator("form.buy-form button[type=submit]").click()
    await page.wait_for_url("**/pay?token=*")
    assert "1 × Supper" in await page.locator("table.summary").inner_text()
    await context.close()
