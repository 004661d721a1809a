"""QR codes for ticket codes: one matrix, drawn as SVG for pages and as vector squares in PDFs.

Ticket codes are ~240 bytes, which makes a version 11 symbol. The ``qrcode`` package takes ~20 ms to
build one (it redraws the whole symbol in pure Python for each of the 8 mask patterns), which alone
would cap PDF rendering at ~50 tickets a second. So symbols are built here, as ISO/IEC 18004 says, but
with everything that depends only on the version (function patterns, the data modules' order, the
masks) worked out once, and each row held as an int: a symbol then takes well under a millisecond.
``qrcode`` still supplies the error-correction block table, and the unit tests check that the
symbols are module-for-module the ones ``qrcode`` builds for the same version and mask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

import qrcode.base
import qrcode.constants

# Medium error correction survives a cracked screen or a smudged print while keeping modules large.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4

# Format information carries the level as these two bits (qrcode's constants are the same numbers).
_LEVEL_BITS = {
    qrcode.constants.ERROR_CORRECT_L: 0b01,
    qrcode.constants.ERROR_CORRECT_M: 0b00,
    qrcode.constants.ERROR_CORRECT_Q: 0b11,
    qrcode.constants.ERROR_CORRECT_H: 0b10,
}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A QR symbol without its quiet zone: ``rows[r]`` has bit ``size - 1 - c`` set when module (r, c) is dark."""

    size: int
    rows: tuple[int, ...]
    version: int
    mask: int

    def dark(self, row: int, column: int) -> bool:
        return bool(self.rows[row] >> (self.size - 1 - column) & 1)

    def runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules, top to bottom."""
        width = self.size + 1  # each row and a light separator, so no run crosses into the next row
        text = "0".join([format(row, f"0{self.size}b") for row in self.rows])
        return [(start // width, start % width, end - start) for start, end in map(re.Match.span, _DARK_RUN.finditer(text))]


_DARK_RUN = re.compile("1+")


# --- GF(256) and Reed-Solomon ------------------------------------------------------------------------

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    _EXP[_power] = _EXP[_power - 255]


def _multiply(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


@lru_cache(maxsize=None)
def _ec_table(degree: int) -> tuple[int, ...]:
    """For each byte value f, the generator's coefficients times f packed into one int (an LFSR step)."""
    generator = [1]
    for i in range(degree):
        # multiply by (x - a^i)
        generator = [a ^ _multiply(b, _EXP[i]) for a, b in zip(generator + [0], [0] + generator)]
    coefficients = generator[1:]  # the leading coefficient is 1
    return tuple(int.from_bytes(bytes(_multiply(f, c) for c in coefficients), "big") for f in range(256))


def _ec_codewords(data: bytes, degree: int) -> bytes:
    table = _ec_table(degree)
    shift = 8 * (degree - 1)
    keep = (1 << shift) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder & keep) << 8) ^ table[byte ^ (remainder >> shift)]
    return remainder.to_bytes(degree, "big")


# --- per-version layout ------------------------------------------------------------------------------


def _bch(value: int, generator: int, shift: int) -> int:
    remainder = value << shift
    top = generator.bit_length() - 1
    while remainder.bit_length() > top:
        remainder ^= generator << (remainder.bit_length() - 1 - top)
    return (value << shift) | remainder


def _alignment_centres(version: int) -> list[int]:
    if version == 1:
        return []
    size = 4 * version + 17
    count = version // 7 + 2
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    return [6] + [size - 7 - step * i for i in reversed(range(count - 1))]


@dataclass(frozen=True, slots=True)
class _Layout:
    """What depends only on the version. Whole symbols are ints of size² bits, row by row, (0, 0) highest."""

    size: int
    data_modules: int
    grid_order: tuple[int, ...]  # for each module row by row: index of its data bit, or of a fixed '0'/'1'
    masks: tuple[int, ...]  # each mask pattern's dark data modules
    format_cells: tuple[tuple[int, int], ...]  # (row, column) of format bits 0-14, then of their second copy
    not_first_column: int  # every module but those in column 0
    not_first_row: int  # every module but those in row 0
    window_fits: int  # modules with at least 10 more to their left in their row


