"""The door's shared test vectors (tests/vectors/door.json): scanned texts and what they name, and scans of a
ticket in each state with the verdict. The codes are signed here with fixed test keys (Ed25519 signatures are
deterministic, so the file is the same on every run); the expected results are written out by hand below.

tests/unit/checkin/test_door_vectors.py checks the server against them and that the file is what this module
builds; tests/js/door.test.mjs checks the door page's modules (static/js/door/) against the same file.
Regenerate after changing a case: ``PYTHONPATH=src python -m tests.support.door_vectors``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.tickets.signing import TicketClaims, public_key_text, sign_ticket
from tests.support.legacy_codes import legacy_code

PATH = Path(__file__).resolve().parents[1] / "vectors" / "door.json"

EVENT = 17
OTHER_EVENT = 18
KEY_ID = "d00a00000017"  # the event's key: on the server and in the door's bundle
OTHER_EVENT_KEY_ID = "d00a00000018"  # another event's key: on the server only
STRANGER_KEY_ID = "d00a0000bad0"  # nobody's: neither the server nor the door knows it


def _key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"events door test vectors: {name}".encode()).digest())


KEYS = {KEY_ID: _key("event"), OTHER_EVENT_KEY_ID: _key("other event"), STRANGER_KEY_ID: _key("stranger")}

TICKET = TicketClaims(
    key_id=KEY_ID,
    ticket_id=4821,
    version=1,
    event_id=EVENT,
    ticket_type_id=3,
    secret="hq7mtw2xz9kcpe4rabsd",
    valid_from=1_786_900_000,
    valid_until=1_787_100_000,
)
OTHER_TICKET = replace(TICKET, key_id=OTHER_EVENT_KEY_ID, ticket_id=9001, event_id=OTHER_EVENT, secret="kt3vw8mnpq2xyzab4cde")
HOLDER, TYPE = "Yusuf Ali", "Advance"


def code(claims: TicketClaims = TICKET, **changes: Any) -> str:
    claims = replace(claims, **changes)
    return sign_ticket(claims, KEYS[claims.key_id])


def legacy(claims: TicketClaims = TICKET, **changes: Any) -> str:
    claims = replace(claims, **changes)
    return legacy_code(claims, KEYS[claims.key_id])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def legacy_payload(payload: bytes) -> str:
    """An EVT1 code, properly signed, around any payload (to see what the readers make of its claims)."""
    body = _b64(payload)
    return f"EVT1.{body}.{_b64(KEYS[KEY_ID].sign(f'EVT1.{body}'.encode()))}"


def legacy_claims(**written: Any) -> str:
    """An EVT1 code, properly signed, whose JSON claims are TICKET's with some written otherwise."""
    claims = {
        "k": KEY_ID,
        "t": TICKET.ticket_id,
        "n": TICKET.version,
        "e": EVENT,
        "y": TICKET.ticket_type_id,
        "s": TICKET.secret,
        "f": TICKET.valid_from,
        "u": TICKET.valid_until,
    }
    return legacy_payload(json.dumps(claims | written, separators=(",", ":"), sort_keys=True).encode())


def legacy_signature_written(text: str, write: Any) -> str:
    """An EVT1 code with its signature written otherwise by ``write`` (from the signature text to a text)."""
    prefix, payload, signature = text.split(".")
    return f"{prefix}.{payload}.{write(signature)}"


def base64_stray_bits(signature: str) -> str:
    """A base64url signature (86 characters for 64 bytes) with the 4 unused bits of its last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return signature[:-1] + alphabet[alphabet.index(signature[-1]) | 0b1111]


def forge(text: str) -> str:
    """One character changed in the middle of the signature: same shape, same claims, signature broken."""
    prefix, payload, signature = text.split(".")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    return f"{prefix}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"


def with_fields(text: str, **changes: Any) -> str:
    """An EVT2 code whose fields say something else, with the original signature."""
    prefix, secret, packed = text.split(".")
    raw = base64.b32decode(packed + "====")
    fields = list(struct.unpack(">6sIHIIII", raw[:28]))
    names = ["key_id", "ticket_id", "version", "event_id", "ticket_type_id", "valid_from", "valid_until"]
    for name, value in changes.items():
        fields[names.index(name)] = value
    repacked = base64.b32encode(struct.pack(">6sIHIIII", *fields) + raw[28:]).decode().rstrip("=")
    return f"{prefix}.{secret}.{repacked}"


def stray_bits(text: str) -> str:
    """The last base32 character with its 4 unused bits set: the same bytes, but not how codes are written."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 0b1111]


