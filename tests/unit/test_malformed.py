"""The request path check of events.malformed, byte by byte: every control character is refused whether sent as it is
or escaped, broken UTF-8 is refused, and everything printable passes (the quick way for plain ASCII paths included)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes, unquote

import pytest

from events.malformed import _path_problem

CONTROL = "The address contains a control character."
NOT_UTF8 = "The address is not valid UTF-8."


def scope(raw: bytes) -> dict[str, Any]:
    """As uvicorn makes it: the path decoded from the raw path's escapes (broken UTF-8 as U+FFFD)."""
    return {"type": "http", "raw_path": raw, "path": unquote(raw.decode("latin-1"), errors="replace")}


@pytest.mark.parametrize("byte", range(128))
def test_each_ascii_character_sent_as_it_is_or_escaped(byte: int) -> None:
    control = byte < 0x20 or byte == 0x7F
    expected = CONTROL if control else None
    if bytes([byte]) not in (b"%", b"?", b"#"):
        assert _path_problem(scope(b"/api/checkin/re" + bytes([byte]) + b"deem")) == expected
    assert _path_problem(scope(b"/api/checkin/re" + quote_from_bytes(bytes([byte]), safe="").encode() + b"deem")) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/api/checkin/redeem", None),
        (b"/events/caf%C3%A9", None),
        ("/events/café".encode(), None),
        (b"/events/%C2%85", CONTROL),  # a C1 control, escaped
        ("/events/\u2028".encode(), CONTROL),  # a line separator, as it is
        (b"/events/%FF", NOT_UTF8),
        (b"/events/%ED%A0%80", NOT_UTF8),  # a lone surrogate
    ],
)
def test_paths_beyond_ascii(raw: bytes, expected: str | None) -> None:
    assert _path_problem(scope(raw)) == expected


def test_the_decoded_path_is_checked_too() -> None:
    # A server whose decoded path holds what its raw path does not show.
    assert _path_problem({"type": "http", "raw_path": b"/api/checkin/redeem", "path": "/api/checkin/re\x00deem"}) == CONTROL
