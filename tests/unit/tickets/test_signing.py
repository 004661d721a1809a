"""Signed ticket codes: genuine codes verify offline; anything altered, foreign or malformed does not."""

from __future__ import annotations

import base64
import json
import re
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from events.orders.codes import SECRET_ALPHABET
from events.tickets.secrets import TICKET_SECRET_LENGTH, new_ticket_secret
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
from tests.support.legacy_codes import legacy_code

HOLDER = "Layla Haddad"
EMAIL = "layla@example.org"
KEY_ID = "a1b2c3d4e5f6"
QR_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]+")


def claims(key_id: str = KEY_ID, **changes: object) -> TicketClaims:
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


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def fields_of(code: str) -> tuple[bytes, bytes]:
    """The 28 bytes of fields and the 64-byte signature of an EVT2 code."""
    raw = unb32(code.split(".")[2])
    return raw[:28], raw[28:]


def with_fields(code: str, fields: bytes) -> str:
    prefix, secret, _ = code.split(".")
    return f"{prefix}.{secret}.{b32(fields + fields_of(code)[1])}"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_code_verifies_and_gives_back_its_claims(key: Ed25519PrivateKey) -> None:
    original = claims()
    code = sign_ticket(original, key)
    assert code.startswith(CODE_PREFIX + ".") and looks_signed(code) and code.count(".") == 2
    assert verify_ticket(code, {KEY_ID: key.public_key()}) == original
    assert read_claims(code) == original
    # Scanners add stray whitespace, and some type every letter in lower case; the code still verifies.
    assert verify_ticket(f"  {code}\n", {KEY_ID: key.public_key()}) == original
    assert verify_ticket(code.lower(), {KEY_ID: key.public_key()}) == original and looks_signed(code.lower())
    # Keys travel as text (database, door devices): the round trip keeps them usable.
    assert verify_ticket(code, {KEY_ID: public_key_from_text(public_key_text(key.public_key()))}) == original


_ANY_KEY = Ed25519PrivateKey.generate()


@settings(max_examples=300)
@given(
    key_id=st.binary(min_size=6, max_size=6).map(bytes.hex),
    ticket_id=st.integers(0, 2**32 - 1),
    version=st.integers(0, 2**16 - 1),
    event_id=st.integers(0, 2**32 - 1),
    ticket_type_id=st.integers(0, 2**32 - 1),
    secret=st.text(SECRET_ALPHABET, min_size=TICKET_SECRET_LENGTH, max_size=TICKET_SECRET_LENGTH),
    valid_from=st.integers(0, 2**32 - 1),
    valid_until=st.integers(0, 2**32 - 1),
)
def test_any_claims_that_fit_come_back_from_their_code_exactly(
    key_id: str, ticket_id: int, version: int, event_id: int, ticket_type_id: int, secret: str, valid_from: int, valid_until: int
) -> None:
    # Every bit of every field, at both ends of its range, survives the code's base32 (decoded without base64's own
    # decoder) and verifies.
    original = TicketClaims(key_id, ticket_id, version, event_id, ticket_type_id, secret, valid_from, valid_until)
    code = sign_ticket(original, _ANY_KEY)
    assert unb32(code.split(".")[2])[:28] == struct.pack(
        ">6sIHIIII", bytes.fromhex(key_id), ticket_id, version, event_id, ticket_type_id, valid_from, valid_until
    )
    assert read_claims(code) == original
    assert verify_ticket(code, {key_id: _ANY_KEY.public_key()}) == original


def test_every_code_is_qr_alphanumeric_and_the_same_length(key: Ed25519PrivateKey) -> None:
    """Capitals, digits and dots only, so the QR symbol packs it in alphanumeric mode (see tickets/qr.py),
    and at the largest values every field can take the code is no longer: one symbol size for every ticket."""
    small = sign_ticket(claims(ticket_id=1, version=1, event_id=1, ticket_type_id=1, secret=new_ticket_secret()), key)
    large = sign_ticket(claims(ticket_id=2**32 - 1, version=2**16 - 1, event_id=2**32 - 1, ticket_type_id=2**32 - 1, valid_until=2**32 - 1), key)
    assert QR_ALPHANUMERIC.fullmatch(small) and QR_ALPHANUMERIC.fullmatch(large)
    assert len(small) == len(large) == 174


