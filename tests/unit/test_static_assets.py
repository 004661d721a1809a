"""Static files' versioned URLs: the hash follows the file's content, and only the current hash is cached for a year."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from events.config import PROJECT_ROOT
from events.static_assets import IMMUTABLE, REVALIDATE, StaticFiles

# A URL of a static file written into a template, rather than asked of static_url(): quoted, after an attribute or
# anywhere else (a srcset, an inline style, a script's string).
UNVERSIONED = re.compile(r"""["'(=\s]/static/""")


@pytest.fixture
def static(tmp_path: Path) -> StaticFiles:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: black; }")
    return StaticFiles(tmp_path)


def version_in(url: str) -> str:
    found = re.fullmatch(r"/static/css/site\.css\?v=([0-9a-f]+)", url)
    assert found, url
    return found.group(1)


def test_a_url_carries_a_hash_of_the_content_and_changes_with_it(static: StaticFiles) -> None:
    first = static.url("css/site.css")
    assert static.url("/static/css/site.css") == first  # with or without the prefix
    file = static.directory / "css" / "site.css"
    file.write_text("body { color: navy; }")
    os.utime(file, ns=(1, 1))  # even within the same clock tick as the first write
    second = static.url("css/site.css")
    assert version_in(second) != version_in(first)
    # The same content, the same URL: a deploy that changes nothing keeps every browser's copy.
    file.write_text("body { color: black; }")
    os.utime(file, ns=(2, 2))
    assert static.url("css/site.css") == first


def test_a_missing_file_or_one_outside_the_directory_is_a_mistake(static: StaticFiles) -> None:
    with pytest.raises(LookupError):
        static.url("css/missing.css")
    (static.directory.parent / "secret.txt").write_text("not a static file")
    with pytest.raises(LookupError):
        static.url("../secret.txt")


def test_only_the_current_version_is_kept_for_a_year(static: StaticFiles) -> None:
    current = version_in(static.url("css/site.css"))
    assert static.cache_control("/static/css/site.css", f"v={current}".encode()) == IMMUTABLE
    assert static.cache_control("/static/css/site.css", b"") == REVALIDATE  # unversioned: checked each time
    assert static.cache_control("/static/css/site.css", b"v=0123456789ab") == REVALIDATE  # an old page's version
    assert static.cache_control("/static/css/missing.css", f"v={current}".encode()) == REVALIDATE


def test_every_template_names_its_static_files_through_static_url() -> None:
    """A template that writes /static/... itself would be cached without a version: a new deploy's file would not
    reach browsers that kept the old one, or be kept at all. Use {{ static_url('js/file.js') }}."""
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((PROJECT_ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if UNVERSIONED.search(line)
    ]
    assert found == [], "Static URLs not made by static_url():\n" + "\n".join(found)


def test_every_static_url_in_the_templates_names_a_file() -> None:
    static = StaticFiles(PROJECT_ROOT / "static")
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        for name in re.findall(r"""static_url\(\s*['"]([^'"]+)['"]\s*\)""", path.read_text(encoding="utf-8")):
            assert static.version(name) is not None, f"{path.relative_to(PROJECT_ROOT)} names {name}, which is not in static/"
