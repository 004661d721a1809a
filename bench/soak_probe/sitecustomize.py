"""bench/soak.py --probe: what each server process holds, written when the soak asks (SIGUSR1). Bench only.

The soak puts this folder first on the PYTHONPATH of `events serve` and `events worker`, with
EVENTS_BENCH_PROBE_DIR set; Python imports ``sitecustomize`` at start-up in every process it starts (the workers,
their CPU pool's fork server, and so the pool processes forked from it). Without that variable this does nothing.

On each SIGUSR1 a process appends one JSON line to <dir>/<pid>.jsonl:
  * VmRSS; glibc malloc's view of its arenas (mallinfo2: their size, the bytes in use and free inside them, the large
    blocks mapped apart; and how many arenas there are, from malloc_info); pymalloc's (Python's allocator for objects
    up to 512 bytes: its arenas, the bytes in allocated blocks, and the bytes free in its pools, from
    sys._debugmallocstats): so that growth of Python's objects can be told from memory held free by either allocator
    (fragmentation) and from C libraries' own allocations;
  * every cache the process holds: each functools.lru_cache (items, limit, hits and misses, by function), asyncpg's prepared
    statement caches (statements, over all connections), Jinja's template caches, events.page_cache's pages (their
    count and bytes), and the counts of live objects by type;
  * with EVENTS_BENCH_TRACEMALLOC_FRAMES (N > 0): the first signal starts tracemalloc with N frames (from then on
    only: tracing the imports at start-up makes them about 25 times slower), each later one adds what tracemalloc
    traces and writes a snapshot to <dir>/<pid>-<k>.snapshot for the soak to compare.

Answering takes a moment (a pass over every object; a snapshot takes longer), during which that process serves nothing.
"""

from __future__ import annotations

import os

