"""A guest's first look, in real headless Chromium on a phone-sized screen."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


async def test_a_guest_browses_from_the_list_to_an_event(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = await context.new_page()
    await page.goto(demo_server + "/")
    assert await page.title() == "What's on"
    await page.screenshot(path=str(artifacts_dir / "event-list-mobile.png"), full_page=True)
    await page.get_by_role("link", name="Choose Love Night").click()
    await page.wait_for_url("**/events/choose-love-night")
    heading = page.get_by_role("heading", level=1)
    assert await heading.inner_text() == "Choose Love Night"
    tickets = await page.locator(".ticket-types").inner_text()
    assert "£6" in tickets and "£9" in tickets and "On the door" in tickets
    assert "Help Refugees" in await page.locator(".partners").inner_text()
    # Nothing is wider than the phone: no sideways scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(artifacts_dir / "event-page-mobile.png"), full_page=True)
    await context.close()


async def test_the_event_page_reads_right_to_left_in_arabic(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    page = await context.new_page()
    await page.goto(demo_server + "/events/august-supper-club")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    await page.screenshot(path=str(artifacts_dir / "event-page-arabic.png"), full_page=True)
    await context.close()


TITLE_EDGES = """links => links.map(link => {
    const heading = link.closest("h2").getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(link);
    const lines = [...range.getClientRects()];
    return {title: link.textContent.trim(), left: heading.left, right: heading.right, lines: lines.length,
            lineLefts: lines.map(line => line.left), lineRights: lines.map(line => line.right)};
})"""


async def test_event_titles_line_up_with_the_page_whatever_their_language(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """A title keeps its own direction (dir="auto") but is aligned as the page is: an English title that wraps onto two
    lines on an Arabic phone is on the right, as everything else; an Arabic title on an English page on the left."""
    context = await browser.new_context(viewport={"width": 360, "height": 800}, device_scale_factor=2, is_mobile=True)
    page = await context.new_page()
    await page.goto(demo_server + "/?lang=ar")
    titles = await page.locator(".event-list h2 a").evaluate_all(TITLE_EDGES)
    assert any(title["lines"] > 1 for title in titles), "a title long enough to wrap at 360px"
    for title in titles:
        assert all(abs(right - title["right"]) <= 2 for right in title["lineRights"]), title
    await page.screenshot(path=str(artifacts_dir / "home-arabic-titles.png"), full_page=True)

    await page.goto(demo_server + "/?lang=en")
    await page.locator(".event-list h2 a").first.evaluate("a => { a.textContent = 'أمسية سينما ترحيبية: عرض خاص بأسبوع اللاجئين في سينما ريو'; }")
    [arabic_title] = await page.locator(".event-list h2 a").first.evaluate_all(TITLE_EDGES)
    assert arabic_title["lines"] > 1 and all(abs(left - arabic_title["left"]) <= 2 for left in arabic_title["lineLefts"]), arabic_title
    await context.close()
