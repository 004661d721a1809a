"""Ten doors scan one ticket at the same instant through a real multi-worker server: exactly one admits it.

PostgreSQL only (SQLite serialises every writer, so it proves nothing about row locks). Skipped without
TEST_DATABASE_URL; fails instead of skipping when EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.

Everything goes through HTTP as guests and door phones do: the demo's supper club, a ticket bought and paid
with the test provider, its secret read from the order API, and its signed code read back from the QR code on
the guest's ticket page (decoded with zxing, as a door phone's camera would).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.server import demo_environment, live_server, run_cli

pytestmark = pytest.mark.postgres_only

WORKERS = 4
SCANNERS = 10
SLUG = "august-supper-club"  # from `events demo`
ORGANISER_EMAIL = "door-race-organiser@test.example"
ORGANISER_NAME = "Race Organiser"


@dataclass(frozen=True)
class DoorServer:
    base_url: str
    database_url: str
    headers: dict[str, str]
    var_dir: Path

    def server_log(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.var_dir.glob("server-*.log")))


@pytest.fixture(scope="module")
def door_server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoorServer]:
    """Migrated demo database and an organiser's API token, behind `events serve --workers 4`."""
    var_dir = tmp_path_factory.mktemp("door-race-server")
    env = demo_environment(var_dir, race_database)
    # The supper club is the demo network's (`events demo` seeds two organisations).
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser", "--name", ORGANISER_NAME, "--org", "refugee-welcome")
    token = run_cli(env, "token", "create", ORGANISER_EMAIL, "--label", "door race").strip()
    with live_server(env, workers=WORKERS) as base_url:
        yield DoorServer(base_url, race_database, {"Authorization": f"Bearer {token}"}, var_dir)


