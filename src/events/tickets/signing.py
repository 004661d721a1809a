"""Signed ticket codes: Ed25519 over a compact payload, verifiable offline with the event's public keys.

The payload names the ticket, its version (bumped when a ticket is re-issued), the event, the type,
the secret and the validity window. Nothing about the holder. Pure (cryptography, the standard library
and orders.codes' secret alphabet).

The code a QR symbol carries, ``EVT2.<SECRET>.<BASE32>``:
  * ``SECRET`` is the ticket's secret in capitals (20 characters of orders.codes.SECRET_ALPHABET), so that
    a door device that cannot check Ed25519 signatures can still match the code against its ticket index;
  * ``BASE32`` is RFC 4648 base32 without padding of 28 bytes of fields, big-endian (key id 6 bytes,
    ticket id 4, version 2, event id 4, ticket type id 4, valid from 4, valid until 4; times in epoch
    seconds), then the 64-byte signature of ``EVT2.<SECRET>.`` followed by those 28 bytes.
Every character is in QR's alphanumeric set (capitals, digits, '.'), which packs 2 characters into 11 bits
where byte mode takes 16: the 174 characters fit a version 7 symbol (45 modules a side) at medium error
correction, where the JSON form below needed version 11 (61 a side). Bigger modules at the same printed size
scan more easily, and the symbol encodes three times faster (bench/tickets.py). Letters are read in either
case, since some handheld scanners type them in lower case.

Codes issued before this format, ``EVT1.<base64url JSON>.<base64url signature>``, still verify.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events.orders.codes import SECRET_ALPHABET
from events.tickets.secrets import TICKET_SECRET_LENGTH

CODE_PREFIX = "EVT2"
LEGACY_PREFIX = "EVT1"
KEY_ID_BYTES = 6  # keys.py makes key ids of 12 hex digits
MAX_TICKET_VERSION = 2**16 - 1  # a ticket's version (re-issues) has two bytes
_FIELDS = struct.Struct(">6sIHIIII")
_SIGNATURE_BYTES = 64
_PACKED_BYTES = _FIELDS.size + _SIGNATURE_BYTES
_SECRET = f"[{re.escape(SECRET_ALPHABET.upper())}]{{{TICKET_SECRET_LENGTH}}}"  # a ticket secret, in capitals
_SECRET_SHAPE = re.compile(_SECRET)
# The whole shape of a code in capitals: 92 bytes are 148 base32 characters.
_COMPACT = re.compile(rf"EVT2\.({_SECRET})\.([A-Z2-7]{{148}})")
_BASE32_VALUES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648: each character's 5-bit value is its index
# The same values as the digits int() reads in base 32, so a code's 148 characters decode in one call in C: Python 3.11's
# base64.b32decode loops in Python over each group of eight (ten times the CPU, some 10 µs on every door scan).
_BASE32_AS_DIGITS = str.maketrans(_BASE32_VALUES, "0123456789abcdefghijklmnopqrstuv")
_STRAY_BIT_COUNT = 148 * 5 - _PACKED_BYTES * 8  # 148 characters carry 740 bits, 4 more than the bytes
_STRAY_BITS = (1 << _STRAY_BIT_COUNT) - 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")  # EVT1's parts: RFC 4648 base64url without padding


class InvalidTicketCode(Exception):
    """The code is malformed, signed by an unknown key, or does not match its signature."""


@dataclass(frozen=True, slots=True)
class TicketClaims:
    key_id: str
    ticket_id: int
    version: int
    event_id: int
    ticket_type_id: int
    secret: str
    valid_from: int  # epoch seconds
    valid_until: int


def sign_ticket(claims: TicketClaims, private_key: Ed25519PrivateKey) -> str:
    """'EVT2.<SECRET>.<BASE32>': what the QR code carries. ValueError if a field does not fit the format."""
    secret = claims.secret.upper()
    if not _SECRET_SHAPE.fullmatch(secret):
        raise ValueError(f"a ticket secret is {TICKET_SECRET_LENGTH} characters of orders.codes.SECRET_ALPHABET")
    try:
        key_id = bytes.fromhex(claims.key_id)
    except ValueError:
        key_id = b""
    if len(key_id) != KEY_ID_BYTES:
        raise ValueError(f"a signing key id is {KEY_ID_BYTES * 2} hex digits")
    try:
        fields = _FIELDS.pack(
            key_id,
            claims.ticket_id,
            claims.version,
            claims.event_id,
            claims.ticket_type_id,
            claims.valid_from,
            claims.valid_until,
        )
    except struct.error as exc:
        raise ValueError(f"ticket claims do not fit a code: {exc}") from exc
    signed = _signed_part(secret) + fields
    packed = base64.b32encode(fields + private_key.sign(signed)).decode().rstrip("=")
    return f"{CODE_PREFIX}.{secret}.{packed}"


def _signed_part(secret: str) -> bytes:
    return f"{CODE_PREFIX}.{secret}.".encode()


@dataclass(frozen=True, slots=True)
class _Parsed:
    claims: TicketClaims
    message: bytes
    signature: bytes


def _parse(code: str) -> _Parsed:
    text = code.strip()
    if not text.isascii():  # upper() would turn 'ſ' into 'S' and 'ı' into 'I'  # noqa: RUF003
        raise InvalidTicketCode("not a ticket code")
    if text[:5].upper() == CODE_PREFIX + ".":
        return _parse_compact(text.upper())
    if text.startswith(LEGACY_PREFIX + "."):
        return _parse_legacy(text)
    raise InvalidTicketCode("not a ticket code")


def _parse_compact(text: str) -> _Parsed:
    """One text per code: the exact shape, and no stray bits in the last base32 character."""
    match = _COMPACT.fullmatch(text)
    if match is None:
        raise InvalidTicketCode("malformed ticket code")
    secret, packed = match.groups()
    value = int(packed.translate(_BASE32_AS_DIGITS), 32)  # the pattern admits base32 characters only
    # The last character's low bits fall past the 92 bytes: a code with any of them set is another text of the same
    # bytes (what encoding the bytes again and comparing would find, without the encoding, on every scan).
    if value & _STRAY_BITS:
        raise InvalidTicketCode("malformed ticket code")
    raw = (value >> _STRAY_BIT_COUNT).to_bytes(_PACKED_BYTES, "big")
    fields, signature = raw[: _FIELDS.size], raw[_FIELDS.size :]
    key_id, ticket_id, version, event_id, ticket_type_id, valid_from, valid_until = _FIELDS.unpack(fields)
    claims = TicketClaims(
        key_id=key_id.hex(),
        ticket_id=ticket_id,
        version=version,
        event_id=event_id,
        ticket_type_id=ticket_type_id,
        secret=secret.lower(),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return _Parsed(claims, _signed_part(secret) + fields, signature)


def _parse_legacy(text: str) -> _Parsed:
    """'EVT1.<payload>.<signature>', base64url: the JSON claims of codes issued before EVT2. Read as the door
    reads them (static/js/door/codes.js), and as strictly as EVT2: base64url exactly as _b64 writes it, UTF-8
    JSON, strings where strings were written and numbers where numbers were (JSON numbers are read as the
    door's JavaScript reads them, doubles, so both find the same integers)."""
    parts = text.split(".")
    if len(parts) != 3:
        raise InvalidTicketCode("not a ticket code")
    try:
        # utf-8-sig: a leading byte-order mark is dropped, as the door's TextDecoder drops it.
        data = json.loads(_unb64_exact(parts[1]).decode("utf-8-sig"), parse_int=float, parse_constant=_no_constant)
        if not isinstance(data, dict):
            raise TypeError("claims are a JSON object")
        claims = TicketClaims(
            key_id=_json_string(data["k"]),
            ticket_id=_json_integer(data["t"]),
            version=_json_integer(data["n"]),
            event_id=_json_integer(data["e"]),
            ticket_type_id=_json_integer(data["y"]),
            secret=_json_string(data["s"]),
            valid_from=_json_integer(data["f"]),
            valid_until=_json_integer(data["u"]),
        )
        signature = _unb64_exact(parts[2])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidTicketCode("malformed ticket code") from exc
    return _Parsed(claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # Python's json reads NaN and Infinity; JSON (and the door) does not


def _json_string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("a JSON string")
    return value


def _json_integer(value: object) -> int:
    """A JSON number of integer value (as JavaScript's Number.isInteger): '4821' in quotes, true or 1.5 is not."""
    if not isinstance(value, float) or not value.is_integer():  # parse_int=float: every JSON number is a float
        raise TypeError("a JSON number of integer value")
    return int(value)


def read_claims(code: str) -> TicketClaims:
    """The claims of a code without checking the signature (to find which key to check it with)."""
    return _parse(code).claims


def verify_ticket(code: str, keys: Mapping[str, Ed25519PublicKey | Ed25519PrivateKey]) -> TicketClaims:
    """Claims of a genuine code signed by one of ``keys`` (older, rotated keys included).

    Given a key's private half (as the service that signed the code holds it), the code's message is signed again
    and the signatures compared: Ed25519 signing is deterministic (RFC 8032), so a code made with that key carries
    exactly that signature, and signing costs about a third of a verification (31 against 104 µs a code, measured in
    bench/README.md), the largest cost of a door scan. A signature that differs is then verified as usual, so a code is
    accepted exactly when its signature verifies, whichever half is given."""
    parsed = _parse(code)
    key = keys.get(parsed.claims.key_id)
    if key is None:
        raise InvalidTicketCode("signed with an unknown key")
    if isinstance(key, Ed25519PrivateKey):
        if hmac.compare_digest(key.sign(parsed.message), parsed.signature):
            return parsed.claims
        key = key.public_key()
    try:
        key.verify(parsed.signature, parsed.message)
    except (InvalidSignature, ValueError) as exc:
        raise InvalidTicketCode("signature does not match") from exc
    return parsed.claims


def looks_signed(scanned: str) -> bool:
    """Whether the text is meant as a signed code (of either format), genuine or not."""
    text = scanned.strip()
    return text[:5].upper() == CODE_PREFIX + "." or text.startswith(LEGACY_PREFIX + ".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unb64_exact(text: str) -> bytes:
    """base64url exactly as _b64 writes it: ValueError for padding, any other character or stray bits in the
    last character (which _unb64 drops or ignores), so that one text stands for one code."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url as codes are written")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("stray bits in the last base64url character")
    return data


def public_key_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text))
