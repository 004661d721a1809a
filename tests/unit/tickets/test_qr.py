"""QR symbols from the qrcode package: what we draw is what a real decoder reads back."""

from __future__ import annotations

import random
import re
import string

import pytest
import qrcode
import qrcode.util
import zxingcpp
from PIL import Image

from events.tickets import qr


def image(data: str, scale: int = 4) -> Image.Image:
    matrix = qr.qr_matrix(data)
    side = len(matrix)
    picture = Image.new("L", (side, side))
    picture.putdata([0 if dark else 255 for row in matrix for dark in row])
    return picture.resize((side * scale, side * scale), Image.Resampling.NEAREST)


def test_ticket_sized_codes_decode_back_exactly() -> None:
    rng = random.Random(7)
    for length in (20, 120, 260, 400):
        data = "EVT1." + "".join(rng.choice(string.ascii_letters + string.digits + "-_.") for _ in range(length))
        [result] = zxingcpp.read_barcodes(image(data), formats=zxingcpp.BarcodeFormat.QRCode)
        assert result.text == data


def test_a_ticket_code_is_packed_in_alphanumeric_mode_into_a_version_7_symbol() -> None:
    """A signed ticket code (174 capitals, digits and dots) in a symbol of 45 modules a side: in byte mode it
    would need version 9 (53 a side), so the modules would print 15% smaller. A real decoder reads it back."""
    rng = random.Random(5)
    code = (
        "EVT2."
        + "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(20))
        + "."
        + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(148))
    )
    symbol = qr.qr_symbol(code)
    assert (symbol.version, symbol.size) == (7, 45)
    as_bytes = qrcode.QRCode(error_correction=qr.ERROR_CORRECTION, border=0)
    as_bytes.add_data(qrcode.util.QRData(code.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    assert as_bytes.best_fit() == 9
    [result] = zxingcpp.read_barcodes(image(code), formats=zxingcpp.BarcodeFormat.QRCode)
    assert result.text == code
    # Text with any character outside QR's alphanumeric set (a link, lower case) is still encoded, as bytes.
    for other in ("https://example.org/door/pair/abc", code.lower()):
        [result] = zxingcpp.read_barcodes(image(other), formats=zxingcpp.BarcodeFormat.QRCode)
        assert result.text == other


def test_runs_cover_exactly_the_dark_modules() -> None:
    symbol = qr.qr_symbol("EVT1.runs-check")
    drawn = {(row, column + offset) for row, column, length in symbol.runs() for offset in range(length)}
    dark = {(r, c) for r in range(symbol.size) for c in range(symbol.size) if symbol.dark(r, c)}
    assert drawn == dark


def test_the_svg_draws_the_same_symbol_with_its_quiet_zone() -> None:
    data = "EVT1.svg-check"
    svg = qr.qr_svg(data)
    width = qr.qr_symbol(data).size + 2 * qr.QUIET_ZONE
    assert f'viewBox="0 0 {width} {width}"' in svg and 'fill="#fff"' in svg
    assert len(re.findall(r"M\d+ \d+h", svg)) == len(qr.qr_symbol(data).runs())


@pytest.mark.parametrize(
    ("mode", "characters", "lengths"),
    [
        (qrcode.util.MODE_8BIT_BYTE, string.ascii_lowercase + string.digits + "-_.", [1, 20, 100, *range(170, 261, 3), 400, 1000]),
        (qrcode.util.MODE_ALPHA_NUM, string.ascii_uppercase + string.digits + ".", [1, 20, 100, *range(150, 200, 2), 400, 1000]),
    ],
)
def test_naming_the_version_gives_the_symbol_qrcode_would_fit(mode: int, characters: str, lengths: list[int]) -> None:
    """qr_symbol tells qrcode the version (found once per mode and length) instead of letting it fit each code.

    Lengths around every version boundary where a ticket's code is (byte mode for codes issued before EVT2,
    alphanumeric for EVT2), including the step from version 9 to 10 at which the length field grows and
    qrcode's fitting has to go round again.
    """
    rng = random.Random(11)
    for length in lengths:
        data = "".join(rng.choice(characters) for _ in range(length))
        if mode == qrcode.util.MODE_8BIT_BYTE:
            data = "x" + data[1:]  # a lower-case letter: not alphanumeric
        fitted = qrcode.QRCode(error_correction=qr.ERROR_CORRECTION, border=0, mask_pattern=qr.MASK_PATTERN)
        fitted.add_data(qrcode.util.QRData(data.encode(), mode=mode))
        fitted.make(fit=True)
        symbol = qr.qr_symbol(data)
        assert symbol.version == fitted.version, length
        assert [[symbol.dark(r, c) for c in range(symbol.size)] for r in range(symbol.size)] == fitted.get_matrix(), length
