"""QR symbols: module for module what the qrcode package makes, readable by a real decoder, and fast."""

from __future__ import annotations

import random
import string
import time

import pytest
import qrcode
import qrcode.util
import zxingcpp
from PIL import Image

from events.tickets import qr


def reference_modules(data: str, version: int, mask: int) -> list[list[bool]]:
    """qrcode's symbol for the same data as one byte-mode segment, at the given version and mask."""
    code = qrcode.QRCode(version=version, error_correction=qr.ERROR_CORRECTION, mask_pattern=mask, border=0)
    code.add_data(qrcode.util.QRData(data.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    code.make(fit=False)
    return [list(map(bool, row)) for row in code.get_matrix()]


def modules(symbol: qr.Symbol) -> list[list[bool]]:
    return [[symbol.dark(r, c) for c in range(symbol.size)] for r in range(symbol.size)]


def image(data: str, scale: int = 4) -> Image.Image:
    matrix = qr.qr_matrix(data)
    side = len(matrix)
    picture = Image.new("L", (side, side))
    picture.putdata([0 if dark else 255 for row in matrix for dark in row])
    return picture.resize((side * scale, side * scale), Image.Resampling.NEAREST)


@pytest.mark.parametrize("version", [1, 2, 6, 7, 10, 11, 12, 13, 27])
def test_symbols_match_the_qrcode_package_for_every_mask(version: int) -> None:
    rng = random.Random(version)
    capacity = qr._capacity_bits(version, qr.ERROR_CORRECTION) // 8 - 3
    for mask in range(8):
        data = "".join(rng.choice(string.ascii_letters + string.digits + "-_.") for _ in range(rng.randint(1, capacity)))
        assert modules(qr.qr_symbol(data, version=version, mask=mask)) == reference_modules(data, version, mask), (version, mask)


def test_every_version_layout_matches_the_qrcode_package() -> None:
    # Every version up to 27 (alignment patterns, version information, block layouts), then a few larger.
    for version in [*range(1, 28), 32, 36, 40]:
        data = "EVT1." + "x" * (version * 7)
        data = data[: qr._capacity_bits(version, qr.ERROR_CORRECTION) // 8 - 3]
        mask = version % 8
        assert modules(qr.qr_symbol(data, version=version, mask=mask)) == reference_modules(data, version, mask), version


def test_data_too_long_for_the_version_is_refused() -> None:
    with pytest.raises(ValueError):
        qr.qr_symbol("x" * 100, version=1)
    with pytest.raises(ValueError):
        qr.qr_symbol("x" * 3000)


def test_the_smallest_version_that_fits_is_chosen() -> None:
    for length in (1, 14, 15, 100, 235, 300, 1000):
        data = "x" * length
        reference = qrcode.QRCode(error_correction=qr.ERROR_CORRECTION)
        reference.add_data(qrcode.util.QRData(data.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
        reference.make(fit=True)
        assert qr.qr_symbol(data).version == reference.version


def test_the_mask_with_the_lowest_penalty_is_chosen() -> None:
    data = "EVT1." + "a1B2-c3_D4" * 22
    chosen = qr.qr_symbol(data)
    scores = {
        mask: qr._penalty(int("".join(format(row, f"0{chosen.size}b") for row in qr.qr_symbol(data, mask=mask).rows), 2), qr._layout(chosen.version))
        for mask in range(8)
    }
    assert scores[chosen.mask] == min(scores.values())


@pytest.mark.parametrize("length", [20, 120, 240, 330])
def test_a_decoder_reads_back_ticket_sized_codes(length: int) -> None:
    rng = random.Random(length)
    data = "EVT1." + "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(length))
    found = zxingcpp.read_barcodes(image(data))
    assert [result.text for result in found] == [data]
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode


def test_the_svg_and_the_matrix_show_the_same_symbol() -> None:
    data = "EVT1.svg-check"
    symbol = qr.qr_symbol(data)
    matrix = qr.qr_matrix(data)
    width = symbol.size + 2 * qr.QUIET_ZONE
    assert len(matrix) == width and all(len(row) == width for row in matrix)
    assert not any(matrix[0]) and not any(row[0] for row in matrix)  # quiet zone
    svg = qr.qr_svg(data)
    assert svg.startswith("<svg") and f'viewBox="0 0 {width} {width}"' in svg
    dark_in_svg = sum(int(part.split("h")[1].split("v")[0]) for part in svg.split('d="')[1].split('"')[0].split("M")[1:])
    assert dark_in_svg == sum(map(sum, matrix))


def test_building_a_ticket_symbol_takes_about_a_millisecond() -> None:
    """Not a benchmark (see bench/tickets.py): a guard against falling back to ~20 ms per symbol."""
    rng = random.Random(7)
    codes = ["EVT1." + "".join(rng.choice(string.ascii_letters) for _ in range(230)) for _ in range(30)]
    began = time.process_time()
    for code in codes:
        qr.qr_symbol(code)
    assert (time.process_time() - began) / len(codes) < 0.008
