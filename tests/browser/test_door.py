"""The door page in real Chromium on a phone-sized screen: a handheld scanner, search and door sales,
two phones admitting the same ticket with the network off, and a (fake) camera reading a real QR code."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from events.tickets.qr import qr_matrix
from tests.conftest import CHROMIUM_ARGS
from tests.support.orders import pay_with_test_page, place_order
from tests.support.server import demo_environment, live_server
from tests.support.ticket_codes import ticket_codes

pytestmark = pytest.mark.browser

SLUG = "choose-love-night"
ORGANISER = ("organiser@example.org", "organiser-demo-2026")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def door_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server of its own: these tests admit and sell tickets, which other browser tests should not see."""
    var_dir = tmp_path_factory.mktemp("door-server")
    env = demo_environment(var_dir)
    with live_server(env) as base_url:
        yield base_url, env


async def buy(server: tuple[str, dict[str, str]], holder: str, quantity: int = 1) -> list[dict[str, Any]]:
    base_url, env = server
    async with httpx.AsyncClient(base_url=base_url) as http:
        created = (await place_order(http, SLUG, quantity=quantity, type_name="Advance", buyer={"name": holder, "email": "guest@example.org"})).json()
        paid = await pay_with_test_page(http, created)
        assert paid.status_code == 303, paid.text
    return ticket_codes(env, created["reference"])


