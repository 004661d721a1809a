"""Scanning at the door: one admission per ticket, clear refusals, idempotent retries, offline sync."""

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import Event
from events.checkin.door_team import assign_door_staff
from events.orders.tables import Order
from events.tickets.tables import Ticket
from events.tickets.views import tickets_of_order
from tests.factories import make_event
from tests.support.orders import pay_with_test_page, place_order


async def door_team(now: datetime, *, name: str = "Door 1", email: str = "door1@test.example", slug: str | None = None) -> dict[str, str]:
    user = await accounts.create_user(email, role="door", password=None, display_name=name)
    if slug:
        event = await Event.select(Event.id).where(Event.slug == slug).first()
        await assign_door_staff(event["id"], user.id)
    return {"Authorization": f"Bearer {await accounts.create_api_token(email, now=now)}"}


async def paid_tickets(client: httpx.AsyncClient, app, slug: str, quantity: int = 2, now: datetime | None = None) -> list:  # type: ignore[no-untyped-def]
    created = (await place_order(client, slug, quantity=quantity)).json()
    await pay_with_test_page(client, created)
    return await tickets_of_order(created["reference"], secret_key=app.state.settings.secret_key, now=now or datetime.now().astimezone())


def scan(slug: str, text: str, nonce: str | None = None, **extra: object) -> dict[str, object]:
    return {"event": slug, "secret": text, "nonce": nonce or uuid.uuid4().hex, **extra}