def test_claims_that_do_not_fit_the_code_are_refused_when_signing(key: Ed25519PrivateKey) -> None:
    for bad in (
        claims(ticket_id=2**32),
        claims(version=2**16),
        claims(ticket_id=-1),
        claims(key_id="k-2026-a"),  # not hex
        claims(key_id="a1b2"),  # too short
        claims(secret=""),
        claims(secret="has space"),
        claims(secret="dot.ted"),
        claims(secret="hq7mtw2xz9kcpe4rab01"),  # 0 and 1 are not in the secret alphabet
        claims(secret="hq7mtw2xz9"),  # too short
    ):
        with pytest.raises(ValueError):
            sign_ticket(bad, key)


def test_changing_any_field_or_the_secret_is_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    keys = {KEY_ID: key.public_key()}
    fields, _ = fields_of(code)
    key_id, ticket, version, event, kind, valid_from, valid_until = struct.unpack(">6sIHIIII", fields)
    for altered in (
        (key_id, ticket + 1, version, event, kind, valid_from, valid_until),  # another ticket's id
        (key_id, ticket, version + 1, event, kind, valid_from, valid_until),  # a re-issued ticket's version
        (key_id, ticket, version, event + 1, kind, valid_from, valid_until),  # another event
        (key_id, ticket, version, event, kind + 1, valid_from, valid_until),  # a dearer ticket type
        (key_id, ticket, version, event, kind, valid_from, valid_until + 86_400),  # stretched to another day
    ):
        forged = with_fields(code, struct.pack(">6sIHIIII", *altered))
        assert read_claims(forged) != read_claims(code)  # reads fine...
        with pytest.raises(InvalidTicketCode, match="signature"):
            verify_ticket(forged, keys)  # ...but is not what was signed
    prefix, secret, packed = code.split(".")
    other_secret = ("B" if secret[0] != "B" else "C") + secret[1:]
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(f"{prefix}.{other_secret}.{packed}", keys)
    # A character changed in the encoded text itself.
    flipped = packed[:40] + ("A" if packed[40] != "A" else "B") + packed[41:]
    with pytest.raises(InvalidTicketCode):
        verify_ticket(f"{prefix}.{secret}.{flipped}", keys)


def test_a_code_signed_by_another_key_under_the_same_key_id_is_rejected(key: Ed25519PrivateKey) -> None:
    forger = Ed25519PrivateKey.generate()
    forged = sign_ticket(claims(), forger)  # claims the event's key id
    assert read_claims(forged).key_id == KEY_ID
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(forged, {KEY_ID: key.public_key()})


def test_a_code_naming_an_unknown_key_is_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(key_id="0f0f0f0f0f0f"), key)
    with pytest.raises(InvalidTicketCode, match="unknown key"):
        verify_ticket(code, {KEY_ID: key.public_key()})
    with pytest.raises(InvalidTicketCode, match="unknown key"):
        verify_ticket(code, {})


def test_tickets_signed_before_a_key_rotation_still_verify() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = sign_ticket(claims(key_id="00000000000a", ticket_id=1), old)
    after = sign_ticket(claims(key_id="00000000000b", ticket_id=2), new)
    known = {"00000000000a": old.public_key(), "00000000000b": new.public_key()}
    assert verify_ticket(before, known).ticket_id == 1
    assert verify_ticket(after, known).ticket_id == 2
    # Each key only vouches for its own codes.
    with pytest.raises(InvalidTicketCode):
        verify_ticket(before, {"00000000000a": new.public_key()})


def test_codes_issued_in_the_earlier_format_still_verify(key: Ed25519PrivateKey) -> None:
    original = claims(key_id="k-2026-a")
    code = legacy_code(original, key)
    assert looks_signed(code)
    assert verify_ticket(code, {"k-2026-a": key.public_key()}) == original
    # ...and are as hard to forge as before.
    body = json.loads(base64.urlsafe_b64decode(code.split(".")[1] + "=="))
    body["t"] = 4822
    forged_body = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).decode().rstrip("=")
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(f"EVT1.{forged_body}.{code.split('.')[2]}", {"k-2026-a": key.public_key()})
    with pytest.raises(InvalidTicketCode, match="signature"):
        verify_ticket(legacy_code(original, Ed25519PrivateKey.generate()), {"k-2026-a": key.public_key()})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "EVT2",
        "EVT2.",
        "EVT2..",
        "EVT2.ABC",
        "EVT2.ABC.",
        "EVT2..AAAAAAAA",
        "EVT2.ABC.AAAAAAAA",  # too short to hold the fields and a signature
        "EVT2.ABC.AAAA.AAAA",
        "EVT2.ABC." + "1" * 148,  # 1 is not base32
        "EVT3.ABC." + "A" * 148,
        "EVT1",
        "EVT1.",
        "EVT1..",
        "EVT1.abc",
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
        verify_ticket(text, {KEY_ID: key.public_key()})