if os.environ.get("EVENTS_BENCH_PROBE_DIR"):
    import collections
    import contextlib
    import ctypes
    import functools
    import gc
    import json
    import re
    import signal
    import sys
    import tempfile
    import time
    import tracemalloc
    from collections import Counter
    from typing import Any

    class _Mallinfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
        ]

    try:
        _libc: Any = ctypes.CDLL(None)
        _mallinfo2: Any = _libc.mallinfo2
        _mallinfo2.restype = _Mallinfo2
        _libc.fopen.restype = ctypes.c_void_p
    except (OSError, AttributeError):  # not glibc, or glibc before 2.33
        _mallinfo2 = None

    _DIRECTORY = os.environ["EVENTS_BENCH_PROBE_DIR"]
    _FRAMES = int(os.environ.get("EVENTS_BENCH_TRACEMALLOC_FRAMES", "0"))
    _state = {"written": 0, "pending": 0, "busy": False}

    def _rss_kb() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def _name(function: Any) -> str:
        return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"

    def _malloc_arenas() -> int:
        """How many arenas glibc malloc has (the main one and one per thread that allocated, up to MALLOC_ARENA_MAX)."""
        with tempfile.NamedTemporaryFile(mode="r") as out:
            stream = _libc.fopen(out.name.encode(), b"w")
            _libc.malloc_info(0, ctypes.c_void_p(stream))
            _libc.fclose(ctypes.c_void_p(stream))
            return len(re.findall(r'<heap nr="', out.read()))

    _PYMALLOC = {
        "pymalloc_arenas": re.compile(r"^# arenas allocated current\s*=\s*([\d,]+)", re.MULTILINE),
        "pymalloc_allocated": re.compile(r"^# bytes in allocated blocks\s*=\s*([\d,]+)", re.MULTILINE),
        "pymalloc_available": re.compile(r"^# bytes in available blocks\s*=\s*([\d,]+)", re.MULTILINE),
        "pymalloc_unused_pools": re.compile(r"^\d+ unused pools \* \d+ bytes\s*=\s*([\d,]+)", re.MULTILINE),
    }

    def _pymalloc() -> dict[str, int]:
        """pymalloc's figures, which sys._debugmallocstats writes to the C stderr (fd 2), caught in a file."""
        with tempfile.TemporaryFile(mode="w+") as out:
            sys.stderr.flush()
            saved = os.dup(2)
            os.dup2(out.fileno(), 2)
            try:
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            out.seek(0)
            text = out.read()
        found = {name: pattern.search(text) for name, pattern in _PYMALLOC.items()}
        return {name: int(match.group(1).replace(",", "")) for name, match in found.items() if match}

    def _caches() -> tuple[dict[str, list[int]], dict[str, int]]:
        """(caches by name: [items, limit, hits, misses], live objects by type)."""
        caches: dict[str, list[int]] = {}
        types: Counter[str] = Counter()

        def add(name: str, items: int, limit: int, hits: int = 0, misses: int = 0) -> None:
            entry = caches.setdefault(name, [0, 0, 0, 0])
            for index, value in enumerate((items, limit, hits, misses)):
                entry[index] += value

        largest: list[tuple[int, str, int]] = []  # (bytes, type, items) of the biggest containers, a dict's or set's table
        for obj in gc.get_objects():
            kind = type(obj)
            types[f"{kind.__module__}.{kind.__qualname__}"] += 1
            if kind in (dict, set, list, collections.OrderedDict, collections.defaultdict):
                size = sys.getsizeof(obj)
                if size > 256 * 1024:
                    largest.append((size, kind.__name__, len(obj)))
            if isinstance(obj, functools._lru_cache_wrapper):
                info = obj.cache_info()
                if info.currsize:
                    add(f"lru_cache {_name(obj.__wrapped__)}", info.currsize, info.maxsize or 0, info.hits, info.misses)
            elif kind.__module__ == "asyncpg.connection" and kind.__name__ == "_StatementCache":
                add("asyncpg statements (all connections)", len(obj._entries), obj._max_size)
                add("asyncpg connections with a statement cache", 1, 0)
            elif kind.__module__ == "jinja2.utils" and kind.__name__ == "LRUCache":
                add("jinja2 LRUCache", len(obj), obj.capacity)
        page_cache = sys.modules.get("events.page_cache")
        if page_cache is not None:  # its pages by path and language: each a kept page, or one in a _Page
            pages = getattr(page_cache, "_pages", None) or getattr(page_cache, "_kept", None) or {}
            bodies = [getattr(getattr(page, "kept", page), "body", "") for page in pages.values()]
            add("events.page_cache pages", len(pages), getattr(page_cache, "MAX_PAGES", 0))
            add("events.page_cache kB", sum(sys.getsizeof(body) for body in bodies) // 1024, getattr(page_cache, "MAX_BYTES", 0) // 1024)
        for size, kind_name, items in sorted(largest, reverse=True)[:8]:
            add(f"largest {kind_name} of {items} items: kB", size // 1024, 0)
        return caches, dict(types)

    def _write() -> None:
        """One line; an error here goes into the line, never into the code this signal interrupted (a request's
        database round trip, say, which it would break)."""
        base = os.path.join(_DIRECTORY, str(os.getpid()))
        line: dict[str, Any] = {"k": _state["written"], "at": time.time(), "rss_kb": _rss_kb(), "pymalloc_blocks": sys.getallocatedblocks()}
        try:
            _measure(line, base)
        except Exception as exc:  # noqa: BLE001 - reported in the line
            line["error"] = f"{type(exc).__name__}: {exc}"
        with open(f"{base}.jsonl", "a") as out:
            out.write(json.dumps(line) + "\n")
        _state["written"] += 1

    def _measure(line: dict[str, Any], base: str) -> None:
        if _mallinfo2 is not None:
            heap = _mallinfo2()
            line.update({"malloc_heap": heap.arena, "malloc_in_use": heap.uordblks, "malloc_free": heap.fordblks, "malloc_mapped": heap.hblkhd})
            line["malloc_arenas"] = _malloc_arenas()
        line.update(_pymalloc())
        line["caches"], line["types"] = _caches()
        if tracemalloc.is_tracing():
            line.update({"traced": tracemalloc.get_traced_memory()[0], "tracemalloc_overhead": tracemalloc.get_tracemalloc_memory()})
            snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            snapshot.dump(f"{base}-{line['k']}.snapshot")
            del snapshot
        elif _FRAMES > 0:
            tracemalloc.start(_FRAMES)

    def _signalled(signum: int, frame: object) -> None:
        _state["pending"] += 1
        if _state["busy"]:
            return  # one at a time (a snapshot can take seconds): the one answering answers this one after
        _state["busy"] = True
        try:
            while _state["pending"]:
                _state["pending"] -= 1
                with contextlib.suppress(Exception):  # never into the code the signal interrupted
                    _write()
        finally:
            _state["busy"] = False

    signal.signal(signal.SIGUSR1, _signalled)
