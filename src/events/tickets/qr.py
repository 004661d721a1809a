"""QR codes for ticket codes: one matrix, drawn as SVG for pages and as vector squares in PDFs."""

from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.image.svg

# Medium error correction survives a cracked screen or a smudged print while keeping modules large.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4


@lru_cache(maxsize=1024)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_svg(data: str) -> str:
    """An SVG (qrcode's path renderer, white background) that the page scales to fit."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
    )
    return image.to_string(encoding="unicode")
