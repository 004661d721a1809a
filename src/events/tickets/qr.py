"""QR codes for ticket codes, encoded by the qrcode package: drawn as SVG for pages and as vector runs
in PDFs.

qrcode's automatic mask choice builds the symbol eight times to score each mask (about 20 ms a code);
a fixed mask is as valid to every reader and five times faster, which matters when a 500-ticket order
becomes one PDF. The tests decode what this makes with zxing-cpp, from PDFs and screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.util

# Medium error correction survives a cracked screen or a smudged print while keeping modules large.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4
MASK_PATTERN = 0
_DARK_RUN = re.compile("1+")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A QR symbol without its quiet zone: ``rows[r][c]`` is True where module (r, c) is dark."""

    size: int
    rows: tuple[tuple[bool, ...], ...]
    version: int

    def dark(self, row: int, column: int) -> bool:
        return self.rows[row][column]

    def runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules, top to bottom."""
        found = []
        for index, row in enumerate(self.rows):
            text = "".join("1" if dark else "0" for dark in row)
            found.extend((index, match.start(), match.end() - match.start()) for match in _DARK_RUN.finditer(text))
        return found


@lru_cache(maxsize=2048)
def qr_symbol(data: str) -> Symbol:
    """The smallest symbol (byte mode) that holds ``data``."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0, mask_pattern=MASK_PATTERN)
    code.add_data(qrcode.util.QRData(data.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    code.make(fit=True)
    rows = tuple(tuple(bool(dark) for dark in row) for row in code.get_matrix())
    return Symbol(size=len(rows), rows=rows, version=code.version)


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The symbol as rows of booleans (True is dark), with its quiet zone."""
    symbol = qr_symbol(data)
    width = symbol.size + 2 * QUIET_ZONE
    blank = (False,) * width
    margin = (False,) * QUIET_ZONE
    return (blank,) * QUIET_ZONE + tuple(margin + row + margin for row in symbol.rows) + (blank,) * QUIET_ZONE


def qr_svg(data: str) -> str:
    """An SVG (white background and quiet zone, one path of dark runs) that the page scales to fit."""
    symbol = qr_symbol(data)
    width = symbol.size + 2 * QUIET_ZONE
    path = "".join(f"M{column + QUIET_ZONE} {row + QUIET_ZONE}h{length}v1h-{length}z" for row, column, length in symbol.runs())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {width} {width}" '
        f'width="{width}mm" height="{width}mm" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{width}" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
    )