def test_a_code_has_exactly_one_way_of_being_written(key: Ed25519PrivateKey) -> None:
    """Anything but the code as issued (in either case, with whitespace around it) is refused as malformed
    before any key is looked at, so no two texts count as the same ticket's code."""
    code = sign_ticket(claims(), key)
    keys = {KEY_ID: key.public_key()}
    prefix, secret, packed = code.split(".")
    assert verify_ticket(code, keys) == claims()
    # 148 base32 characters carry 740 bits for 736: the last character's 4 spare bits are always 0.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".index(packed[-1])
    assert last % 16 == 0
    stray = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[last + 1]
    for variant in (
        f"{prefix}.{secret}.{packed[:-1]}{stray}",  # same bytes, a stray bit
        f"{code}=",
        f"{code}====",
        f"{prefix}.{secret}.{packed}A",  # too long
        f"{prefix}.{secret}.{packed[:-1]}",  # too short
        f"{prefix}.{secret[:5]}-{secret[6:]}.{packed}",  # a secret is letters and digits
        f"{prefix}.{secret[:-1]}0.{packed}",  # ...of the secret alphabet, which has no 0, 1, I, L or O
        f"{prefix}.{secret[:-1]}.{packed}",  # ...twenty of them
        f"{prefix}..{packed}",
    ):
        with pytest.raises(InvalidTicketCode, match="malformed"):
            verify_ticket(variant, keys)
    # Letters outside ASCII that upper-case to ASCII ones ('ſ' to 'S', 'ı' to 'I') are not read as them.
    lookalike = code.lower().replace("s", "ſ", 1) if "S" in code[5:] else code.lower().replace("i", "ı", 1)
    assert lookalike.upper() == code.upper() and lookalike != code.lower()
    with pytest.raises(InvalidTicketCode, match="not a ticket code"):
        verify_ticket(lookalike, keys)


def test_a_code_of_the_earlier_format_has_exactly_one_way_of_being_written(key: Ed25519PrivateKey) -> None:
    """EVT1 is read as strictly as EVT2: its signature written any other way, even as the same bytes, is malformed."""
    keys = {KEY_ID: key.public_key()}
    # A code whose signature has a '-' or '_', to write it in base64's '+' and '/' instead.
    code = next(c for c in (legacy_code(claims(ticket_id=n), key) for n in range(1, 200)) if set("-_") & set(c.split(".")[2]))
    prefix, body, signature = code.split(".")
    assert verify_ticket(code, keys).secret == claims().secret
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(signature) == 86 and alphabet.index(signature[-1]) % 16 == 0  # 516 bits for 512: 4 spare, always 0
    for written in (
        signature + "==",
        signature + "==AAAA",  # more after the padding
        signature.translate(str.maketrans("-_", "+/")),  # base64, not base64url
        signature[:-1] + alphabet[alphabet.index(signature[-1]) + 1],  # a stray bit
        signature[:40] + "%%%%" + signature[40:],
        signature[:40] + " \n\t " + signature[40:],
        signature + "!!!!",
    ):
        # Each is the same 64 bytes to a lenient reader (which would have admitted it)...
        lenient = base64.urlsafe_b64decode(written.translate(str.maketrans("+/", "-_")) + "==")
        assert lenient == base64.urlsafe_b64decode(signature + "==")
        # ...but not the code as issued.
        with pytest.raises(InvalidTicketCode, match="malformed"):
            verify_ticket(f"{prefix}.{body}.{written}", keys)