def _base64_length_one(text: str) -> str:
    """The claims part lengthened to one more than a multiple of 4 characters, which no base64 text is."""
    prefix, payload, signature = text.split(".")
    payload += "A" * ((1 - len(payload)) % 4)
    return f"{prefix}.{payload}.{signature}"


def signed(claims: TicketClaims, genuine: bool) -> dict[str, Any]:
    return {"kind": "signed", "claims": asdict(claims), "genuine": genuine}


MALFORMED = {"kind": "malformed"}
NONE = {"kind": "none"}


def secret(text: str) -> dict[str, Any]:
    return {"kind": "secret", "secret": text}


def _code_cases() -> list[tuple[str, str, dict[str, Any]]]:
    genuine = code()
    largest = replace(TICKET, ticket_id=2**32 - 1, version=2**16 - 1, event_id=2**32 - 1, ticket_type_id=2**32 - 1, valid_until=2**32 - 1)
    s = TICKET.secret
    return [
        # Signed codes, as issued.
        ("EVT2 code", genuine, signed(TICKET, True)),
        ("EVT2 code in lower case (some handheld scanners)", genuine.lower(), signed(TICKET, True)),
        ("EVT2 code in mixed case", genuine[:90].lower() + genuine[90:], signed(TICKET, True)),
        ("EVT2 code with spaces and a newline around it", f"  {genuine}\r\n", signed(TICKET, True)),
        ("EVT2 code after a group separator (\\x1d) a scanner sent", f"\x1d{genuine}", signed(TICKET, True)),
        ("EVT2 code at the largest values of every field", code(largest), signed(largest, True)),
        ("EVT2 code of another event, with its key", code(OTHER_TICKET), signed(OTHER_TICKET, True)),
        ("EVT1 code issued before EVT2", legacy(), signed(TICKET, True)),
        ("EVT1 code with surrounding whitespace", f"\t{legacy()} ", signed(TICKET, True)),
        # Signed codes that are not genuine: they say what they say, but the signature does not hold.
        ("EVT2 code with one signature character changed", forge(genuine), signed(TICKET, False)),
        (
            "EVT2 code naming another ticket with the first one's signature",
            with_fields(genuine, ticket_id=4822),
            signed(replace(TICKET, ticket_id=4822), False),
        ),
        ("EVT2 code with its version raised", with_fields(genuine, version=2), signed(replace(TICKET, version=2), False)),
        (
            "EVT2 code with another ticket's secret",
            genuine.replace(s.upper(), OTHER_TICKET.secret.upper()),
            signed(replace(TICKET, secret=OTHER_TICKET.secret), False),
        ),
        ("EVT2 code signed by a key nobody issued", code(key_id=STRANGER_KEY_ID), signed(replace(TICKET, key_id=STRANGER_KEY_ID), False)),
        (
            "EVT2 code claiming the event's key but signed by another",
            with_fields(code(key_id=STRANGER_KEY_ID), key_id=bytes.fromhex(KEY_ID)),
            signed(TICKET, False),
        ),
        ("EVT1 code with one signature character changed", forge(legacy()), signed(TICKET, False)),
        (
            "EVT1 code whose ticket id is written 4821.0 (a JSON number of integer value, as JavaScript reads it)",
            legacy_claims(t=4821.0),
            signed(TICKET, True),
        ),
        # Meant as signed codes, but not codes at all.
        ("EVT2 code one character short", genuine[:-1], MALFORMED),
        ("EVT2 code one character long", genuine + "A", MALFORMED),
        ("EVT2 code whose last character has stray bits", stray_bits(genuine), MALFORMED),
        ("EVT2 code with a base32 '1' (not in the alphabet)", genuine[:-10] + "1" + genuine[-9:], MALFORMED),
        ("EVT2 code with an 'O' in its secret (not in the secret alphabet)", genuine.replace(s.upper(), "O" + s.upper()[1:]), MALFORMED),
        ("EVT2 code with a secret one character short", genuine.replace(s.upper(), s.upper()[1:]), MALFORMED),
        ("EVT2 code with a fourth part", genuine + ".AAAA", MALFORMED),
        ("EVT2 code with a newline inside", genuine[:80] + "\n" + genuine[80:], MALFORMED),
        ("EVT2 code in lower case with a long s (ſ), which upper-cases to S", genuine.lower().replace("s", "\u017f", 1), MALFORMED),
        ("EVT2 code with a Cyrillic А in its secret", genuine.replace(s.upper(), "\u0410" + s.upper()[1:]), MALFORMED),
        ("EVT2 code with a zero-width space inside", genuine[:50] + "\u200b" + genuine[50:], MALFORMED),
        ("EVT2 prefix alone", "EVT2.", MALFORMED),
        ("EVT2 prefix in lower case, nothing after", "evt2.", MALFORMED),
        ("EVT1 code of two parts", ".".join(legacy().split(".")[:2]), MALFORMED),
        ("EVT1 code of four parts", legacy() + ".AAAA", MALFORMED),
        ("EVT1 code whose claims are not JSON", legacy_payload(b"not json"), MALFORMED),
        ("EVT1 code whose claims are a JSON list", legacy_payload(b"[4821, 1, 17]"), MALFORMED),
        (
            "EVT1 code whose claims lack the ticket type",
            legacy_payload(json.dumps({"k": KEY_ID, "t": 4821, "n": 1, "e": EVENT, "s": s, "f": 1, "u": 2}).encode()),
            MALFORMED,
        ),
        ("EVT1 code whose claims are a length no base64 has", _base64_length_one(legacy()), MALFORMED),
        # EVT1 as strictly as EVT2: its base64url exactly as written (one text per code)...
        (
            "EVT1 code with stray characters added inside its signature",
            legacy_signature_written(legacy(), lambda sig: sig[:43] + "%%%%" + sig[43:]),
            MALFORMED,
        ),
        ("EVT1 code with stray characters added after its signature", legacy() + "!!!!", MALFORMED),
        ("EVT1 code with more after its signature's padding", legacy() + "==AAAA", MALFORMED),
        ("EVT1 code whose signature is padded with '='", legacy() + "==", MALFORMED),
        ("EVT1 code whose signature's last character has stray bits", legacy_signature_written(legacy(), base64_stray_bits), MALFORMED),
        # ...and its claims of the JSON types they were written in: strings and numbers.
        ("EVT1 code whose ticket id is a number in quotes", legacy_claims(t=str(TICKET.ticket_id)), MALFORMED),
        ("EVT1 code whose version is true", legacy_claims(n=True), MALFORMED),
        ("EVT1 code whose ticket id is not a whole number", legacy_claims(t=4821.5), MALFORMED),
        ("EVT1 code whose key id is a number", legacy_claims(k=17), MALFORMED),
        ("EVT1 code whose secret is null", legacy_claims(s=None), MALFORMED),
        ("EVT1 code whose claims hold a NaN (not JSON)", legacy_claims(x=float("nan")), MALFORMED),
        (
            "EVT1 code whose claims are JSON in UTF-16",
            legacy_payload(json.dumps({"k": KEY_ID, "t": 4821, "n": 1, "e": EVENT, "y": 3, "s": s, "f": 1, "u": 2}).encode("utf-16-le")),
            MALFORMED,
        ),
        # Not meant as signed codes: a bare secret to look up, or nothing.
        ("bare secret", s, secret(s)),
        ("bare secret in capitals, typed from paper", s.upper(), secret(s)),
        ("bare secret with whitespace around", f" {s}\t", secret(s)),
        ("any other short text is looked up like a secret", "not-a-ticket", secret("not-a-ticket")),
        ("a space inside is kept", "hq7mtw2xz9 kcpe4rabsd", secret("hq7mtw2xz9 kcpe4rabsd")),
        ("64 characters is still a secret to look up", "a" * 64, secret("a" * 64)),
        ("EVT1 code in lower case is not a signed code (EVT1 is case-sensitive)", "evt1.abc.def", secret("evt1.abc.def")),
        ("65 characters is no secret", "a" * 65, NONE),
        ("EVT1 code in lower case, too long for a secret", legacy().lower(), NONE),
        ("EVT3 code", "EVT3." + genuine[5:], NONE),
        ("EVT2 with a Cyrillic Е in its prefix", "\u0415" + genuine[1:], NONE),
        ("bare secret with a Kelvin sign (K), which lower-cases to k", s[:10] + "\u212a" + s[11:], NONE),
        ("bare secret with a Cyrillic а", s[:16] + "\u0430" + s[17:], NONE),
        ("bare secret in full-width capitals", "".join(chr(ord(c) + 0xFEE0) for c in s.upper()), NONE),
        ("bare secret after a byte-order mark (not whitespace)", "\ufeff" + s, NONE),
        ("empty", "", NONE),
        ("whitespace only", " \t\n", NONE),
    ]


