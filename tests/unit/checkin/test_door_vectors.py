"""The door's shared test vectors (tests/vectors/door.json), checked against the server: how it reads a scanned
text (tickets/signing.py, checkin/scanning.py) and what it decides (checkin/rules.py). tests/js/door.test.mjs
checks the door page's own modules against the same file, so the two cannot drift apart unnoticed."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, get_args

import pytest

from events.checkin import queries, rules, scanning
from events.checkin.schemas import Reason
from events.tickets.signing import InvalidTicketCode, looks_signed, public_key_from_text, read_claims, verify_ticket
from tests.support import door_vectors

REASONS = get_args(Reason)  # every refusal the API (and so the door page) knows

VECTORS: dict[str, Any] = json.loads(door_vectors.PATH.read_text())
ADMITTED_AT = datetime(2026, 9, 12, 19, 30, tzinfo=timezone.utc)


def test_the_vectors_file_is_what_the_generator_writes() -> None:
    assert door_vectors.PATH.read_text() == door_vectors.dumps(door_vectors.build()), (
        "tests/vectors/door.json is out of date: PYTHONPATH=src python -m tests.support.door_vectors"
    )


@pytest.fixture
def server_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server knows the vectors' event keys (as if read from the database); any other key id is unknown."""
    keys = {key_id: public_key_from_text(text) for key_id, text in VECTORS["keys"].items()}
    monkeypatch.setattr(scanning, "_KEYS", keys)

    async def no_such_key(key_id: str) -> Any:
        raise LookupError(key_id)

    monkeypatch.setattr(scanning, "_checking_key", no_such_key)


def reading(text: str) -> dict[str, Any]:
    """What the server makes of a scanned text, in the vectors' terms."""
    stripped = text.strip()
    if looks_signed(stripped):
        try:
            claims = read_claims(stripped)
        except InvalidTicketCode:
            return {"kind": "malformed"}
        keys = {key_id: public_key_from_text(key) for key_id, key in VECTORS["keys"].items()}
        try:
            genuine = verify_ticket(stripped, keys) == claims
        except InvalidTicketCode:
            genuine = False
        return {"kind": "signed", "claims": asdict(claims), "genuine": genuine}
    return {"kind": "not signed"}


@pytest.mark.parametrize("case", VECTORS["codes"], ids=[case["name"] for case in VECTORS["codes"]])
async def test_the_server_reads_each_code_as_the_vectors_say(case: dict[str, Any], server_keys: None) -> None:
    expect = case["expect"]
    found = reading(case["text"])
    if found["kind"] != "not signed":
        assert found == expect
    else:
        assert expect["kind"] in ("secret", "none")
    # And what the scan looks up: a genuine code's ticket, a bare secret, or nothing at all.
    state_sql, value, claims = await scanning._identify(case["text"])
    if expect["kind"] == "signed" and expect["genuine"]:
        assert state_sql == queries.SCAN_STATE_BY_ID and value == expect["claims"]["ticket_id"]
        assert claims is not None and asdict(claims) == expect["claims"]
    elif expect["kind"] == "secret":
        assert (state_sql, value, claims) == (queries.SCAN_STATE_BY_SECRET, expect["secret"], None)
    else:
        assert (state_sql, value, claims) == (queries.SCAN_STATE_BY_ID, None, None)


def server_tickets(state: dict[str, Any]) -> dict[int, rules.TicketAtDoor]:
    """The tickets in the server's database for a case: the case's ticket and one of another event."""
    guests = VECTORS["guest_list"]
    other = guests["other_event_ticket"]
    return {
        guests["ticket"]["id"]: rules.TicketAtDoor(
            id=guests["ticket"]["id"],
            event_id=guests["event"],
            version=state["version"],
            status=state["status"],
            order_status=state["order_status"],
            checked_in_at=ADMITTED_AT if state["checked_in"] else None,
            inside=state["checked_in"],
        ),
        other["id"]: rules.TicketAtDoor(
            id=other["id"], event_id=other["event"], version=1, status="valid", order_status="paid", checked_in_at=None, inside=False
        ),
    }


async def server_verdict(case: dict[str, Any], *, reentry_allowed: bool) -> str:
    tickets = server_tickets(case["ticket"])
    secrets = {VECTORS["guest_list"]["ticket"]["secret"]: VECTORS["guest_list"]["ticket"]["id"]}
    secrets[VECTORS["guest_list"]["other_event_ticket"]["secret"]] = VECTORS["guest_list"]["other_event_ticket"]["id"]
    state_sql, value, claims = await scanning._identify(case["scan"])
    ticket_id = secrets.get(value) if state_sql == queries.SCAN_STATE_BY_SECRET else value
    decision = rules.decide_entry(
        tickets.get(ticket_id) if ticket_id is not None else None,
        event_id=VECTORS["guest_list"]["event"],
        scanned_version=claims.version if claims else None,
        reentry_allowed=reentry_allowed,
    )
    return "ok" if isinstance(decision, rules.Admit) else decision.reason


@pytest.mark.parametrize("case", VECTORS["decisions"], ids=[case["name"] for case in VECTORS["decisions"]])
async def test_the_server_decides_each_scan_as_the_vectors_say(case: dict[str, Any], server_keys: None) -> None:
    assert await server_verdict(case, reentry_allowed=False) == case["expect"]


@pytest.mark.parametrize("case", VECTORS["decisions"], ids=[case["name"] for case in VECTORS["decisions"]])
async def test_the_door_never_admits_what_the_server_refuses(case: dict[str, Any], server_keys: None) -> None:
    """Where the door decides differently offline (it holds one event's keys and guest list, and cannot know who
    went out again), it only refuses what the server would refuse too, whether or not the event allows re-entry."""
    door = case.get("offline", case["expect"])
    assert "offline" not in case or case["offline"] != case["expect"]
    for reentry_allowed in (False, True):
        server = await server_verdict(case, reentry_allowed=reentry_allowed)
        assert door != "ok" or server == "ok"
        assert door == "ok" or server != "ok" or reentry_allowed
    if "offline" in case:
        assert door in REASONS and case["expect"] in REASONS


def test_the_decisions_cover_every_ticket_and_order_status() -> None:
    seen = {(case["ticket"]["status"], case["ticket"]["order_status"]) for case in VECTORS["decisions"]}
    statuses = {"valid", "refunded", "void"}  # rules.TicketAtDoor.status
    order_statuses = {"paid", "pending", "expired", "refund_due", "refunded"}  # rules.TicketAtDoor.order_status
    assert seen == {(status, order) for status in statuses for order in order_statuses}
    for case in VECTORS["decisions"]:
        assert case["expect"] == "ok" or case["expect"] in REASONS
        assert not case["ticket"]["admitted_here"] or case["ticket"]["checked_in"]  # the server will have it once synced