@lru_cache(maxsize=None)
def _layout(version: int) -> _Layout:
    size = 4 * version + 17
    grid: list[list[bool | None]] = [[None] * size for _ in range(size)]

    def finder(top: int, left: int) -> None:
        for r in range(-1, 8):
            for c in range(-1, 8):
                if 0 <= top + r < size and 0 <= left + c < size:
                    ring = max(abs(r - 3), abs(c - 3))
                    grid[top + r][left + c] = ring != 2 and ring != 4

    finder(0, 0)
    finder(size - 7, 0)
    finder(0, size - 7)
    centres = _alignment_centres(version)
    for row in centres:
        for column in centres:
            if grid[row][column] is not None:
                continue  # overlaps a finder
            for r in range(-2, 3):
                for c in range(-2, 3):
                    grid[row + r][column + c] = max(abs(r), abs(c)) != 1
    for i in range(8, size - 8):
        if grid[i][6] is None:
            grid[i][6] = i % 2 == 0
        if grid[6][i] is None:
            grid[6][i] = i % 2 == 0
    # Format bits 0-14 twice (ISO/IEC 18004 figure 25): each copy is split between two finders.
    format_cells = [(i if i < 6 else i + 1, 8) for i in range(8)] + [(8, 7 if i == 8 else 14 - i) for i in range(8, 15)]
    format_cells += [(8, size - 1 - i) for i in range(8)] + [(size - 15 + i, 8) for i in range(8, 15)]
    for row, column in format_cells:
        grid[row][column] = False
    grid[size - 8][8] = True  # the dark module
    if version >= 7:
        bits = _bch(version, 0x1F25, 12)
        for i in range(18):
            dark = bool(bits >> i & 1)
            grid[i // 3][size - 11 + i % 3] = dark
            grid[size - 11 + i % 3][i // 3] = dark

    # Data modules in placement order: two-column strips, right to left, zigzagging up and down.
    order: list[tuple[int, int]] = []
    upward = True
    column = size - 1
    while column > 0:
        if column == 6:
            column -= 1  # skip the vertical timing pattern
        rows = range(size - 1, -1, -1) if upward else range(size)
        for row in rows:
            for c in (column, column - 1):
                if grid[row][c] is None:
                    order.append((row, c))
        upward = not upward
        column -= 2
    data_modules = len(order)
    index_of = {cell: i for i, cell in enumerate(order)}
    light, dark = data_modules, data_modules + 1
    cells = [(r, c) for r in range(size) for c in range(size)]
    grid_order = tuple(index_of[(r, c)] if grid[r][c] is None else (dark if grid[r][c] else light) for r, c in cells)
    masks = tuple(
        int("".join("1" if grid[r][c] is None and condition(r, c) else "0" for r, c in cells), 2) for condition in _MASKS
    )
    return _Layout(
        size=size,
        data_modules=data_modules,
        grid_order=grid_order,
        masks=masks,
        format_cells=tuple(format_cells),
        not_first_column=int("".join("0" if c == 0 else "1" for _, c in cells), 2),
        not_first_row=(1 << (size * size - size)) - 1,
        window_fits=int("".join("1" if c >= 10 else "0" for _, c in cells), 2),
    )


_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
)


@lru_cache(maxsize=None)
def _format_bits(version: int, level: int, mask: int) -> int:
    layout = _layout(version)
    size = layout.size
    bits = _bch(_LEVEL_BITS[level] << 3 | mask, 0x537, 10) ^ 0x5412
    symbol = 0
    for i, (row, column) in enumerate(layout.format_cells):
        if bits >> (i % 15) & 1:
            symbol |= 1 << (size * size - 1 - (row * size + column))
    return symbol


@lru_cache(maxsize=None)
def _blocks(version: int, level: int) -> tuple[tuple[int, int], ...]:
    """(data codewords, error correction codewords) of each block."""
    return tuple((block.data_count, block.total_count - block.data_count) for block in qrcode.base.rs_blocks(version, level))


@lru_cache(maxsize=None)
def _capacity_bits(version: int, level: int) -> int:
    return 8 * sum(data for data, _ in _blocks(version, level))


@lru_cache(maxsize=None)
def _interleaving(version: int, level: int) -> tuple[int, ...]:
    """Where each final codeword comes from in (data blocks one after another, then their EC blocks)."""
    blocks = _blocks(version, level)
    starts, offset = [], 0
    for data, _ in blocks:
        starts.append(offset)
        offset += data
    ec_starts = []
    for _, ec in blocks:
        ec_starts.append(offset)
        offset += ec
    order = [start + i for i in range(max(data for data, _ in blocks)) for start, (data, _) in zip(starts, blocks) if i < data]
    order += [start + i for i in range(max(ec for _, ec in blocks)) for start, (_, ec) in zip(ec_starts, blocks) if i < ec]
    return tuple(order)


# --- mask choice (ISO/IEC 18004 penalty rules) -------------------------------------------------------


def _runs_penalty(symbol: int, not_first_column: int) -> int:
    """Rule 1 along rows: each run of 5 + k same-coloured modules costs 3 + k."""
    same = ~(symbol ^ (symbol >> 1)) & not_first_column  # module equals the one to its left
    fives = same & (same >> 1) & (same >> 2) & (same >> 3)  # ...and so do the 3 before: 5 in a row end here
    return fives.bit_count() + 2 * (fives & ~(fives >> 1)).bit_count()


_FINDER_LIKE = ("10111010000", "00001011101")


def _finder_like_count(symbol: int, window_fits: int) -> int:
    """Rule 3 along rows: dark-light-dark×3-light-dark with 4 light modules before or after it."""
    shifted = [symbol >> shift for shift in range(11)]  # shifted[s] holds, at each module, the one s to its left
    count = 0
    for pattern in _FINDER_LIKE:
        found = window_fits
        for position, bit in enumerate(pattern):
            found &= shifted[10 - position] if bit == "1" else ~shifted[10 - position]
        count += found.bit_count()
    return count


def _penalty(symbol: int, layout: _Layout) -> int:
    """ISO/IEC 18004 section 7.8.3: the lower, the fewer patterns a reader could mistake for finders."""
    size = layout.size
    flat = format(symbol, f"0{size * size}b")
    transposed = int("".join([flat[c::size] for c in range(size)]), 2)
    score = 0
    for lines in (symbol, transposed):
        score += _runs_penalty(lines, layout.not_first_column)
        score += 40 * _finder_like_count(lines, layout.window_fits)
    left = ~(symbol ^ (symbol >> 1)) & layout.not_first_column
    up = ~(symbol ^ (symbol >> size)) & layout.not_first_row
    score += 3 * (left & up & (left >> size)).bit_count()  # rule 2: 2x2 blocks of one colour
    dark_percent = symbol.bit_count() * 100 // (size * size)
    score += 10 * (abs(dark_percent - 50) // 5)  # rule 4: balance of dark and light
    return score


# --- encoding ------------------------------------------------------------------------------------------


def _codewords(payload: bytes, version: int, level: int) -> bytes:
    """One byte-mode segment, terminated and padded, split into blocks, with EC codewords, interleaved."""
    capacity = _capacity_bits(version, level)
    bits = "0100" + format(len(payload), f"0{8 if version < 10 else 16}b")
    if payload:
        bits += format(int.from_bytes(payload, "big"), f"0{8 * len(payload)}b")
    if len(bits) > capacity:
        raise ValueError(f"{len(payload)} bytes do not fit a version {version} QR code")
    bits += "0" * min(4, capacity - len(bits))  # terminator
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    data += bytes((0xEC, 0x11)) * ((capacity // 8 - len(data)) // 2 + 1)
    data = data[: capacity // 8]
    pieces, offset = [data], 0
    for count, ec in _blocks(version, level):
        pieces.append(_ec_codewords(data[offset : offset + count], ec))
        offset += count
    return bytes(itemgetter(*_interleaving(version, level))(b"".join(pieces)))


def _version_for(length: int, level: int) -> int:
    for version in range(1, 41):
        if 4 + (8 if version < 10 else 16) + 8 * length <= _capacity_bits(version, level):
            return version
    raise ValueError("too much data for a QR code")


@lru_cache(maxsize=1024)
def qr_symbol(data: str, *, level: int = ERROR_CORRECTION, version: int | None = None, mask: int | None = None) -> Symbol:
    """The QR symbol (byte mode) for ``data``: the smallest version that fits, the mask with the lowest penalty."""
    payload = data.encode()
    version = version or _version_for(len(payload), level)
    layout = _layout(version)
    size = layout.size
    codewords = _codewords(payload, version, level)
    bits = format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b")
    source = bits + "0" * (layout.data_modules - len(bits)) + "01"
    base = int("".join(itemgetter(*layout.grid_order)(source)), 2)
    best: tuple[int, int, int] | None = None
    for pattern in range(8) if mask is None else (mask,):
        symbol = base ^ layout.masks[pattern] ^ _format_bits(version, level, pattern)
        score = _penalty(symbol, layout) if mask is None else 0
        if best is None or score < best[0]:
            best = (score, pattern, symbol)
    assert best is not None
    flat = format(best[2], f"0{size * size}b")
    rows = tuple(int(flat[i : i + size], 2) for i in range(0, size * size, size))
    return Symbol(size=size, rows=rows, version=version, mask=best[1])


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The symbol as rows of booleans (True is dark), with its quiet zone."""
    symbol = qr_symbol(data)
    width = symbol.size + 2 * QUIET_ZONE
    blank = (False,) * width
    margin = (False,) * QUIET_ZONE
    body = tuple(margin + tuple(c == "1" for c in format(row, f"0{symbol.size}b")) + margin for row in symbol.rows)
    return (blank,) * QUIET_ZONE + body + (blank,) * QUIET_ZONE


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
