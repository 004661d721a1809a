"""Lowers the priority of the process that imports it, to the CPU pool's (events.cpu.NICENESS): imported only by the
pool's fork server, first of its PRELOAD, so that the fork server imports reportlab, qrcode and the rest (about a second
of CPU when a serve process's first PDF starts its pool) behind the requests rather than beside them, and every pool
process forked from it starts at that priority. Nothing else may import it."""

from __future__ import annotations

import os

from events.cpu import NICENESS

os.nice(NICENESS)