def test_the_earlier_format_claims_are_of_the_json_types_they_were_written_in(key: Ed25519PrivateKey) -> None:
    """Strings for the key id and secret; numbers (of integer value) for the rest. A number in quotes, a boolean
    or null is malformed, even signed with the event's key."""
    written = {"k": KEY_ID, "t": 4821, "n": 1, "e": 17, "y": 3, "s": "hq7mtw2xz9kcpe4rab3d", "f": 1_786_900_000, "u": 1_787_100_000}

    def signed(payload: dict[str, object]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return f"EVT1.{body}." + base64.urlsafe_b64encode(key.sign(f"EVT1.{body}".encode())).decode().rstrip("=")

    keys = {KEY_ID: key.public_key()}
    assert verify_ticket(signed(written), keys).ticket_id == 4821
    assert verify_ticket(signed(written | {"t": 4821.0}), keys).ticket_id == 4821  # the same JSON number to JavaScript
    for change in ({"t": "4821"}, {"n": True}, {"e": None}, {"y": 3.5}, {"f": [1]}, {"k": 17}, {"s": None}, {"x": float("inf")}):
        with pytest.raises(InvalidTicketCode, match="malformed"):
            verify_ticket(signed(written | change), keys)


def test_malformed_signatures_are_rejected(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    fields, signature = fields_of(code)
    keys = {KEY_ID: key.public_key()}
    prefix, secret, _ = code.split(".")
    for bad_signature in (bytes(64), signature[::-1], signature[:32] * 2, bytes(b ^ 1 for b in signature)):
        with pytest.raises(InvalidTicketCode):
            verify_ticket(f"{prefix}.{secret}.{b32(fields + bad_signature)}", keys)


def test_the_code_names_nobody(key: Ed25519PrivateKey) -> None:
    code = sign_ticket(claims(), key)
    for personal in (HOLDER, *HOLDER.split(), EMAIL, "@", "name", "email", "holder"):
        assert personal.lower() not in code.lower()
    fields, _ = fields_of(code)
    assert len(fields) == 28  # a key id and six numbers: no room for a name or an address
    # TicketClaims itself has nowhere to put a name or an address.
    assert not {"holder", "name", "email", "buyer"} & set(TicketClaims.__dataclass_fields__)


def test_checking_with_the_private_half_accepts_exactly_what_the_public_half_accepts(key: Ed25519PrivateKey) -> None:
    """The door's server checks codes with each key's private half (signing.verify_ticket signs the code again and
    compares, a third of a verification's cost); what it accepts, and the claims it reads, are those of a
    verification with the public half, for genuine codes of either format and for everything altered or foreign."""
    code = sign_ticket(claims(), key)
    fields, _ = fields_of(code)
    key_id, ticket, version, event, kind, valid_from, valid_until = struct.unpack(">6sIHIIII", fields)
    prefix, secret, packed = code.split(".")
    forger = Ed25519PrivateKey.generate()
    texts = [
        code,
        code.lower(),
        f"  {code}\n",
        sign_ticket(claims(ticket_id=7, version=3), key),
        legacy_code(claims(key_id="k-2026-a"), key),
        legacy_code(claims(key_id="k-2026-a"), forger),
        with_fields(code, struct.pack(">6sIHIIII", key_id, ticket + 1, version, event, kind, valid_from, valid_until)),
        with_fields(code, struct.pack(">6sIHIIII", key_id, ticket, version + 1, event, kind, valid_from, valid_until)),
        f"{prefix}.{('B' if secret[0] != 'B' else 'C') + secret[1:]}.{packed}",
        f"{prefix}.{secret}.{packed[:40]}{'A' if packed[40] != 'A' else 'B'}{packed[41:]}",
        sign_ticket(claims(), forger),
        sign_ticket(claims(key_id="0f0f0f0f0f0f"), key),
        "EVT2.not-a-code",
    ]

    def outcome(text: str, half: Ed25519PrivateKey | Ed25519PublicKey) -> TicketClaims | str:
        try:
            return verify_ticket(text, {KEY_ID: half, "k-2026-a": half})
        except InvalidTicketCode as refused:
            return str(refused)

    outcomes = [(outcome(text, key), outcome(text, key.public_key())) for text in texts]
    assert all(private == public for private, public in outcomes), outcomes
    assert sum(isinstance(private, TicketClaims) for private, _ in outcomes) == 5  # the genuine ones, and only those
