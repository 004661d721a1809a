"""Versioned URLs for the files under /static/, and the caching headers that let a browser keep them for a year.

A page names a static file through the `static_url()` template global, which appends a hash of the file's content
(`/static/css/site.css?v=3f2a9c81d0e4`). A request that carries the hash of the file as it is now is answered with
`Cache-Control: public, max-age=31536000, immutable`: the browser never asks again, and a new deploy that changes the
file changes its URL. Any other request for a static file (no `v`, or an old page's hash after a deploy; and the
modules door.js imports by their plain paths) is `no-cache`: the browser keeps it, but checks it (with its ETag) first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

STATIC_PREFIX = "/static/"
VERSION_PARAMETER = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_HASH_LENGTH = 12  # 48 bits of SHA-256: enough that two versions of one file never share a URL
MAX_RESOLVED = 4096


class StaticFiles:
    """The hashes of the static directory's files, worked out once per version of each file (its size and modification
    time), so that a file changed on disk while the server runs (in development) gets a new URL at once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self._hashes: dict[Path, tuple[tuple[int, int], str]] = {}
        # Each name a page gives, resolved once (None: outside the directory): resolving walks every part of the path
        # with a system call, and a page names several files every time it is shown. Bounded by the names in the
        # templates, and by MAX_RESOLVED for names that came from elsewhere (a request's path).
        self._resolved: dict[str, Path | None] = {}

    def _file(self, path: str) -> Path | None:
        file = self._resolved.get(path)
        if file is None and path not in self._resolved:
            resolved = (self.directory / path).resolve()
            file = resolved if resolved.is_relative_to(self.directory) else None
            if len(self._resolved) < MAX_RESOLVED:
                self._resolved[path] = file
        return file

    def version(self, path: str) -> str | None:
        """The content hash of the file at ``path`` (relative to the static directory), or None if there is none."""
        file = self._file(path)
        if file is None:
            return None
        try:
            stat = file.stat()
        except OSError:
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._hashes.get(file)
        if known is not None and known[0] == key:
            return known[1]
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:_HASH_LENGTH]
        self._hashes[file] = (key, digest)
        return digest

    def url(self, path: str) -> str:
        """`/static/<path>?v=<hash>` for a file of the static directory (``path`` with or without its leading /static/).
        A name with no file is a mistake in a template: it fails loudly rather than render a link that 404s."""
        relative = path.removeprefix(STATIC_PREFIX).lstrip("/")
        version = self.version(relative)
        if version is None:
            raise LookupError(f"No static file {relative!r} in {self.directory}")
        return f"{STATIC_PREFIX}{relative}?{VERSION_PARAMETER}={version}"

    def cache_control(self, path: str, query_string: bytes) -> str:
        """The Cache-Control for a request of ``path`` (under /static/) with this query string."""
        asked = parse_qs(query_string.decode("latin-1")).get(VERSION_PARAMETER, [])
        current = self.version(path.removeprefix(STATIC_PREFIX))
        return IMMUTABLE if current is not None and asked == [current] else REVALIDATE

    def caching_headers(self) -> Callable[[Message, Scope], Awaitable[None]]:
        """A `before_send` hook setting Cache-Control on every successful answer under /static/."""

        async def add_caching_headers(message: Message, scope: Scope) -> None:
            if message["type"] != "http.response.start" or message["status"] not in (200, 304):
                return
            path = scope.get("path", "")
            if not path.startswith(STATIC_PREFIX):
                return
            headers = MutableScopeHeaders.from_message(message)
            headers["Cache-Control"] = self.cache_control(path, scope.get("query_string", b""))

        return add_caching_headers
