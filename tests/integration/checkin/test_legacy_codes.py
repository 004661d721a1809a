"""Codes of the earlier format (EVT1) at /api/checkin/redeem: read as strictly as the door page reads them
offline (tests/vectors/door.json), so a code the door refuses is refused by the server too."""

import base64
import json
from datetime import datetime

import httpx

from events.tickets.keys import current_signing_key
from events.tickets.signing import read_claims
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, paid_tickets, scan
from tests.support.legacy_codes import legacy_code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_an_earlier_format_code_with_junk_in_its_signature_is_refused(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket] = await paid_tickets(client, app, slug, quantity=1, now=now)
    claims = read_claims(ticket.code)
    _, private_key = await current_signing_key(claims.event_id, secret_key=app.state.settings.secret_key, now=now)
    genuine = legacy_code(claims, private_key)
    prefix, body, signature = genuine.split(".")
    # The same signature bytes to a reader that drops what is not base64 (as the server's once did).
    for tampered in (
        f"{prefix}.{body}.{signature[:43]}%%%%{signature[43:]}",
        f"{genuine}!!!!",
        f"{genuine}==",
        f"{genuine}==AAAA",
    ):
        refused = await client.post("/api/checkin/redeem", json=scan(slug, tampered), headers=door)
        assert refused.status_code == 200, refused.text
        body_json = refused.json()
        assert (body_json["status"], body_json["reason"], body_json["ticket"]) == ("error", "unknown", None), tampered
    # Nothing was admitted, and the code as issued still admits.
    assert (await client.get(f"/api/checkin/events/{slug}/counts", headers=door)).json()["admitted"] == 0
    admitted = (await client.post("/api/checkin/redeem", json=scan(slug, genuine), headers=door)).json()
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Amal Haddad"
    assert (await client.get(f"/api/checkin/events/{slug}/counts", headers=door)).json()["admitted"] == 1


async def test_an_earlier_format_code_with_a_number_in_quotes_is_refused(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Even signed with the event's key: the door cannot read "t": "4821" as a ticket id, so neither does the server."""
    slug = await make_event(now)
    door = await door_team(now, slug=slug)
    [ticket] = await paid_tickets(client, app, slug, quantity=1, now=now)
    claims = read_claims(ticket.code)
    key_id, private_key = await current_signing_key(claims.event_id, secret_key=app.state.settings.secret_key, now=now)
    payload = {
        "k": key_id,
        "t": str(claims.ticket_id),
        "n": claims.version,
        "e": claims.event_id,
        "y": claims.ticket_type_id,
        "s": claims.secret,
        "f": claims.valid_from,
        "u": claims.valid_until,
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    quoted = f"EVT1.{body}.{_b64(private_key.sign(f'EVT1.{body}'.encode()))}"
    refused = (await client.post("/api/checkin/redeem", json=scan(slug, quoted), headers=door)).json()
    assert (refused["status"], refused["reason"], refused["ticket"]) == ("error", "unknown", None)
    assert (await client.get(f"/api/checkin/events/{slug}/counts", headers=door)).json()["admitted"] == 0
