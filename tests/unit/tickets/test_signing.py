"""Signed ticket codes: genuine codes verify offline; anything altered, foreign or malformed does not."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.tickets.signing import (
    CODE_PREFIX,
    InvalidTicketCode,
    TicketClaims,
    looks_signed,
    public_key_from_text,
    public_key_text,
    read_claims,
    sign_ticket,
    verify_ticket,
)

HOLDER = "Layla Haddad"
EMAIL = "layla@example.org"


def claims(key_id: str = "k-2026-a", **changes: object) -> TicketClaims:
    values: dict[str, object] = {
        "key_id": key_id,
        "ticket_id": 4821,
        "version": 1,
        "event_id": 17,
        "ticket_type_id": 3,
        "secret": "hq7mtw2xz9kcpe4rab3d",
        "valid_from": 1_786_900_000,
        "valid_until": 1_787_100_000,
    }
    values.update(changes)
    return TicketClaims(**values)  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def payload_of(code: str) -> dict[str, object]:
    return json.loads(unb64(code.split(".")[1]))


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_code_verifies_and_gives_back_its_claims(key: Ed25519PrivateKey) -> None:
    original = claims()
    code = sign_ticket(original, key)
    assert code.startswith(CODE_PREFIX + ".") and looks_signed(code) and code.count(".") == 2
    assert verify_ticket(code, {"k-2026-a": key.public_key()}) == original
    assert read_claims(code) == original
    # Scanners add stray whitespace; the code still verifies.
    assert verify_ticket(f"  {code}\n", {"k-2026-a": key.public_key()}) == original
    # Keys travel as text (database, door devices): the round trip keeps them usable.
    assert verify_ticket(code, {"k-2026-a": public_key_from_text(public_key_text(key.public_key()))}) == original


def test_changing_a_digit_in_the_payload_is_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    prefix, body, signature = code.split(".")
    data = payload_of(code)
    data["t"] = 4822  # another ticket's id...
    forged_body = b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    forged = f"{prefix}.{forged_body}.{signature}"
    assert read_claims(forged).ticket_id == 4822  # ...reads fine...
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(forged, {"k-2026-a": key.public_key()})  # ...but is not what was signed
    # The same for a digit changed in the encoded text itself rather than in the JSON.
    position = next(i for i, char in enumerate(body) if char.isdigit())
    digit = body[position]
    altered = body[:position] + ("1" if digit != "1" else "2") + body[position + 1 :]
    with pytest.raises(InvalidTicketCode):
        verify_ticket(f"{prefix}.{altered}.{signature}", {"k-2026-a": key.public_key()})
    # And a changed validity window (someone stretching their ticket to another day).
    data = payload_of(code)
    data["u"] = int(data["u"]) + 86_400  # type: ignore[call-overload]
    stretched = f"{prefix}.{b64(json.dumps(data, separators=(',', ':'), sort_keys=True).encode())}.{signature}"
    with pytest.raises(InvalidTicketCode):
        verify_ticket(stretched, {"k-2026-a": key.public_key()})


def test_a_code_signed_by_another_key_under_the_same_key_id_is_rejected(key: Ed25519PrivateKey) -> None:
    forger = Ed25519PrivateKey.generate()
    forged = sign_ticket(claims(), forger)  # claims the event's key id
    assert read_claims(forged).key_id == "k-2026-a"
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(forged, {"k-2026-a": key.public_key()})


def test_a_code_naming_an_unknown_key_is_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(key_id="k-from-elsewhere"), key)
    with pytest.raises(InvalidTicketCode, match="unknown key"):
        verify_ticket(code, {"k-2026-a": key.public_key()})
    with pytest.raises(InvalidTicketCode, match="unknown key"):
        verify_ticket(code, {})


def test_tickets_signed_before_a_key_rotation_still_verify() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = sign_ticket(claims(key_id="k-old", ticket_id=1), old)
    after = sign_ticket(claims(key_id="k-new", ticket_id=2), new)
    known = {"k-old": old.public_key(), "k-new": new.public_key()}
    assert verify_ticket(before, known).ticket_id == 1
    assert verify_ticket(after, known).ticket_id == 2
    # Each key only vouches for its own codes.
    with pytest.raises(InvalidTicketCode):
        verify_ticket(before, {"k-old": new.public_key()})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "EVT1",
        "EVT1.",
        "EVT1..",
        "EVT1.abc",
        "EVT2.e30.AAAA",
        "evt1.e30.AAAA",
        "EVT1.e30.AAAA.AAAA",
        "EVT1.e30.AAAA",  # '{}': no claims at all
        "EVT1.W10.AAAA",  # '[]'
        "EVT1.Im5vcGUi.AAAA",  # '"nope"'
        "EVT1.%%%%.AAAA",
        "EVT1.gICA.AAAA",  # not UTF-8
        "hq7mtw2xz9kcpe4rab3d",  # a bare ticket secret is not a signed code
        "https://example.org/tickets/hq7mtw2xz9kcpe4rab3d",
    ],
)
def test_malformed_codes_are_rejected(text: str, key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidTicketCode):
        verify_ticket(text, {"k-2026-a": key.public_key()})


def test_malformed_payload_fields_and_signatures_are_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    prefix, body, signature = code.split(".")
    keys = {"k-2026-a": key.public_key()}
    data = payload_of(code)
    del data["s"]
    with pytest.raises(InvalidTicketCode, match="malformed"):
        verify_ticket(f"{prefix}.{b64(json.dumps(data).encode())}.{signature}", keys)
    data = payload_of(code)
    data["t"] = "not a number"
    with pytest.raises(InvalidTicketCode, match="malformed"):
        verify_ticket(f"{prefix}.{b64(json.dumps(data).encode())}.{signature}", keys)
    for bad_signature in ("", "AAAA", signature[:-4], "!" * len(signature), signature[::-1]):
        with pytest.raises(InvalidTicketCode):
            verify_ticket(f"{prefix}.{body}.{bad_signature}", keys)


def test_the_payload_names_nobody(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    data = payload_of(code)
    assert set(data) == {"k", "t", "n", "e", "y", "s", "f", "u"}
    assert all(isinstance(value, (int, str)) for value in data.values())
    text = unb64(code.split(".")[1]).decode()
    for personal in (HOLDER, *HOLDER.split(), EMAIL, "@", "name", "email", "holder"):
        assert personal.lower() not in text.lower()
    # TicketClaims itself has nowhere to put a name or an address.
    assert not {"holder", "name", "email", "buyer"} & set(TicketClaims.__dataclass_fields__)
