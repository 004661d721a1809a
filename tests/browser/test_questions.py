"""Questions per guest in Chromium, on the demo (whose supper club asks the dietary question): a refugee guest claims a
free place in Arabic on a phone and answers it; a buyer is asked on the second page of the buy form, a missed answer
takes the focus, and they change an answer from their order page; the organiser's Questions page and the kitchen list
(counts only), each checked with axe and photographed for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from events import i18n
from tests.browser.test_accessibility import check, sign_in
from tests.support.accessibility import axe_source
from tests.support.orders import pay_with_test_page, place_order
from tests.support.server import demo_environment, live_server, run_cli
from tests.support.ticket_pdfs import PDF_TIMEOUT_MS, rasterise

pytestmark = pytest.mark.browser

SUPPER = "august-supper-club"  # seeded by `events demo`: asks the dietary question; in development, some guests answered it
ORGANISER = "organiser@example.org"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def arabic(message: str) -> str:
    """What an Arabic page shows for ``message`` (the English until the sentence is translated centrally)."""
    return i18n.translations("ar").gettext(message)


@pytest.fixture(scope="module")
def questions_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    axe_source()  # skip (or fail in CI) before starting a server when axe is not installed
    env = demo_environment(tmp_path_factory.mktemp("questions-server"))
    token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
    with live_server(env) as base_url:
        yield base_url, {"Authorization": f"Bearer {token}"}


async def api(base_url: str, method: str, path: str, headers: dict[str, str], **body: Any) -> Any:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.request(method, path, headers=headers, json=body or None)
    assert response.status_code in (200, 201), response.text
    return response.json()


def counts(summary: dict[str, Any]) -> dict[str, int]:
    [dietary] = [q for q in summary["questions"] if q["label"] == "Dietary and allergen needs"]
    return {tally["key"]: tally["count"] for tally in dietary["counts"]}


async def to_the_questions_step(page: Any, base_url: str, *, tickets: int) -> None:
    """Sara chooses ``tickets`` supper tickets, gives her name and email, and goes on to the questions."""
    await page.goto(f"{base_url}/events/{SUPPER}")
    await page.get_by_label("How many?").select_option(str(tickets))
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("A few questions before you pay")


async def test_an_arabic_guest_answers_the_dietary_question_when_claiming_on_a_phone(  # type: ignore[no-untyped-def]
    browser, questions_server: tuple[str, dict[str, str]], artifacts_dir: Path
) -> None:
    base_url, organiser = questions_server
    link = await api(base_url, "POST", f"/api/events/{SUPPER}/claim-codes", organiser, partner_name="Refugee Women's Group", places=3)
    before = counts(await api(base_url, "GET", f"/api/events/{SUPPER}/questions/summary", organiser))
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{base_url}/claim/{link['code']}?lang=ar")
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    question = page.get_by_role("group", name=re.compile(re.escape(arabic("Dietary and allergen needs"))))
    await expect(question).to_be_visible()
    await expect(question).to_contain_text(arabic("(optional)"))
    await question.get_by_label(arabic("Halal"), exact=True).check()
    await question.get_by_label(arabic("Peanut allergy"), exact=True).check()
    await page.get_by_label(arabic("Anything else the kitchen should know? (optional)")).fill("بدون فطر")
    await page.locator("#name").fill("ليلى")
    await check(page, "claim-arabic-with-questions", "phone", artifacts_dir)
    await page.locator("form.form button[type=submit]").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(arabic("Here is your ticket"))
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    after = counts(await api(base_url, "GET", f"/api/events/{SUPPER}/questions/summary", organiser))
    assert after["halal"] == before["halal"] + 1 and after["peanuts"] == before["peanuts"] + 1 and after["other"] == before["other"] + 1
    await context.close()


async def test_a_buyer_is_asked_the_questions_and_a_missed_answer_takes_the_focus(  # type: ignore[no-untyped-def]
    browser, questions_server: tuple[str, dict[str, str]], artifacts_dir: Path
) -> None:
    base_url, organiser = questions_server
    course = await api(
        base_url,
        "POST",
        f"/api/events/{SUPPER}/questions",
        organiser,
        kind="one_choice",
        label="Main course",
        options=["Lamb", "Aubergine"],
        required=True,
    )
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await to_the_questions_step(page, base_url, tickets=2)
    await expect(page.get_by_role("heading", name="Ticket 2: Supper")).to_be_visible()
    await check(page, "buy-questions", "phone", artifacts_dir)

    first = page.get_by_role("group", name="Main course").first
    await first.get_by_label("Lamb").check()
    await page.get_by_role("group", name=re.compile("Dietary and allergen needs")).nth(1).get_by_label("Vegan").check()
    await page.get_by_role("button", name="Continue to payment").click()
    # The second guest's main course was missed: the summary says so, and the focus is on its first choice.
    await expect(page.locator(".error-summary")).to_contain_text('Please answer "Main course" for ticket 2.')
    missed = page.locator(f"#answer_{course['id']}_1")
    await expect(missed).to_be_focused()
    await expect(page.locator(f"#answer_{course['id']}_1-error")).to_have_text('Please answer "Main course" for ticket 2.')
    await check(page, "buy-questions-error", "phone", artifacts_dir)
    await page.get_by_role("group", name="Main course").nth(1).get_by_label("Aubergine").check()
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    await page.get_by_role("button", name=re.compile(r"^Pay .* \(test\)$")).click()
    await page.wait_for_url("**/orders/*?token=*")

    answers = page.locator("section.order-answers")
    await expect(answers).to_contain_text("Aubergine")
    await expect(answers).to_contain_text("Vegan")
    await answers.get_by_role("link", name="Change your answers").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your answers")
    await page.get_by_role("group", name="Main course").first.get_by_label("Aubergine").check()
    await check(page, "order-answers", "phone", artifacts_dir)
    await page.get_by_role("button", name="Save my answers").click()
    await expect(page.get_by_role("status")).to_have_text("Your answers are saved.")
    await expect(page.get_by_role("group", name="Main course").first.get_by_label("Aubergine")).to_be_checked()
    await context.close()


async def test_answers_typed_before_switching_language_come_back_on_the_questions_step(  # type: ignore[no-untyped-def]
    browser, questions_server: tuple[str, dict[str, str]], artifacts_dir: Path
) -> None:
    """The language menu of the questions step leads back to the event page (a form's answer has no address to show
    again): the choices come back there, and the answers on the questions step the guest goes on to."""
    base_url, _ = questions_server
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await to_the_questions_step(page, base_url, tickets=1)
    dietary = page.get_by_role("group", name=re.compile("Dietary and allergen needs")).first
    vegan = dietary.get_by_label("Vegan", exact=True)
    await vegan.check()
    other = page.get_by_label("Anything else the kitchen should know? (optional)").first
    await other.fill("No mushrooms, please")
    vegan_name, other_name = await vegan.get_attribute("name"), await other.get_attribute("name")

    await page.locator("details.languages summary").click()
    await page.locator("details.languages a[lang='fr']").click()
    await page.wait_for_function("document.documentElement.lang === 'fr'")
    form = page.locator("form.buy-form")
    await expect(form.locator("input[name='name']")).to_have_value("Sara Ahmadi")
    await expect(form.locator("input[name='email']")).to_have_value("sara@example.org")
    await form.locator("button[type=submit]").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(i18n.translations("fr").gettext("A few questions before you pay"))
    answers = page.locator("form.answers-form")
    await expect(answers.locator(f"input[name='{vegan_name}']")).to_be_checked()
    await expect(answers.locator(f"input[name='{other_name}']")).to_have_value("No mushrooms, please")
    await page.screenshot(path=str(artifacts_dir / "answers-kept-after-language-fr.png"), full_page=True)
    # Kept once: the step shown again starts from what the server knows.
    await page.go_back()
    await page.wait_for_function("document.documentElement.lang === 'fr'")
    await form.locator("button[type=submit]").click()
    await expect(answers.locator(f"input[name='{vegan_name}']")).not_to_be_checked()
    await context.close()


async def test_the_organiser_sets_questions_up_and_reads_the_kitchen_list(  # type: ignore[no-untyped-def]
    browser, questions_server: tuple[str, dict[str, str]], artifacts_dir: Path, tmp_path: Path
) -> None:
    base_url, _ = questions_server
    context = await browser.new_context(**DESKTOP)
    page = await context.new_page()
    await sign_in(page, base_url, "organiser", f"/manage/events/{SUPPER}/questions")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Questions for guests")
    await expect(page.locator(".question-list")).to_contain_text("Dietary and allergen needs")
    await check(page, "manage-questions", "desktop", artifacts_dir)

    await page.get_by_role("link", name="Kitchen list").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("August Supper Club")
    table = page.locator("section.kitchen-question", has=page.get_by_role("heading", name="Dietary and allergen needs"))
    await expect(table.get_by_role("row", name=re.compile(r"^Vegetarian \d+$"))).to_be_visible()
    text = await page.locator("main").inner_text()
    for name in ("Priya", "Omar", "Ruth", "ليلى", "Sara", "@example.org"):
        assert name not in text, f"the kitchen list names {name}"
    await check(page, "kitchen-list", "desktop", artifacts_dir)
    await page.emulate_media(media="print")
    await page.screenshot(path=str(artifacts_dir / "kitchen-list-print.png"), full_page=True)
    await page.emulate_media(media="screen")

    pdf = await page.request.get(f"{base_url}/manage/events/{SUPPER}/kitchen.pdf", timeout=PDF_TIMEOUT_MS)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    for number, png in enumerate(rasterise(await pdf.body(), tmp_path), 1):
        png.replace(artifacts_dir / f"kitchen-list-pdf-{number}.png")
    await context.close()


async def test_a_long_question_and_its_answer_stay_readable_on_a_narrow_arabic_order_page(  # type: ignore[no-untyped-def]
    browser, questions_server: tuple[str, dict[str, str]], artifacts_dir: Path
) -> None:
    """A question as long as a sentence put its answer beside it in a column one letter wide, and pushed an Arabic
    order page on a 360px phone sideways: each answer now goes under its question, its words whole."""
    base_url, organiser = questions_server
    label = "Is there anything about access, seating or mobility we should know before the evening?"
    access = await api(base_url, "POST", f"/api/events/{SUPPER}/questions", organiser, kind="text", label=label)
    answer = "Wheelchair user, please keep a space near the door"
    questions = await api(base_url, "GET", f"/api/events/{SUPPER}/questions", organiser)
    [dietary] = [q for q in questions if q["preset"] == "dietary"]
    # Any other question the module's tests set up and made required gets its first choice.
    required = [{"question": q["id"], "value": q["options"][0]["key"]} for q in questions if q.get("required") and q["options"]]
    answers = [{"question": access["id"], "value": answer}, {"question": dietary["id"], "value": ["vegetarian"]}, *required]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await place_order(http, SUPPER, answers=answers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert (await pay_with_test_page(http, created)).status_code in (200, 303)
    context = await browser.new_context(viewport={"width": 360, "height": 800}, device_scale_factor=2, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{base_url}/orders/{created['reference']}?token={created['access_token']}&lang=ar")
    answers = page.locator("section.order-answers dl")
    await expect(answers).to_contain_text(answer)
    # A phone widens its layout to fit content that overflows, so the page must be exactly the screen's width.
    assert await page.evaluate("[document.documentElement.scrollWidth, innerWidth]") == [360, 360]
    dl = await answers.bounding_box()
    assert dl is not None
    for dd in await answers.locator("dd").all():
        box = await dd.bounding_box()
        assert box is not None and box["width"] >= dl["width"] * 0.9, "each answer has the line's width, under its question"
    vegetarian = answers.locator("dd", has_text=arabic("Vegetarian"))
    line_height = await vegetarian.evaluate("dd => parseFloat(getComputedStyle(dd).lineHeight)")
    assert (await vegetarian.bounding_box() or {"height": 0})["height"] < 1.5 * line_height, "a short answer stays on one line"
    await page.screenshot(path=str(artifacts_dir / "order-answers-long-question-ar-360.png"), full_page=True)
    await context.close()