async def sign_in(page: Any, base_url: str) -> None:
    await page.goto(f"{base_url}/login?next=/door/{SLUG}")
    await page.get_by_label("Email").fill(ORGANISER[0])
    await page.get_by_label("Password").fill(ORGANISER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**/door/{SLUG}")


async def use_this_device(page: Any, name: str) -> None:
    await page.get_by_label("Device name").fill(name)
    await page.get_by_role("button", name="Use this device for scanning").click()
    await expect(page.locator("#door-scanner")).to_be_visible()
    await expect(page.locator("#door-device-name")).to_have_text(name)
    await ready(page)


async def ready(page: Any) -> None:
    """The guest list is on the device and the page is kept for reloading with no signal."""
    await expect(page.locator("#door")).to_have_attribute("data-offline-ready", "true", timeout=15_000)


async def scan_by_keyboard(page: Any, code: str) -> None:
    """What a handheld scanner does: types the QR's text into the focused field and presses Enter."""
    assert await page.evaluate("document.activeElement && document.activeElement.id") == "door-code"
    await page.keyboard.type(code)
    await page.keyboard.press("Enter")


async def result(page: Any, kind: str) -> Any:
    panel = page.locator(f"#door-result.door-result-{kind}")
    await expect(panel).to_be_visible()
    return panel


async def test_a_handheld_scan_admits_then_says_already_scanned(browser, door_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = door_server[0]
    [ticket] = await buy(door_server, "Leila Karimi")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await sign_in(page, base_url)
    await page.screenshot(path=str(artifacts_dir / "door-setup.png"), full_page=True)
    await use_this_device(page, "Door A phone")
    await expect(page.locator("#door-network")).to_have_attribute("data-state", "online")

    await scan_by_keyboard(page, ticket["code"])
    admit = await result(page, "ok")
    await expect(admit.locator(".door-verdict")).to_have_text("ADMIT")
    await expect(admit.locator(".door-holder")).to_have_text("Leila Karimi")
    await expect(admit.locator(".door-type")).to_have_text("Advance")
    await expect(page.locator("#door-announce")).to_contain_text("Leila Karimi")  # read out by screen readers
    await page.screenshot(path=str(artifacts_dir / "door-admit.png"))
    # Gone by itself after about two seconds, and the scan field has the focus for the next guest.
    await expect(page.locator("#door-result")).to_be_hidden(timeout=4_000)
    assert await page.evaluate("document.activeElement.id") == "door-code"
    await expect(page.locator("#door-admitted")).to_have_text(re.compile(r"[1-9]\d*"))

    await scan_by_keyboard(page, ticket["code"])
    refused = await result(page, "error")
    await expect(refused.locator(".door-verdict")).to_have_text("STOP")
    await expect(refused.locator(".door-reason")).to_have_text(re.compile(r"^Already scanned \d\d:\d\d at Door A phone$"))
    await page.screenshot(path=str(artifacts_dir / "door-already-scanned.png"))
    await refused.click()  # a tap dismisses it at once
    await expect(page.locator("#door-result")).to_be_hidden()

    await scan_by_keyboard(page, "not-a-ticket")
    unknown = await result(page, "error")
    await expect(unknown.locator(".door-reason")).to_have_text("Unknown code")
    # Nothing is wider than the phone.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await context.close()


async def test_search_admits_a_guest_and_the_door_sells_tickets(browser, door_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = door_server[0]
    await buy(door_server, "Farid Rahimi")
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await sign_in(page, base_url)
    await use_this_device(page, "Door S phone")

    await page.get_by_label("Name or order reference").fill("farid")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("button", name="Admit Farid Rahimi").click()
    admit = await result(page, "ok")
    await expect(admit.locator(".door-holder")).to_have_text("Farid Rahimi")
    await admit.click()
    await expect(page.locator("#door-search-results")).to_contain_text("In at")
    # Found again, the guest already in is not offered the same green Admit: scanning again says they are in.
    await page.get_by_role("button", name="Search").click()
    again = page.get_by_role("button", name="Scan Farid Rahimi again")
    await expect(again).to_have_text("Scan again")
    await expect(page.get_by_role("button", name="Admit Farid Rahimi")).to_have_count(0)
    await again.click()
    stop = await result(page, "error")
    await expect(stop).to_contain_text("Already scanned")
    await stop.click()

    # A refunded ticket found by name says so, with no Admit to press in front of its guest.
    async with httpx.AsyncClient(base_url=base_url) as http:
        created = (
            await place_order(http, SLUG, quantity=1, type_name="Advance", buyer={"name": "Farah Hassan", "email": "farah@example.org"})
        ).json()
        assert (await pay_with_test_page(http, created)).status_code == 303
    reference = created["reference"]
    await page.goto(f"{base_url}/manage/orders/{reference}")
    await page.get_by_label(re.compile(r"Everything left")).check()
    await page.get_by_label("Reason").fill("Could not come")
    await page.get_by_label("I want to refund this money; this cannot be undone.").check()
    await page.get_by_role("button", name="Refund", exact=True).click()
    await expect(page.locator(".notice").first).to_be_visible()
    await page.goto(f"{base_url}/door/{SLUG}")
    await ready(page)
    await page.get_by_label("Name or order reference").fill("farah")
    await page.get_by_role("button", name="Search").click()
    hit = page.locator("#door-search-results li").filter(has_text="Farah Hassan")
    await expect(hit.locator(".door-hit-status")).to_have_text("Refunded")
    await expect(hit.get_by_role("button")).to_have_count(0)
    await page.screenshot(path=str(artifacts_dir / "door-search-refunded.png"))
    # With no signal, the guest list on the phone says the same.
    await context.set_offline(True)
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#door-search-note")).to_have_text("Searched the guest list on this device (names only).")
    await expect(hit.locator(".door-hit-status")).to_have_text("Refunded")
    await expect(hit.get_by_role("button")).to_have_count(0)
    await context.set_offline(False)

    await page.get_by_text("Sell tickets at the door").click()
    await page.get_by_label("How many?").select_option("2")
    await page.get_by_label("Card terminal").check()
    await expect(page.locator("#door-sale-total")).to_have_text("£18")
    await page.get_by_role("button", name="Sell and admit").click()
    await result(page, "ok")
    sold = page.locator("#door-sale-result")
    await expect(sold).to_contain_text("Sold 2 × On the door, £18 by card terminal, order ")
    assert await sold.locator("li").count() == 2
    await page.locator("#door-result").click()
    await page.screenshot(path=str(artifacts_dir / "door-sale.png"), full_page=True)

    # Rung up by mistake: undone with a second press, the money to hand back said plainly.
    await sold.get_by_role("button", name="Undo this sale").dblclick()  # a double tap shows the amount, undoes nothing
    confirm = sold.get_by_role("button", name="Yes, undo it: hand back £18")
    await expect(confirm).to_be_visible()
    await expect(sold).to_contain_text("Sold 2 × On the door")
    await page.wait_for_timeout(700)  # the volunteer reads the amount before confirming
    await confirm.click()
    await expect(sold).to_contain_text("undone: hand back £18 (card terminal). Its tickets no longer work.")
    await expect(sold.get_by_role("button")).to_have_count(0)
    await page.screenshot(path=str(artifacts_dir / "door-sale-undone.png"), full_page=True)
    await context.close()


async def test_two_phones_admit_one_ticket_offline_and_sync_reports_the_conflict(browser, door_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = door_server[0]
    [ticket, second, third] = await buy(door_server, "Yusuf Ali", quantity=3)
    door_a = await browser.new_context(**PHONE)
    page_a = await door_a.new_page()
    await sign_in(page_a, base_url)
    await use_this_device(page_a, "Door A phone")

    # The organiser pairs a second phone with a QR code: the phone opens the address the code holds.
    await page_a.get_by_text("Pair another phone with a QR code").click()
    await page_a.get_by_label("Name for the phone").fill("Door B phone")
    await page_a.get_by_role("button", name="Show pairing QR code").click()
    await expect(page_a.locator("figure.qr svg")).to_be_visible()
    pairing_path = re.sub(r"^https?://[^/]+", "", await page_a.locator("#pairing-url").get_attribute("href"))
    door_b = await browser.new_context(**PHONE)
    page_b = await door_b.new_page()
    await page_b.goto(base_url + pairing_path)
    await page_b.get_by_role("button", name="Use this phone at the door").click()
    await page_b.wait_for_url(f"**/door/{SLUG}")
    await expect(page_b.locator("#door-device-name")).to_have_text("Door B phone")
    await ready(page_b)
    await page_a.goto(f"{base_url}/door/{SLUG}")
    await ready(page_a)

    await door_a.set_offline(True)
    await door_b.set_offline(True)
    # Chromium's offline emulation can let a request through while a reloaded page starts up (phone B
    # reloads below); with no signal nothing reaches the server, so the API is cut off too.
    for door in (door_a, door_b):
        await door.route("**/api/**", lambda route: route.abort("internetdisconnected"))
    await expect(page_a.locator("#door-network")).to_have_attribute("data-state", "offline")
    await page_a.evaluate(
        """() => {
          window.doorTimes = {};
          document.addEventListener("keydown", (e) => { if (e.key === "Enter") window.doorTimes.enter = performance.now(); }, true);
          new MutationObserver(() => {
            if (!document.getElementById("door-result").hidden) window.doorTimes.shown = performance.now();
          }).observe(document.getElementById("door-result"), { attributes: true });
        }"""
    )
    await scan_by_keyboard(page_a, ticket["code"])
    admitted_a = await result(page_a, "ok")
    await expect(admitted_a.locator(".door-holder")).to_have_text("Yusuf Ali")
    await expect(admitted_a.locator(".door-reason")).to_have_text("Checked offline")
    times = await page_a.evaluate("window.doorTimes")
    assert times["shown"] - times["enter"] < 300, times  # checked on the phone: signature, guest list, verdict
    await page_a.screenshot(path=str(artifacts_dir / "door-offline-admit.png"))
    await admitted_a.click()
    # Offline, the signature is checked with the event's public key: a forged code naming a real ticket fails.
    await scan_by_keyboard(page_a, forge(second["code"]))
    await expect((await result(page_a, "error")).locator(".door-reason")).to_have_text("Unknown code · Checked offline")
    await page_a.locator("#door-result").click()
    # A code typed from paper (the bare secret) is found in the guest list on the phone.
    await scan_by_keyboard(page_a, second["secret"])
    await expect((await result(page_a, "ok")).locator(".door-reason")).to_have_text("Checked offline")
    await page_a.locator("#door-result").click()
    # A ticket issued before the current code format: its signature is checked too, forged or genuine.
    await scan_by_keyboard(page_a, forge(third["legacy_code"]))
    await expect((await result(page_a, "error")).locator(".door-reason")).to_have_text("Unknown code · Checked offline")
    await page_a.locator("#door-result").click()
    await scan_by_keyboard(page_a, third["legacy_code"])
    await expect((await result(page_a, "ok")).locator(".door-reason")).to_have_text("Checked offline")
    await expect(page_a.locator("#door-network")).to_have_text(re.compile("Offline · 3 scans waiting to sync"))

    # Phone B's handheld scanner types letters in lower case: the signature is still checked, and holds.
    await scan_by_keyboard(page_b, ticket["code"].lower())
    await expect((await result(page_b, "ok")).locator(".door-holder")).to_have_text("Yusuf Ali")

    # Phone B reloads with no signal: the page comes from its cache and the queued admission is still there.
    await page_b.reload()
    await expect(page_b.locator("#door-scanner")).to_be_visible()
    await expect(page_b.locator("#door-network")).to_have_text(re.compile("Offline · 1 scan waiting to sync"))
    await scan_by_keyboard(page_b, ticket["code"])
    await expect((await result(page_b, "error")).locator(".door-reason")).to_contain_text("Already scanned")

    async with page_a.expect_response("**/api/checkin/sync") as first_sync:
        await door_a.unroute("**/api/**")
        await door_a.set_offline(False)
    first = await (await first_sync.value).json()
    assert first["conflicts"] == 0 and [s["status"] for s in first["scans"]] == ["ok", "ok", "ok"]
    await expect(page_a.locator("#door-network")).to_have_text(re.compile(r"^\s*Connected\s*$"), timeout=10_000)
    async with page_b.expect_response("**/api/checkin/sync") as synced:
        await door_b.unroute("**/api/**")
        await door_b.set_offline(False)
    body = await (await synced.value).json()
    assert body["conflicts"] == 1
    assert body["scans"][0]["conflict"] is True and body["scans"][0]["ticket"]["checked_in_by"] == "Door A phone"
    conflicts = page_b.locator("#door-conflicts")
    await expect(conflicts).to_be_visible()
    await expect(conflicts).to_contain_text("Yusuf Ali (Advance) was let in here offline")
    await expect(conflicts).to_contain_text("Door A phone had already admitted this ticket")
    await expect(page_b.locator("#door-network")).to_have_text(re.compile(r"^\s*Connected\s*$"))
    await expect(page_b.locator("#door-result")).to_be_hidden(timeout=4_000)
    await page_b.screenshot(path=str(artifacts_dir / "door-sync-conflict.png"), full_page=True)
    # The conflict stays on screen, across reloads, until someone has seen it.
    await page_b.reload()
    await expect(page_b.locator("#door-conflicts")).to_be_visible()
    await page_b.get_by_role("button", name="Seen, clear this list").click()
    await expect(page_b.locator("#door-conflicts")).to_be_hidden()
    await door_a.close()
    await door_b.close()


def forge(code: str) -> str:
    """The same ticket with one character changed in the second half of its code, which is signature in both formats."""
    prefix, payload, signature = code.split(".")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    return f"{prefix}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"


def write_y4m(path: Path, text: str, *, width: int = 640, height: int = 480, frames: int = 5) -> None:
    """A short grey-scale video of one QR code on white, for Chromium's fake camera (YUV4MPEG2, 4:2:0)."""
    from PIL import Image

    matrix = qr_matrix(text)  # includes the quiet zone
    scale = (min(width, height) - 40) // len(matrix)
    image = Image.new("L", (len(matrix), len(matrix)), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    image = image.resize((len(matrix) * scale, len(matrix) * scale), Image.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2) * (height // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)


async def test_the_camera_reads_a_ticket_qr_code(browser, door_server, artifacts_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = door_server[0]
    [ticket] = await buy(door_server, "Noor Hassan")
    video = tmp_path / "ticket-qr.y4m"
    write_y4m(video, ticket["code"])
    camera_browser = await browser.browser_type.launch(
        executable_path=shutil.which("chromium"),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = await camera_browser.new_context(**PHONE, permissions=["camera"])
        page = await context.new_page()
        await sign_in(page, base_url)
        await use_this_device(page, "Door C phone")
        native = await page.evaluate("async () => 'BarcodeDetector' in window && (await BarcodeDetector.getSupportedFormats()).includes('qr_code')")
        started = time.monotonic()
        await page.get_by_role("button", name="Start camera").click()
        admit = await result(page, "ok")
        await expect(admit.locator(".door-holder")).to_have_text("Noor Hassan")
        decoder = await page.locator("#door-camera-view").get_attribute("data-decoder")
        # Chromium on Linux has no BarcodeDetector: the vendored jsQR is what reads the code there.
        assert decoder == ("barcode-detector" if native else "jsqr"), (native, decoder)
        assert time.monotonic() - started < 15
        await page.screenshot(path=str(artifacts_dir / "door-camera-admit.png"))
        await expect(page.get_by_role("button", name="Stop camera")).to_be_visible()
        await context.close()
    finally:
        await camera_browser.close()