# Scans of ticket 4821 (event 17) in each state. "ticket" is its state on the server (checked_in: admitted by any
# door; admitted_here: by this door offline, not synced yet, so the server will have it once the queue syncs);
# "door_status" is what the offline bundle says of a ticket in that state (checked by
# tests/integration/checkin/test_door_vectors.py). "expect" is the verdict, ok or the reason; "offline" is the
# door's verdict where it cannot know what the server knows.
def _state(
    status: str = "valid", order_status: str = "paid", version: int = 1, checked_in: bool = False, admitted_here: bool = False
) -> dict[str, Any]:
    return {"status": status, "order_status": order_status, "version": version, "checked_in": checked_in, "admitted_here": admitted_here}


def _decision_cases() -> list[dict[str, Any]]:
    s = TICKET.secret
    states = [  # every ticket status × order status, scanned with its current code
        ("valid", "paid", "valid", "ok"),
        ("valid", "pending", "unpaid", "unpaid"),
        ("valid", "expired", "unpaid", "unpaid"),
        ("valid", "refund_due", "refunded", "refunded"),
        ("valid", "refunded", "refunded", "refunded"),
        ("refunded", "paid", "refunded", "refunded"),
        ("refunded", "pending", "refunded", "refunded"),
        ("refunded", "expired", "refunded", "refunded"),
        ("refunded", "refund_due", "refunded", "refunded"),
        ("refunded", "refunded", "refunded", "refunded"),
        ("void", "paid", "void", "void"),
        ("void", "pending", "void", "void"),
        ("void", "expired", "void", "void"),
        ("void", "refund_due", "refunded", "refunded"),
        ("void", "refunded", "refunded", "refunded"),
    ]
    cases = [
        {"name": f"ticket {status}, order {order}", "ticket": _state(status, order), "door_status": door, "scan": code(), "expect": expect}
        for status, order, door, expect in states
    ]
    reissued = _state(version=2)
    cases += [
        {"name": "current code in lower case", "ticket": _state(), "door_status": "valid", "scan": code().lower(), "expect": "ok"},
        {"name": "bare secret", "ticket": _state(), "door_status": "valid", "scan": s, "expect": "ok"},
        {"name": "bare secret in capitals", "ticket": _state(), "door_status": "valid", "scan": s.upper(), "expect": "ok"},
        {"name": "EVT1 code", "ticket": _state(), "door_status": "valid", "scan": legacy(), "expect": "ok"},
        {
            "name": "already admitted at another door",
            "ticket": _state(checked_in=True),
            "door_status": "valid",
            "scan": code(),
            "expect": "already_redeemed",
        },
        {
            "name": "already admitted here offline, not synced",
            "ticket": _state(checked_in=True, admitted_here=True),
            "door_status": "valid",
            "scan": code(),
            "expect": "already_redeemed",
        },
        {
            "name": "already admitted, by bare secret",
            "ticket": _state(checked_in=True),
            "door_status": "valid",
            "scan": s,
            "expect": "already_redeemed",
        },
        {"name": "re-issued ticket, old code", "ticket": reissued, "door_status": "valid", "scan": code(), "expect": "void"},
        {"name": "re-issued ticket, old EVT1 code", "ticket": reissued, "door_status": "valid", "scan": legacy(), "expect": "void"},
        {"name": "re-issued ticket, new code", "ticket": reissued, "door_status": "valid", "scan": code(version=2), "expect": "ok"},
        {"name": "re-issued ticket, bare secret", "ticket": reissued, "door_status": "valid", "scan": s, "expect": "ok"},
        {
            "name": "re-issued ticket, old code, order pending (void before unpaid)",
            "ticket": _state(order_status="pending", version=2),
            "door_status": "unpaid",
            "scan": code(),
            "expect": "void",
        },
        {
            "name": "re-issued ticket, old code, order refunded (refunded before void)",
            "ticket": _state(order_status="refunded", version=2),
            "door_status": "refunded",
            "scan": code(),
            "expect": "refunded",
        },
        {
            "name": "already admitted, old code (void before already scanned)",
            "ticket": _state(version=2, checked_in=True),
            "door_status": "valid",
            "scan": code(),
            "expect": "void",
        },
        {
            "name": "already admitted, order pending (unpaid before already scanned)",
            "ticket": _state(order_status="pending", checked_in=True),
            "door_status": "unpaid",
            "scan": code(),
            "expect": "unpaid",
        },
        {
            "name": "refunded and already admitted (refunded first)",
            "ticket": _state(order_status="refunded", checked_in=True),
            "door_status": "refunded",
            "scan": code(),
            "expect": "refunded",
        },
        {"name": "void and already admitted", "ticket": _state("void", checked_in=True), "door_status": "void", "scan": code(), "expect": "void"},
        {"name": "forged code naming the ticket", "ticket": _state(), "door_status": "valid", "scan": forge(code()), "expect": "unknown"},
        {"name": "forged EVT1 code naming the ticket", "ticket": _state(), "door_status": "valid", "scan": forge(legacy()), "expect": "unknown"},
        {
            "name": "EVT1 code with stray characters added to its signature",
            "ticket": _state(),
            "door_status": "valid",
            "scan": legacy() + "!!!!",
            "expect": "unknown",
        },
        {
            "name": "EVT1 code, signed, whose ticket id is a number in quotes",
            "ticket": _state(),
            "door_status": "valid",
            "scan": legacy_claims(t=str(TICKET.ticket_id)),
            "expect": "unknown",
        },
        {
            "name": "code signed by a key nobody issued",
            "ticket": _state(),
            "door_status": "valid",
            "scan": code(key_id=STRANGER_KEY_ID),
            "expect": "unknown",
        },
        {
            "name": "genuine code of a ticket that does not exist",
            "ticket": _state(),
            "door_status": "valid",
            "scan": code(ticket_id=4999),
            "expect": "unknown",
        },
        {"name": "malformed code", "ticket": _state(), "door_status": "valid", "scan": code()[:-1], "expect": "unknown"},
        {"name": "unknown bare secret", "ticket": _state(), "door_status": "valid", "scan": "abcdefghjkmnpqrstuvw", "expect": "unknown"},
        {
            "name": "non-ASCII look-alike of the secret",
            "ticket": _state(),
            "door_status": "valid",
            "scan": s[:10] + "\u212a" + s[11:],
            "expect": "unknown",
        },
        # Offline the door holds only this event's keys and guest list.
        {
            "name": "genuine code of another event's ticket",
            "ticket": _state(),
            "door_status": "valid",
            "scan": code(OTHER_TICKET),
            "expect": "wrong_event",
            "offline": "unknown",
        },
        {
            "name": "bare secret of another event's ticket",
            "ticket": _state(),
            "door_status": "valid",
            "scan": OTHER_TICKET.secret,
            "expect": "wrong_event",
            "offline": "unknown",
        },
    ]
    return cases


def build() -> dict[str, Any]:
    return {
        "about": "Generated by tests/support/door_vectors.py (PYTHONPATH=src python -m tests.support.door_vectors); do not edit.",
        "keys": {key_id: public_key_text(key.public_key()) for key_id, key in KEYS.items() if key_id != STRANGER_KEY_ID},
        "codes": [{"name": name, "text": text, "expect": expect} for name, text, expect in _code_cases()],
        "guest_list": {
            "event": EVENT,
            "keys": [KEY_ID],
            "ticket": {"id": TICKET.ticket_id, "secret": TICKET.secret, "holder": HOLDER, "type": TYPE},
            "other_event_ticket": {"id": OTHER_TICKET.ticket_id, "event": OTHER_EVENT, "secret": OTHER_TICKET.secret},
        },
        "decisions": _decision_cases(),
    }


def dumps(vectors: dict[str, Any]) -> str:
    return json.dumps(vectors, indent=1, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(dumps(build()))
    print(f"wrote {PATH}")
