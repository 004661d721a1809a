"""Every page a person uses, checked with axe-core in headless Chromium on a phone and on a desktop screen,
in the states people see (empty forms, forms with their inline errors, results), plus the buy form by keyboard.

A page fails on any serious or critical axe finding (the message lists each rule and the elements to fix), on
sideways scrolling, on a Tab stop without a clear focus ring, and on a phone on a control under 44px tall.
Screenshots and axe's findings land in test-artifacts/a11y-*. A new signed-in page is one line in STAFF_PAGES.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support.accessibility import assert_accessible, assert_focus_visible, assert_touch_targets, axe_source, contrast_ratio
from tests.support.door_staff import assign_door_staff
from tests.support.orders import pay_with_test_page, place_order, refund_refused_by_stripe
from tests.support.server import demo_environment, live_server, run_cli

pytestmark = pytest.mark.browser

SLUG = "choose-love-night"  # seeded by `events demo`: online and door tickets, a booking fee, one partner
SUPPER = "august-supper-club"  # seeded by `events demo`: free places, pay it forward, two partners
PARTNER = "welcome-kitchen"
SERIES = "supper-club"  # seeded by `events demo`: the supper club's series
ORGANISATION = "refugee-welcome"  # seeded by `events demo`: runs both events above; the organiser login is its owner
KITCHEN = "open-kitchen"  # seeded by `events demo`: a second organisation, in its own accent colour
KITCHEN_EVENT = "open-kitchen-sunday-lunch"
LOGINS = {  # seeded by `events demo` in development
    "organiser": ("organiser@example.org", "organiser-demo-2026"),
    "door": ("door@example.org", "door-demo-2026"),
    "treasurer": ("treasurer@example.org", "treasurer-demo-2026"),
}
SCREENS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


@dataclass(frozen=True)
class StaffPage:
    """A signed-in page. ``path`` may name {event} and {supper} (the demo events' slugs), {partner} (a demo
    partner's slug), {series} (the demo's series) and {order} (the reference of a paid order for {supper})."""

    name: str
    path: str
    role: str


# Back-office and door pages: one line each. Guest pages that need an order or a claim link are below.
STAFF_PAGES = [
    StaffPage("manage-event", "/manage/events/{event}", "organiser"),
    StaffPage("manage-event-supper", "/manage/events/{supper}", "organiser"),
    StaffPage("event-statement", "/manage/events/{supper}/statement", "organiser"),
    StaffPage("partner-statement", "/manage/partners/{partner}/statement", "organiser"),
    StaffPage("partner-payouts", "/manage/partners/{partner}/payouts", "organiser"),
    StaffPage("door-setup", "/door/{event}", "door"),
    StaffPage("manage-home", "/manage", "organiser"),
    StaffPage("manage-new-event", "/manage/events/new", "organiser"),
    StaffPage("manage-edit", "/manage/events/{supper}/edit", "organiser"),
    StaffPage("manage-tickets", "/manage/events/{supper}/tickets", "organiser"),
    StaffPage("manage-partners", "/manage/events/{supper}/partners", "organiser"),
    StaffPage("manage-claims", "/manage/events/{supper}/claims", "organiser"),
    StaffPage("manage-questions", "/manage/events/{supper}/questions", "organiser"),
    StaffPage("manage-kitchen", "/manage/events/{supper}/kitchen", "organiser"),
    StaffPage("manage-codes", "/manage/events/{supper}/codes", "organiser"),
    StaffPage("manage-door-staff", "/manage/events/{event}/door-staff", "organiser"),
    StaffPage("manage-orders", "/manage/events/{supper}/orders", "organiser"),
    StaffPage("manage-waiting-list", "/manage/events/{supper}/waiting-list", "organiser"),
    StaffPage("manage-announcements", "/manage/events/{supper}/announcements", "organiser"),
    StaffPage("manage-order", "/manage/orders/{order}", "organiser"),
    StaffPage("manage-audit", "/manage/audit", "organiser"),
    StaffPage("manage-event-audit", "/manage/events/{supper}/audit", "organiser"),
    StaffPage("manage-scans", "/manage/events/{event}/scans", "organiser"),
    StaffPage("manage-guests", "/manage/guests", "organiser"),
    StaffPage("manage-status-close", "/manage/events/{supper}/status/close", "organiser"),
    StaffPage("manage-status-cancel", "/manage/events/{supper}/status/cancel", "organiser"),
    StaffPage("manage-cancellation", "/manage/events/{supper}/cancellation", "organiser"),
    StaffPage("manage-people", "/manage/people", "organiser"),
    StaffPage("manage-stripe", "/manage/organisation/stripe", "organiser"),  # the demo organiser owns the network
    StaffPage("manage-organisation", "/manage/organisation", "organiser"),
    StaffPage("manage-gift-aid", "/manage/gift-aid", "organiser"),
    StaffPage("manage-copy", "/manage/events/{supper}/copy", "organiser"),
    StaffPage("manage-series", "/manage/series", "organiser"),
    StaffPage("manage-series-edit", "/manage/series/{series}", "organiser"),
    StaffPage("series-statement", "/manage/series/{series}/statement", "organiser"),
    # A treasurer's own versions: the events leading to statements, and a statement with only its own tab.
    StaffPage("treasurer-home", "/manage", "treasurer"),
    StaffPage("treasurer-statement", "/manage/events/{supper}/statement", "treasurer"),
    StaffPage("account", "/account", "door"),
    StaffPage("account-password", "/account/password", "organiser"),
]

GUEST_PAGES = [
    ("event-list", "/"),
    ("event-page", f"/events/{SLUG}"),
    ("event-page-supper", f"/events/{SUPPER}"),
    ("event-page-with-code", f"/events/{SUPPER}?code=KITCHEN-VOLUNTEERS"),  # the demo's access code: its hidden type shown
    ("event-page-wrong-code", f"/events/{SUPPER}?code=NOT-A-CODE"),  # a message beside the code's field
    ("organisation-page", f"/organisations/{ORGANISATION}"),
    ("organisation-page-kitchen", f"/organisations/{KITCHEN}"),
    ("series-page", f"/series/{SERIES}"),
    ("event-page-kitchen", f"/events/{KITCHEN_EVENT}"),
    ("widget-event-page", f"/embed/events/{SUPPER}"),  # the embeddable ticket form, opened on its own
    ("widget-event-page-arabic", f"/embed/events/{SLUG}?lang=ar"),
    ("login", "/login"),
    ("forgot-password", "/forgot-password"),
    ("not-found-reset-link", "/reset-password/not-a-real-token"),
    ("not-found-event", "/events/no-such-event"),
    ("not-found", "/no/such/page"),
]


@dataclass(frozen=True)
class Site:
    base_url: str
    token: str  # an organiser's API token
    order: str  # a paid order's reference, for the supper club


@pytest.fixture(scope="module")
async def a11y_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """A server of its own, seeded with the demo (these tests buy and claim), with the door login on the club
    night's door team and one paid order for the supper club, so statements and dashboards have figures."""
    axe_source()  # skip (or fail in CI) before starting a server when axe is not installed
    var_dir = tmp_path_factory.mktemp("a11y-server")
    env = demo_environment(var_dir)
    token = run_cli(env, "token", "create", LOGINS["organiser"][0]).strip().splitlines()[-1]
    assign_door_staff(env, LOGINS["door"][0], SLUG)
    with live_server(env) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            created = (await place_order(http, SUPPER, quantity=2, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
            assert (await pay_with_test_page(http, created)).status_code == 303
            await refund_refused_by_stripe(http, created["reference"], token=token, database=var_dir / "events.sqlite3")
        yield Site(base_url, token, created["reference"])


@pytest.fixture(scope="module")
async def signed_in(browser, a11y_server: Site) -> Any:  # type: ignore[no-untyped-def]
    """A browser context signed in as a role, through the login form once per role: sign-ins are rate limited
    per email, and the list of staff pages grows."""
    states: dict[str, Any] = {}

    async def new_context(role: str, screen: str) -> Any:
        if role not in states:
            context = await browser.new_context()
            page = await context.new_page()
            await sign_in(page, a11y_server.base_url, role, "/account")
            states[role] = await context.storage_state()
            await context.close()
        return await browser.new_context(**SCREENS[screen], storage_state=states[role])

    return new_context


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def page(browser, screen: str) -> Any:  # type: ignore[no-untyped-def]
    context = await browser.new_context(**SCREENS[screen])
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def check(page: Any, name: str, screen: str, artifacts_dir: Path) -> None:
    await assert_accessible(page, f"a11y-{name}-{screen}", artifacts_dir)
    # Mobile first: nothing is wider than the screen.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
    if screen == "phone":
        await assert_touch_targets(page, name)
    await assert_focus_visible(page, f"{name} ({screen})")


async def open_language_menu(page: Any) -> None:
    """Open the header's language menu: each choice inside the screen, in a colour that reads on the menu's white.
    axe leaves text the colour of its background (1:1) undecided, taking it for hidden on purpose, so the choices'
    contrast is measured here as well."""
    await page.locator("details.languages summary").click()
    await expect(page.locator("details.languages ul")).to_be_visible()
    choices = await page.evaluate(
        """() => {
            const menu = getComputedStyle(document.querySelector("details.languages ul")).backgroundColor;
            return [...document.querySelectorAll("details.languages ul :is(a, button)")].map((el) => {
                const box = el.getBoundingClientRect();
                return {text: el.textContent.trim(), color: getComputedStyle(el).color, behind: menu,
                        inside: box.left >= 0 && box.right <= document.documentElement.clientWidth};
            });
        }"""
    )
    assert len(choices) == 4, choices
    for choice in choices:
        assert choice["inside"], f"{choice['text']} is off the screen"
        assert contrast_ratio(choice["color"], choice["behind"]) >= 4.5, f"{choice['text']}: {choice['color']} on {choice['behind']}"


async def sign_in(page: Any, base_url: str, role: str, next_path: str) -> None:
    email, password = LOGINS[role]
    await page.goto(f"{base_url}/login?next={next_path}")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{next_path}")


@pytest.mark.parametrize(("name", "path"), GUEST_PAGES, ids=[name for name, _ in GUEST_PAGES])
async def test_guest_pages(page, screen: str, a11y_server, artifacts_dir: Path, name: str, path: str) -> None:  # type: ignore[no-untyped-def]
    response = await page.goto(a11y_server.base_url + path)
    assert response is not None
    assert response.status == (404 if name.startswith("not-found") else 200)
    await check(page, name, screen, artifacts_dir)


async def test_the_event_page_in_arabic(page, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{a11y_server.base_url}/events/{SUPPER}?lang=ar")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    await check(page, "event-page-arabic", screen, artifacts_dir)
    # The open language menu opens inwards, right to left as left to right: the page does not scroll sideways.
    await open_language_menu(page)
    await check(page, "event-page-arabic-languages", screen, artifacts_dir)


async def test_a_failed_sign_in(page, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    await page.goto(a11y_server.base_url + "/login")
    await page.get_by_label("Email").fill("nobody@example.org")  # not a demo login: sign-ins are rate limited per email
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#login-error")).to_be_visible()
    await expect(page.get_by_label("Email")).to_be_focused()
    await expect(page.get_by_label("Email")).to_have_accessible_description("That email and password do not match an account.")
    await check(page, "login-error", screen, artifacts_dir)


@pytest.mark.parametrize("staff_page", STAFF_PAGES, ids=[p.name for p in STAFF_PAGES])
async def test_staff_pages(signed_in, screen: str, a11y_server, artifacts_dir: Path, staff_page: StaffPage) -> None:  # type: ignore[no-untyped-def]
    path = staff_page.path.format(event=SLUG, supper=SUPPER, partner=PARTNER, series=SERIES, order=a11y_server.order)
    context = await signed_in(staff_page.role, screen)
    try:
        page = await context.new_page()
        response = await page.goto(a11y_server.base_url + path)
        assert response is not None and response.status == 200, f"{path} as {staff_page.role}"
        await page.wait_for_load_state("networkidle")
        await check(page, staff_page.name, screen, artifacts_dir)
    finally:
        await context.close()


async def test_the_new_event_form_with_its_errors(signed_in, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await signed_in("organiser", screen)
    try:
        page = await context.new_page()
        await page.goto(f"{a11y_server.base_url}/manage/events/new")
        await page.get_by_label("Starts", exact=True).fill("2031-08-15T19:00")
        await page.get_by_label("Ends", exact=True).fill("2031-08-15T18:00")
        await page.get_by_role("button", name="Create the event").click()
        summary = page.locator("#error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("Give the event a title.")
        await check(page, "manage-new-event-errors", screen, artifacts_dir)
    finally:
        await context.close()


async def test_messaging_guests_from_writing_to_sent(signed_in, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Writing to the supper club's guests: the form with its errors, the confirmation with whom it reaches, and the
    list with the message sent."""
    context = await signed_in("organiser", screen)
    try:
        page = await context.new_page()
        await page.goto(f"{a11y_server.base_url}/manage/events/{SUPPER}/announcements")
        await page.get_by_role("button", name="Check who gets it").click()
        summary = page.locator("#error-summary")
        await expect(summary).to_contain_text("Subject")
        # The focus lands on the error summary (as GOV.UK's does); its link takes it to the field, where a screen
        # reader hears the field's message with it.
        await expect(summary).to_be_focused()
        await summary.get_by_role("link").first.click()
        await expect(page.locator("#subject")).to_be_focused()
        await expect(page.locator("#subject")).to_have_accessible_description(re.compile("Enter this on one line"))
        await check(page, "manage-announcements-errors", screen, artifacts_dir)

        await page.locator("#subject").fill(f"The venue has changed ({screen})")
        await page.locator("#body").fill("We have moved to St Margaret's Hall.\nDoors open at 18:30 as before.")
        await page.locator("details.versions summary").click()
        await page.locator("#subject_ar").fill("تغيّر مكان الحفل")
        await page.locator("#body_ar").fill("انتقلنا إلى قاعة سانت مارغريت.")
        await page.get_by_role("button", name="Check who gets it").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Check and send")
        await check(page, "manage-announcements-confirm", screen, artifacts_dir)

        await page.get_by_role("button", name=re.compile(r"^Send to \d+ guests?$")).click()
        await page.wait_for_url("**/announcements?notice=sent")
        await expect(page.locator(".announcements-list")).to_contain_text(f"The venue has changed ({screen})")
        await check(page, "manage-announcements-sent", screen, artifacts_dir)
    finally:
        await context.close()


async def test_when_the_time_to_pay_runs_out_the_payment_page_offers_no_way_to_pay(page, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The page says "You have not been charged" once the hold is over: it then offers no Pay button, no "held until"
    and no Change order, only the way back to the event page."""
    base_url = a11y_server.base_url
    await page.clock.install()  # the countdown's timers run on a clock the test moves
    await page.goto(f"{base_url}/events/{SLUG}")
    await page.get_by_label("How many?").select_option("1")
    await page.get_by_label("Your name").fill("Omid Rahimi")
    await page.get_by_label("Email (for your tickets)").fill("omid@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    pay = page.get_by_role("button", name=re.compile(r"^Pay .* \(test\)$"))
    await expect(pay).to_be_visible()
    await pay.focus()  # about to pay when the time runs out
    await page.clock.run_for("20:00")
    over = page.get_by_role("alert").filter(has_text="The time to pay has run out")
    await expect(over).to_be_visible()
    await expect(over).to_be_focused()  # not left on a button that is gone
    await expect(pay).to_be_hidden()
    await expect(page.get_by_role("button", name="Change order")).to_be_hidden()
    await expect(page.get_by_text("Your places are held for")).to_be_hidden()
    await check(page, "checkout-time-over", screen, artifacts_dir)
    await over.get_by_role("link", name="Start again").click()
    await page.wait_for_url(f"**/events/{SLUG}")


async def test_buying_from_the_form_to_the_ticket(page, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = a11y_server.base_url
    await page.goto(f"{base_url}/events/{SLUG}")
    # Sent empty: every problem at once, in an error summary that takes the focus, and beside each field.
    await page.get_by_role("button", name="Continue to payment").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary.get_by_role("link")).to_have_text(
        [
            "Choose at least one ticket, or add a contribution.",
            "Please give your name.",
            "Please give your email address so we can send your tickets.",
        ]
    )
    await check(page, "buy-form-errors", screen, artifacts_dir)
    # Each link takes the focus to its field, whose message a screen reader hears with it.
    await summary.get_by_role("link", name="Please give your name.").click()
    name = page.get_by_label("Your name")
    await expect(name).to_be_focused()
    await expect(name).to_have_accessible_description("Please give your name.")

    await page.get_by_label("How many?").select_option("1")
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    await expect(page.locator("#hold-note .hold-countdown time")).to_have_text(re.compile(r"^1[45]:[0-5][0-9]$"))
    await check(page, "checkout-test-payment", screen, artifacts_dir)

    # Change order: the event page again, the choices filled in (the order keeps its places); then on to payment again,
    # the changed order replacing it.
    await page.get_by_role("button", name="Change order").click()
    await expect(page.locator("#order-changed")).to_be_focused()
    await expect(page.get_by_label("How many?")).to_have_value("1")
    await expect(page.get_by_label("Your name")).to_have_value("Sara Ahmadi")
    await check(page, "buy-form-changing", screen, artifacts_dir)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")

    await page.get_by_role("button", name=re.compile(r"^Pay .* \(test\)$")).click()
    await page.wait_for_url("**/orders/*?token=*")
    await check(page, "order-confirmation", screen, artifacts_dir)
    # An order's language menu is a form of buttons on white: axe checks their colour against it.
    await open_language_menu(page)
    await check(page, "order-confirmation-languages", screen, artifacts_dir)
    await page.locator("details.languages summary").click()  # closed again

    await page.locator(".ticket-card a").first.click()
    await page.wait_for_url("**/tickets/*")
    await check(page, "ticket", screen, artifacts_dir)


async def create_claim_link(base_url: str, token: str, places: int = 3) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            f"/api/events/{SUPPER}/claim-codes",
            json={"partner_name": "Refugee Women's Group", "places": places},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text
    return response.json()["code"]


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_claiming_a_free_place(page, screen: str, a11y_server, artifacts_dir: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    base_url, token = a11y_server.base_url, a11y_server.token
    code = await create_claim_link(base_url, token)
    await page.goto(f"{base_url}/claim/{code}?lang={lang}")
    assert await page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    await check(page, f"claim-{lang}", screen, artifacts_dir)

    submit = page.locator("form.form button[type=submit]")
    await page.locator("#email").fill("not an email")
    await submit.click()
    await expect(page.locator(".field-error").first).to_be_visible()
    await expect(page.locator("#name")).to_be_focused()  # the first field to fix
    await expect(page.locator("#name")).to_have_accessible_description((await page.locator("#name-error").inner_text()).strip())
    await check(page, f"claim-errors-{lang}", screen, artifacts_dir)

    await page.locator("#name").fill("ليلى" if lang == "ar" else "Layla")
    await page.locator("#email").fill("")
    await submit.click()
    await expect(page.locator("figure.qr svg")).to_be_visible()
    await check(page, f"claim-done-{lang}", screen, artifacts_dir)
    await page.goto(f"{base_url}/claim/{code}")  # the link again on the same phone: the ticket it gave, above the form
    await expect(page.locator("#claimed-here-heading")).to_be_visible()
    await check(page, f"claim-again-{lang}", screen, artifacts_dir)

    await page.goto(f"{base_url}/claim/{code}/places")
    await check(page, f"claim-places-{lang}", screen, artifacts_dir)


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_asking_for_a_free_place_when_a_link_is_used_up(page, screen: str, a11y_server, artifacts_dir: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    """A claim link whose places are taken offers its waiting list: the form, its mistakes, the guest's place in the
    queue and the confirmation before leaving it."""
    base_url, token = a11y_server.base_url, a11y_server.token
    code = await create_claim_link(base_url, token, places=1)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        claimed = await http.post("/api/claims", json={"code": code, "name": "Amal"})
    assert claimed.status_code == 201, claimed.text
    await page.goto(f"{base_url}/claim/{code}?lang={lang}")
    form = page.locator("form.waiting-list-form")
    await expect(form).to_be_visible()
    await check(page, f"waiting-list-free-{lang}", screen, artifacts_dir)

    await page.locator("#wl-name").fill("ليلى" if lang == "ar" else "Layla")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#wl-email-error")).to_be_visible()
    await expect(page.locator("#wl-email")).to_be_focused()  # the first field to fix
    await check(page, f"waiting-list-free-errors-{lang}", screen, artifacts_dir)

    await page.locator("#wl-email").fill(f"layla-{lang}-{screen}@example.org")  # one entry per email and list
    await page.locator("form.waiting-list-form button[type=submit]").click()
    await page.wait_for_url("**/waiting-list/*")
    await expect(page.locator(".position")).to_be_visible()
    await check(page, f"waiting-list-entry-{lang}", screen, artifacts_dir)

    await page.locator(".leave-link a").click()
    await page.wait_for_url("**/leave")
    await check(page, f"waiting-list-leave-{lang}", screen, artifacts_dir)


async def test_the_door_page_scanning_and_pairing(browser, signed_in, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = a11y_server.base_url
    organiser = await signed_in("organiser", screen)  # organisers may also pair phones
    page = await organiser.new_page()
    await page.goto(f"{base_url}/door/{SLUG}")
    await page.get_by_label("Device name").fill(f"Door {screen}")
    await page.get_by_role("button", name="Use this device for scanning").click()
    await expect(page.locator("#door-scanner")).to_be_visible()
    await expect(page.locator("#door")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
    for summary in ("Sell tickets at the door", "Pair another phone with a QR code"):
        await page.get_by_text(summary).click()
    await check(page, "door-scanner", screen, artifacts_dir)

    # The full-screen verdict, while it is up (it goes by itself after about two seconds).
    await page.locator("#door-code").fill("not-a-ticket")
    await page.keyboard.press("Enter")
    verdict = page.locator("#door-result.door-result-error")
    await expect(verdict).to_be_visible()
    await expect(verdict).to_be_hidden(timeout=4_000)
    await page.evaluate("document.getElementById('door-result').hidden = false")  # as it was, held up while axe looks
    await check(page, "door-verdict", screen, artifacts_dir)
    await page.keyboard.press("Escape")  # as a tap does, from the keyboard
    await expect(page.locator("#door-result")).to_be_hidden()
    assert await page.evaluate("document.activeElement.id") == "door-code"

    await page.get_by_label("Name for the phone").fill("Door B phone")
    await page.get_by_role("button", name="Show pairing QR code").click()
    await expect(page.locator("figure.qr svg")).to_be_visible()
    await check(page, "door-pairing-qr", screen, artifacts_dir)

    pairing_url = await page.locator("#pairing-url").get_attribute("href")
    phone = await browser.new_context(**SCREENS[screen])
    try:
        other = await phone.new_page()
        await other.goto(base_url + re.sub(r"^https?://[^/]+", "", pairing_url))
        await check(other, "door-pair-offer", screen, artifacts_dir)
        await other.get_by_role("button", name="Use this phone at the door").click()
        await other.wait_for_url(f"**/door/{SLUG}")
        await expect(other.locator("#door-scanner")).to_be_visible()
    finally:
        await phone.close()
        await organiser.close()


async def test_the_buy_form_works_from_the_keyboard(browser, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Tab walks through every control of the form in reading order, each showing a visible focus ring,
    and Enter in a field sends the form."""
    axe_source()
    context = await browser.new_context(**SCREENS["desktop"])
    page = await context.new_page()
    await page.goto(f"{a11y_server.base_url}/events/{SLUG}")
    controls = await page.evaluate(
        """() => [...document.querySelectorAll("form.buy-form :is(input, select, textarea, button)")]
            .filter((el) => el.type !== "hidden" && !el.disabled && el.getClientRects().length > 0)
            .map((el) => el.id || el.textContent.trim())"""
    )
    assert len(controls) >= 4, controls  # quantity, donation, Gift Aid, name, email, submit

    reached: list[str] = []
    for _ in range(60):
        await page.keyboard.press("Tab")
        focus = await page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el.closest("form.buy-form")) return null;
                const style = getComputedStyle(el);
                return {id: el.id || el.textContent.trim(), outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                        visible: el.matches(":focus-visible")};
            }"""
        )
        if focus is None:
            if reached:
                break
            continue
        assert focus["visible"] and focus["outline"] != "none" and focus["width"] >= 2, f"a visible focus ring on {focus}"
        reached.append(focus["id"])
        if len(reached) == 2:
            await page.screenshot(path=str(artifacts_dir / "a11y-buy-form-keyboard-focus.png"))
    assert reached == controls

    # Choose a ticket and fill in the details by keyboard alone, then press Enter in the email field.
    await page.focus(f"#{controls[0]}")
    await page.keyboard.press("ArrowDown")  # one ticket
    await page.focus("#name")
    await page.keyboard.type("Sara Ahmadi")
    await page.keyboard.press("Tab")
    await page.keyboard.type("sara@example.org")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/pay?token=*")
    await expect(page.get_by_role("button", name=re.compile(r"^Pay .* \(test\)$"))).to_be_visible()
    await context.close()


async def test_finding_and_erasing_a_guests_data(signed_in, screen: str, a11y_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Two guests who claimed with one phone number (a drop-in centre's): the organiser finds both by the number,
    sees that the names differ, ticks this guest's order and erases only that."""
    base_url = a11y_server.base_url
    code = await create_claim_link(base_url, a11y_server.token)
    number = "07911 123" + {"phone": "111", "desktop": "222"}[screen]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for name in ("Leila", "Samira"):
            claimed = await http.post("/api/claims", json={"code": code, "name": name, "phone": number})
            assert claimed.status_code in (200, 201), claimed.text
    context = await signed_in("organiser", screen)
    try:
        page = await context.new_page()
        await page.goto(f"{base_url}/manage/guests")
        await page.get_by_label("Guest's email address or phone number").fill("+44" + number[1:])
        await page.get_by_role("button", name="Find their data").click()
        await expect(page.get_by_text("These orders carry different names")).to_be_visible()
        await check(page, "manage-guests-found", screen, artifacts_dir)

        # The names differ, so nothing starts ticked: the organiser ticks this guest's own order.
        await expect(page.get_by_role("checkbox", name=re.compile("Samira"))).not_to_be_checked()
        await page.get_by_role("checkbox", name=re.compile("Leila")).check()
        await page.get_by_role("button", name="Erase their personal data in the ticked orders").click()
        await expect(page.locator("#erase-confirm-error")).to_be_visible()  # not confirmed yet
        await expect(page.get_by_role("checkbox", name=re.compile("Leila"))).to_be_checked()  # as ticked
        await expect(page.get_by_role("checkbox", name=re.compile("Samira"))).not_to_be_checked()
        await check(page, "manage-guests-erase-error", screen, artifacts_dir)
        await page.get_by_label("I confirm the guest asked for this; it cannot be undone.").check()
        await page.get_by_role("button", name="Erase their personal data in the ticked orders").click()
        await expect(page.get_by_text("The guest's personal data was erased.")).to_be_visible()

        await page.get_by_label("Guest's email address or phone number").fill(number)
        await page.get_by_role("button", name="Find their data").click()
        await expect(page.get_by_role("checkbox", name=re.compile("Samira"))).to_be_visible()
        await expect(page.get_by_role("checkbox", name=re.compile("Leila"))).to_have_count(0)
    finally:
        await context.close()


async def test_an_organisations_page_and_event_with_its_logo_on_a_390px_phone(  # type: ignore[no-untyped-def]
    browser, signed_in, a11y_server, artifacts_dir: Path, tmp_path: Path
) -> None:
    """The owner uploads a logo on the settings page; the organisation's public page and its event page then show
    it, in the organisation's colours, on a 390px-wide phone (screenshots: a11y-branding-*-phone390.png)."""
    from PIL import Image, ImageDraw

    logo = tmp_path / "logo.png"
    picture = Image.new("RGB", (360, 120), (255, 255, 255))
    drawing = ImageDraw.Draw(picture)
    drawing.rounded_rectangle((8, 8, 112, 112), radius=24, fill=(11, 92, 74))
    drawing.rectangle((132, 34, 344, 56), fill=(11, 92, 74))
    drawing.rectangle((132, 70, 300, 86), fill=(74, 74, 85))
    picture.save(logo)

    context = await signed_in("organiser", "phone")
    try:
        settings = await context.new_page()
        await settings.goto(f"{a11y_server.base_url}/manage/organisation")
        await settings.locator("#logo").set_input_files(str(logo))
        await settings.get_by_role("button", name="Upload logo").click()
        await settings.wait_for_url("**/manage/organisation?notice=logo")
        await check(settings, "branding-settings-with-logo", "phone", artifacts_dir)
    finally:
        await context.close()

    context = await browser.new_context(**{**SCREENS["phone"], "viewport": {"width": 390, "height": 844}})
    try:
        page = await context.new_page()
        for name, path, accent in (
            ("organisation", f"/organisations/{ORGANISATION}", "rgb(11, 92, 74)"),
            ("event", f"/events/{SUPPER}", "rgb(11, 92, 74)"),
            ("kitchen-event", f"/events/{KITCHEN_EVENT}", "rgb(138, 44, 13)"),
        ):
            response = await page.goto(a11y_server.base_url + path)
            assert response is not None and response.status == 200, path
            await page.wait_for_load_state("networkidle")
            # The organisation's colour reached the page through its theme.css (the header is drawn in it).
            assert await page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") == accent, path
            if name != "kitchen-event":  # the kitchen has no logo
                logo_width = await page.evaluate("Math.max(...[...document.querySelectorAll('img')].map((img) => img.naturalWidth))")
                assert logo_width == 360, f"{path}: the logo loaded"
            await check(page, f"branding-{name}-phone390", "phone", artifacts_dir)
    finally:
        await context.close()


async def cancelled_order(base_url: str, token: str, slug: str) -> dict[str, Any]:
    """A paid order of a new event, cancelled with a week for guests to donate their refund instead."""
    from datetime import datetime, timedelta, timezone

    from tests.factories import event_payload

    organiser = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        event = event_payload(datetime.now(timezone.utc) + timedelta(days=1), slug=slug, title=f"Harvest Supper {slug[-6:]}")
        assert (await http.post("/api/events", json=event, headers=organiser)).status_code == 201
        created = (await place_order(http, slug, quantity=1, buyer={"name": "Maria Lopez", "email": "maria@example.org"})).json()
        assert (await pay_with_test_page(http, created)).status_code == 303
        cancelled = await http.post(f"/api/events/{slug}/cancel", json={"donation_choice_days": 7}, headers=organiser)
        assert cancelled.status_code == 200 and cancelled.json()["awaiting_choice"] == 1, cancelled.text
    return created


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_donating_a_cancelled_events_refund_with_gift_aid(page, screen: str, a11y_server, artifacts_dir: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    base_url = a11y_server.base_url
    created = await cancelled_order(base_url, a11y_server.token, f"harvest-supper-{lang}-{screen}")
    await page.goto(f"{base_url}/orders/{created['reference']}/cancelled?token={created['access_token']}&lang={lang}")
    assert await page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    await check(page, f"refund-choice-{lang}", screen, artifacts_dir)
    if lang != "en":
        return
    # Gift Aid ticked with half the details: the form comes back saying what is missing, and nothing is donated.
    await page.locator("#gift_aid").check()
    await page.get_by_label("First name").fill("Maria")
    await page.get_by_role("button", name="Donate my refund").click()
    await expect(page.locator("#choice-error")).to_be_visible()
    await expect(page.get_by_label("Last name")).to_have_accessible_description("Please give your last name for Gift Aid.")
    await check(page, "refund-choice-errors", screen, artifacts_dir)
    await page.locator("#gift_aid").check()
    await page.get_by_label("Last name").fill("Lopez")
    await page.get_by_label("House name or number").fill("12")
    await page.get_by_label("Postcode").fill("SW1A 1AA")
    await page.get_by_role("button", name="Donate my refund").click()
    await expect(page.locator("#choice-made")).to_contain_text("is now a donation to the event's partner projects")
    await check(page, "refund-choice-donated", screen, artifacts_dir)


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_naming_each_guest_and_changing_a_name(page, screen: str, a11y_server, artifacts_dir: Path, lang: str) -> None:  # type: ignore[no-untyped-def]
    """A name field per ticket on the buy form, and the page that changes the name on a ticket, with its error."""
    base_url = a11y_server.base_url
    await page.goto(f"{base_url}/events/{SLUG}?lang={lang}")
    await page.locator(".buy-form select[name^=quantity_]").first.select_option("2")
    await page.locator("#name").fill("Sara Ahmadi")
    await page.locator("#email").fill("sara@example.org")
    await page.locator("#guest_name_1").fill("Omid Rahimi")
    await check(page, f"buy-form-guest-names-{lang}", screen, artifacts_dir)
    await page.locator(".buy-form button[type=submit]").click()
    await page.wait_for_url("**/pay?token=*")
    await page.locator("form[action$='/test-payment'] button").click()
    await page.wait_for_url("**/orders/*?token=*")
    await expect(page.locator(".ticket-card").nth(1)).to_contain_text("Omid Rahimi")
    await page.locator(".ticket-card .holder-link").nth(1).click()
    await page.wait_for_url("**/holder?token=*")
    await page.goto(f"{page.url}&lang={lang}")
    await check(page, f"ticket-holder-{lang}", screen, artifacts_dir)
    if lang != "en":
        return
    await page.locator("#holder").fill(" ")
    await page.locator(".holder-form button[type=submit]").click()
    await expect(page.locator("#holder-error")).to_be_visible()
    await expect(page.locator("#holder")).to_be_focused()
    await check(page, f"ticket-holder-error-{lang}", screen, artifacts_dir)