async def buy_paid_ticket(base_url: str) -> dict[str, Any]:
    """One ticket for the supper club, bought and paid as a guest's browser does; the order API's ticket."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        event = (await http.get(f"/api/events/{SLUG}")).json()
        body = {
            "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
            "items": [{"ticket_type": event["ticket_types"][0]["id"], "quantity": 1}],
        }
        placed = await http.post(f"/api/events/{SLUG}/orders", json=body)
        assert placed.status_code == 201, placed.text
        created = placed.json()
        assert created["payment"]["provider"] == "test"
        page = await http.get(created["payment"]["url"])
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, "the test payment form carries a CSRF token"
        # The same client sends back the csrftoken cookie the checkout page set.
        paid = await http.post(
            f"/orders/{created['reference']}/test-payment",
            data={"token": created["access_token"], "_csrf_token": csrf.group(1)},
        )
        assert paid.status_code == 303, paid.text
        order = await http.get(f"/api/orders/{created['reference']}", headers={"Authorization": f"Bearer {created['access_token']}"})
        assert order.status_code == 200, order.text
        details = order.json()
        assert details["status"] == "paid", details
        [ticket] = details["tickets"]
        assert ticket["status"] == "valid" and len(ticket["secret"]) >= 16
        return ticket


_PATH_TOKEN = re.compile(r"[MmHhVvLlZz]|-?\d+(?:\.\d+)?")


def _dark_polygons(svg: str) -> list[list[tuple[float, float]]]:
    """The dark shapes of a QR SVG: its paths (M/L/H/V moves, absolute or relative) and non-white rects."""
    polygons: list[list[tuple[float, float]]] = []
    for d in re.findall(r'<path[^>]*\bd="([^"]+)"', svg):
        tokens = _PATH_TOKEN.findall(d)
        x = y = 0.0
        current: list[tuple[float, float]] = []
        command, index = "M", 0
        while index < len(tokens):
            if tokens[index].isalpha():
                command, index = tokens[index], index + 1
                if command in "Zz":
                    if current:
                        polygons.append(current)
                        x, y = current[0]
                    current = []
                    continue
            if command in "MmLl":
                dx, dy = float(tokens[index]), float(tokens[index + 1])
                index += 2
                x, y = (x + dx, y + dy) if command.islower() else (dx, dy)
                if command in "Mm":
                    if len(current) > 2:
                        polygons.append(current)
                    current = []
                    command = "l" if command == "m" else "L"  # further pairs after a move are lines
            elif command in "Hh":
                x = x + float(tokens[index]) if command == "h" else float(tokens[index])
                index += 1
            elif command in "Vv":
                y = y + float(tokens[index]) if command == "v" else float(tokens[index])
                index += 1
            current.append((x, y))
        if len(current) > 2:
            polygons.append(current)
    for rect in re.findall(r"<rect\b[^>]*>", svg):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', rect))
        if attributes.get("fill", "#000").lower() in ("white", "#fff", "#ffffff", "none"):
            continue
        left, top = float(attributes.get("x", 0)), float(attributes.get("y", 0))
        width, height = float(attributes["width"]), float(attributes["height"])
        polygons.append([(left, top), (left + width, top), (left + width, top + height), (left, top + height)])
    return polygons


def decode_qr_svg(svg: str) -> str:
    """What a door phone reads from the ticket page: the SVG drawn as pixels, then decoded with zxing."""
    import zxingcpp
    from PIL import Image, ImageDraw

    view_box = re.search(r'viewBox="([\d.\s-]+)"', svg)
    assert view_box, "the ticket page shows an SVG QR code"
    _, _, width, height = (float(n) for n in view_box.group(1).split())
    scale, margin = 8, 4  # 8 pixels a module, and 4 more modules of white around whatever the SVG has
    image = Image.new("L", (int((width + 2 * margin) * scale), int((height + 2 * margin) * scale)), 255)
    draw = ImageDraw.Draw(image)
    polygons = _dark_polygons(svg)
    assert polygons, "the QR code has dark modules"
    for polygon in polygons:
        draw.polygon([((px + margin) * scale, (py + margin) * scale) for px, py in polygon], fill=0)
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, f"exactly one QR code on the ticket page, not {len(results)}"
    return results[0].text


async def signed_code_from_ticket_page(base_url: str, ticket: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        page = await http.get(ticket["url"])
    assert page.status_code == 200, page.text
    svg = re.search(r"<svg.*?</svg>", page.text, re.DOTALL)
    assert svg, "the ticket page shows its QR code"
    code = decode_qr_svg(svg.group(0))
    assert code.startswith("EVT2.") and code.count(".") == 2, code
    return code


async def simultaneous_scans(server: DoorServer, scanned: str, nonces: list[str]) -> list[httpx.Response | BaseException]:
    """One door phone per nonce, each with its own warmed-up connection, all released at the same moment."""
    start = asyncio.Event()
    ready = 0
    all_ready = asyncio.Event()

    async def door(nonce: str) -> httpx.Response:
        nonlocal ready
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=30) as http:
            assert (await http.get("/healthz")).status_code == 200  # open the keep-alive connection first
            ready += 1
            if ready == len(nonces):
                all_ready.set()
            await start.wait()
            return await http.post("/api/checkin/redeem", json={"event": SLUG, "secret": scanned, "nonce": nonce})

    tasks = [asyncio.create_task(door(nonce)) for nonce in nonces]
    await asyncio.wait_for(all_ready.wait(), timeout=30)
    start.set()
    return await asyncio.gather(*tasks, return_exceptions=True)


def outcome(result: httpx.Response | BaseException) -> str:
    if isinstance(result, BaseException):
        return f"exception {type(result).__name__}: {result}"
    if result.status_code != 200:
        return f"{result.status_code} {result.text[:200]}"
    body = result.json()
    return "ok" if body["status"] == "ok" and body["reason"] is None else f"{body['status']} {body['reason']}"


async def scans_in_database(database_url: str, nonces: list[str]) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        scans = await connection.fetch("SELECT nonce, status, reason, ticket FROM scan WHERE nonce = ANY($1::text[])", nonces)
        tickets = await connection.fetch(
            "SELECT id, checked_in_at, checked_in_by, inside FROM ticket WHERE id = ANY($1::int[])",
            list({row["ticket"] for row in scans if row["ticket"] is not None}),
        )
    finally:
        await connection.close()
    return {"scans": [dict(row) for row in scans], "tickets": [dict(row) for row in tickets]}


async def race(server: DoorServer, scanned: str, ticket: dict[str, Any]) -> None:
    nonces = [f"race-{uuid.uuid4().hex}" for _ in range(SCANNERS)]

    results = await simultaneous_scans(server, scanned, nonces)

    outcomes = Counter(outcome(result) for result in results)
    assert outcomes == {"ok": 1, "error already_redeemed": SCANNERS - 1}, (outcomes, server.server_log()[-5000:])
    assert "Traceback" not in server.server_log()
    bodies = [result.json() for result in results if isinstance(result, httpx.Response)]
    # Every door names the one admission: "already scanned at 21:14 at <the door that won>".
    [admission] = {(b["ticket"]["checked_in_at"], b["ticket"]["checked_in_by"]) for b in bodies}
    assert admission[0] and admission[1]
    assert {b["ticket"]["holder"] for b in bodies} == {ticket["holder"]}

    state = await scans_in_database(server.database_url, nonces)
    assert len(state["scans"]) == SCANNERS
    assert {row["ticket"] for row in state["scans"]} == {ticket["id"]}
    assert Counter(row["status"] for row in state["scans"]) == {"ok": 1, "error": SCANNERS - 1}
    assert {row["reason"] for row in state["scans"] if row["status"] == "error"} == {"already_redeemed"}
    [admitted] = state["tickets"]
    assert admitted["checked_in_at"] is not None and admitted["inside"] is True
    assert admitted["checked_in_by"] == admission[1]

    # Phones that retry after a timeout get their first answer back, whichever worker takes the retry.
    retried = await simultaneous_scans(server, scanned, nonces)
    assert [outcome(r) for r in retried] == [outcome(r) for r in results]
    assert [r.json() for r in retried if isinstance(r, httpx.Response)] == bodies
    assert len((await scans_in_database(server.database_url, nonces))["scans"]) == SCANNERS


async def test_ten_doors_scanning_one_bare_secret_admit_it_once(door_server: DoorServer) -> None:
    ticket = await buy_paid_ticket(door_server.base_url)
    await race(door_server, ticket["secret"], ticket)


async def test_ten_doors_scanning_one_signed_code_admit_it_once(door_server: DoorServer) -> None:
    ticket = await buy_paid_ticket(door_server.base_url)
    code = await signed_code_from_ticket_page(door_server.base_url, ticket)
    await race(door_server, code, ticket)
