"""glibc malloc's thresholds for large blocks, fixed in the long-running processes (each serve worker, the job worker,
each PDF pool process), so that a large block freed goes back to the system instead of staying in the process.

glibc gives a block of 128 KiB or more a mapping of its own, unmapped when it is freed; but each time it frees such a
block it raises that threshold to the block's size (up to 32 MiB), and the threshold for giving back the free top of a
heap to twice that. Later blocks of that size then come from the heap of the calling thread's arena, and stay in the
process once freed. A password hash is such a block (Argon2id takes 19 MiB, in a worker thread: accounts.passwords):
four sign-ins at once, three times, left a process 76 MiB bigger for good, 19 MiB for each thread arena that had hashed
one (glibc makes up to eight arenas per core); with the thresholds fixed, 0.1 MiB (tests/unit/test_malloc.py).

Fixing them (mallopt; setting either stops glibc adjusting both) at 1 MiB rather than glibc's first 128 KiB keeps the
blocks a request often needs (a gzip stream's 256 KiB, a page's text) coming from the heap without a system call each,
while a hash, an order's PDF or a spreadsheet export is mapped and given back. An operator's own MALLOC_MMAP_THRESHOLD_
or MALLOC_TRIM_THRESHOLD_ (or the same in GLIBC_TUNABLES) is left alone. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

THRESHOLD_BYTES = 1024 * 1024
# (mallopt's parameter in glibc's <malloc.h>, its environment variable, its name in GLIBC_TUNABLES)
_PARAMETERS = ((-3, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"), (-1, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"))


def fix_thresholds(environ: Mapping[str, str] = os.environ) -> bool:
    """Fix glibc's mmap and trim thresholds at THRESHOLD_BYTES in this process (those the operator has not set);
    whether anything was set."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    tunables = environ.get("GLIBC_TUNABLES", "")
    chosen = [parameter for parameter, variable, tunable in _PARAMETERS if variable not in environ and tunable not in tunables]
    # musl's mallopt does nothing and says 0; glibc's says 1.
    return bool(chosen) and all(mallopt(parameter, THRESHOLD_BYTES) == 1 for parameter in chosen)
