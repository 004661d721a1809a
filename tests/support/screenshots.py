"""Page screenshots (the pictures a person looks at after a browser test) that a busy machine does not fail.

Chromium sometimes answers a capture with "Unable to capture screenshot" when its compositor has no frame ready in
time: a clean-clone CI run (7 December, load average about 11 on 2 cores) failed a guest's purchase that way, after
every check of the test had passed. The capture is tried again after a moment; any other error, or the same one a
third time, fails the test as before."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

NOT_CAPTURED = "Unable to capture screenshot"
TRIES = 3
PAUSE_SECONDS = 1.0


def retrying(screenshot: Callable[..., Awaitable[bytes]]) -> Callable[..., Awaitable[bytes]]:
    @functools.wraps(screenshot)
    async def capture(page: Any, *args: Any, **kwargs: Any) -> bytes:
        for attempt in range(1, TRIES + 1):
            try:
                return await screenshot(page, *args, **kwargs)
            except PlaywrightError as error:
                if NOT_CAPTURED not in str(error) or attempt == TRIES:
                    raise
                await asyncio.sleep(PAUSE_SECONDS)
        raise AssertionError("unreachable")

    return capture


@contextmanager
def captured_on_a_busy_machine() -> Iterator[None]:
    """Every page screenshot taken inside the block is tried again when Chromium had no frame ready."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Page, "screenshot", retrying(Page.screenshot))
        yield