async def test_a_signed_code_admits_once_then_says_when_and_where(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [first, second] = await paid_tickets(client, app, slug, now=now)
    admitted = await client.post("/api/checkin/redeem", json=scan(slug, first.code), headers=door)
    assert admitted.status_code == 200, admitted.text
    body = admitted.json()
    assert body["status"] == "ok" and body["reason"] is None
    assert body["ticket"]["holder"] == "Amal Haddad" and body["ticket"]["type"] == "Supper"
    assert body["ticket"]["checked_in_by"] == "Door 1" and body["ticket"]["checked_in_at"]
    again = (await client.post("/api/checkin/redeem", json=scan(slug, first.code), headers=door)).json()
    assert again["status"] == "error" and again["reason"] == "already_redeemed"
    assert again["ticket"]["checked_in_by"] == "Door 1"  # "Already scanned 21:14 at Door 1"
    by_secret = (await client.post("/api/checkin/redeem", json=scan(slug, second.secret.upper()), headers=door)).json()
    assert by_secret["status"] == "ok"  # a bare secret typed from paper works too
    counts = (await client.get(f"/api/checkin/events/{slug}/counts", headers=door)).json()
    assert counts == {"admitted": 2, "expected": 2, "inside": 2}


async def test_the_same_nonce_returns_the_first_answer(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    request = scan(slug, ticket.code, nonce="retry-after-timeout-1")
    first = (await client.post("/api/checkin/redeem", json=request, headers=door)).json()
    second = (await client.post("/api/checkin/redeem", json=request, headers=door)).json()
    assert first["status"] == second["status"] == "ok"
    assert first == second
    from events.checkin.tables import Scan

    assert await Scan.count() == 1


async def test_a_retried_nonce_never_admits_a_ticket_its_first_scan_refused(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    await Order.update({Order.status: "pending"}).where(Order.reference == ticket.order_reference)
    request = scan(slug, ticket.code, nonce="retry-after-timeout-2")
    first = (await client.post("/api/checkin/redeem", json=request, headers=door)).json()
    assert first["reason"] == "unpaid"
    await Order.update({Order.status: "paid"}).where(Order.reference == ticket.order_reference)
    retried = (await client.post("/api/checkin/redeem", json=request, headers=door)).json()
    assert retried == first
    row = await Ticket.select(Ticket.checked_in_at, Ticket.inside).where(Ticket.id == ticket.id).first()
    assert row == {"checked_in_at": None, "inside": False}
    admitted = (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door)).json()
    assert admitted["status"] == "ok"  # a new scan is decided afresh


async def test_every_scan_is_logged_with_device_time_and_result(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.checkin.tables import Scan

    slug = await make_event(now)
    door = await door_team(now, name="Door 1", slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    at = (now - timedelta(seconds=30)).replace(microsecond=0)
    for nonce, text in (("log-0001-admit", ticket.code), ("log-0002-again", ticket.secret), ("log-0003-junk", "no such code")):
        assert (
            await client.post("/api/checkin/redeem", json=scan(slug, text, nonce=nonce, scanned_at=at.isoformat()), headers=door)
        ).status_code == 200
    rows = await Scan.select(Scan.nonce, Scan.device, Scan.scanned_at, Scan.status, Scan.reason, Scan.ticket).order_by(Scan.nonce)
    assert [(r["nonce"], r["device"], r["scanned_at"] == at, r["status"], r["reason"], r["ticket"]) for r in rows] == [
        ("log-0001-admit", "Door 1", True, "ok", None, ticket.id),
        ("log-0002-again", "Door 1", True, "error", "already_redeemed", ticket.id),
        ("log-0003-junk", "Door 1", True, "error", "unknown", None),
    ]


async def test_concurrent_scans_of_one_ticket_admit_exactly_once(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    responses = await asyncio.gather(*(client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door) for _ in range(10)))
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["error"] * 9 + ["ok"]
    assert {r.json()["reason"] for r in responses if r.json()["status"] == "error"} == {"already_redeemed"}


async def test_refusals_give_a_reason_a_person_understands(client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    other = await make_event(now, slug="other-night")
    door = await door_team(now, slug=slug)
    [ticket, refunded] = await paid_tickets(client, app, slug, now=now)
    [other_ticket, _] = await paid_tickets(client, app, other, now=now)
    await client.post(f"/api/orders/{refunded.order_reference}/refunds", json={"tickets": [refunded.id], "reason": "x"}, headers=organiser)
    tampered = ticket.code[:-6] + ("AAAAAA" if not ticket.code.endswith("AAAAAA") else "BBBBBB")
    cases = {
        "wrong_event": other_ticket.code,
        "refunded": refunded.code,
        "unknown": "not-a-ticket",
    }
    for reason, text in cases.items():
        body = (await client.post("/api/checkin/redeem", json=scan(slug, text), headers=door)).json()
        assert (body["status"], body["reason"]) == ("error", reason), (reason, body)
    forged = (await client.post("/api/checkin/redeem", json=scan(slug, tampered), headers=door)).json()
    assert forged["reason"] == "unknown" and forged["ticket"] is None
    await Order.update({Order.status: "pending"}).where(Order.reference == ticket.order_reference)
    unpaid = (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door)).json()
    assert unpaid["reason"] == "unpaid"


async def test_codes_typed_in_lower_case_and_codes_of_the_earlier_format_admit(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Some handheld scanners type letters in lower case; tickets issued before the current code format
    (EVT1) are still in guests' inboxes. Both admit, once."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from events.tickets.keys import current_signing_key
    from events.tickets.signing import read_claims
    from tests.support.legacy_codes import legacy_code

    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [first, second] = await paid_tickets(client, app, slug, now=now)
    typed = (await client.post("/api/checkin/redeem", json=scan(slug, first.code.lower()), headers=door)).json()
    assert typed["status"] == "ok" and typed["ticket"]["holder"] == "Amal Haddad"
    claims = read_claims(second.code)
    _, private_key = await current_signing_key(claims.event_id, secret_key=app.state.settings.secret_key, now=now)
    old = legacy_code(claims, private_key)
    assert (await client.post("/api/checkin/redeem", json=scan(slug, old), headers=door)).json()["status"] == "ok"
    again = (await client.post("/api/checkin/redeem", json=scan(slug, second.code), headers=door)).json()
    assert again["reason"] == "already_redeemed"
    forged = legacy_code(claims, Ed25519PrivateKey.generate())
    assert (await client.post("/api/checkin/redeem", json=scan(slug, forged), headers=door)).json()["reason"] == "unknown"


async def test_an_old_code_of_a_reissued_ticket_is_void(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    await Ticket.update({Ticket.version: 2}).where(Ticket.id == ticket.id)  # what re-issuing does
    body = (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door)).json()
    assert body["reason"] == "void"


async def test_door_staff_scan_only_their_events(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    stranger = await door_team(now, name="Door 9", email="door9@test.example")
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    refused = await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=stranger)
    assert refused.status_code == 403
    assert (await client.get(f"/api/checkin/events/{slug}/offline", headers=stranger)).status_code == 403
    assert (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code))).status_code == 401


async def test_exit_and_reentry_when_the_event_allows_it(client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    await Event.update({Event.allow_reentry: True}).where(Event.slug == slug)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    results = []
    for direction in ("in", "in", "out", "in"):
        body = (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code, direction=direction), headers=door)).json()
        results.append(body["reason"] or body["status"])
    assert results == ["ok", "already_redeemed", "ok", "ok"]


async def test_offline_scans_sync_and_double_admissions_are_flagged(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.checkin.scan_log import conflicts

    slug = await make_event(now)
    door1 = await door_team(now, slug=slug)
    door2 = await door_team(now, name="Door 2", email="door2@test.example", slug=slug)
    [ticket, other] = await paid_tickets(client, app, slug, now=now)
    earlier = (now - timedelta(minutes=5)).isoformat()
    sync1 = await client.post(
        "/api/checkin/sync",
        json={
            "event": slug,
            "scans": [
                {"secret": ticket.code, "nonce": "d1-offline-0001", "scanned_at": earlier, "result": "ok"},
            ],
        },
        headers=door1,
    )
    assert sync1.status_code == 200 and sync1.json()["conflicts"] == 0
    sync2 = await client.post(
        "/api/checkin/sync",
        json={
            "event": slug,
            "scans": [
                {"secret": ticket.code, "nonce": "d2-offline-0001", "scanned_at": now.isoformat(), "result": "ok"},
                {"secret": other.code, "nonce": "d2-offline-0002", "scanned_at": now.isoformat(), "result": "ok"},
            ],
        },
        headers=door2,
    )
    body = sync2.json()
    assert body["conflicts"] == 1
    assert [(s["nonce"], s["status"], s["conflict"]) for s in body["scans"]] == [("d2-offline-0001", "error", True), ("d2-offline-0002", "ok", False)]
    again = await client.post(
        "/api/checkin/sync",
        json={"event": slug, "scans": [{"secret": ticket.code, "nonce": "d2-offline-0001", "scanned_at": now.isoformat(), "result": "ok"}]},
        headers=door2,
    )
    assert again.json()["conflicts"] == 1  # re-sending a batch changes nothing
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    [conflict] = await conflicts(event["id"])
    assert conflict.device == "Door 2" and conflict.first_admitted_by == "Door 1"


async def test_the_offline_bundle_and_search_treat_free_and_paid_alike(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    bundle = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
    assert len(bundle["keys"]) == 1 and bundle["revoked"] == []
    assert {t["id"] for t in bundle["tickets"]} >= {ticket.id}
    assert set(bundle["tickets"][0]) == {"id", "version", "secret", "holder", "type", "status", "checked_in"}
    hits = (await client.get(f"/api/checkin/events/{slug}/search", params={"q": "haddad"}, headers=door)).json()
    assert len(hits) == 2 and hits[0]["holder"] == "Amal Haddad"
    by_reference = (await client.get(f"/api/checkin/events/{slug}/search", params={"q": ticket.order_reference.lower()}, headers=door)).json()
    assert len(by_reference) == 2


async def test_search_says_what_the_door_makes_of_each_ticket_as_the_guest_list_does(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime
) -> None:
    """A whole-order refund by amount leaves its tickets valid but refunds the order: the door refuses them, so search
    does not call them valid (it would offer Admit for a STOP)."""
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [first, second] = await paid_tickets(client, app, slug, now=now)
    whole = await client.post(f"/api/orders/{first.order_reference}/refunds", json={"amount_pence": 6000, "reason": "Moved away"}, headers=organiser)
    assert whole.status_code in (200, 201), whole.text
    hits = (await client.get(f"/api/checkin/events/{slug}/search", params={"q": first.order_reference.lower()}, headers=door)).json()
    assert [hit["status"] for hit in hits] == ["refunded", "refunded"]
    bundle = (await client.get(f"/api/checkin/events/{slug}/offline", headers=door)).json()
    assert {t["id"]: t["status"] for t in bundle["tickets"]} == {first.id: "refunded", second.id: "refunded"}
    refused = (await client.post("/api/checkin/redeem", json=scan(slug, first.code), headers=door)).json()
    assert (refused["status"], refused["reason"]) == ("error", "refunded")
