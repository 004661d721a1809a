"""The accessibility test helper itself: contrast arithmetic, and a missing axe-core fails in CI instead of skipping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import accessibility


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert accessibility.contrast_ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert accessibility.contrast_ratio("rgb(255, 255, 255)", "rgb(255, 255, 255)") == pytest.approx(1)
    # #767676 is the lightest grey that passes 4.5:1 on white; alpha is ignored.
    assert accessibility.contrast_ratio("rgba(118, 118, 118, 0.5)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


@pytest.fixture
def no_axe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr(accessibility, "AXE_SCRIPT", tmp_path / "node_modules" / "axe-core" / "axe.min.js")
    accessibility.axe_source.cache_clear()
    yield
    accessibility.axe_source.cache_clear()


def test_a_missing_axe_fails_when_browser_tests_are_required(no_axe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TEST_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="make install-dev"):
        accessibility.axe_source()


def test_a_missing_axe_skips_on_a_developer_machine(no_axe: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTS_TEST_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="axe-core is not installed"):
        accessibility.axe_source()


def test_the_installed_axe_is_the_pinned_version() -> None:
    lock = json.loads((accessibility.AXE_PACKAGE / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/axe-core"]["version"]
    assert json.loads((accessibility.AXE_PACKAGE / "package.json").read_text(encoding="utf-8"))["dependencies"]["axe-core"] == pinned
    if accessibility.AXE_SCRIPT.is_file():
        assert accessibility.axe_version() == pinned
