"""Browser tests fail on any Content-Security-Policy violation a page reports while they run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import csp


@pytest.fixture(autouse=True)
def no_content_security_policy_violations() -> Iterator[None]:
    csp.take()
    yield
    violations = csp.take()
    assert violations == [], "The pages broke the Content-Security-Policy:\n" + "\n".join(violations)
