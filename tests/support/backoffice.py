"""Helpers for the organiser's back-office pages: signing in and posting forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from events.accounts import service as accounts
from tests.integration.accounts.test_login import sign_in

ORGANISER_EMAIL = "boss@test.example"
ORGANISER_PASSWORD = "a long password"


async def sign_in_organiser(client: httpx.AsyncClient) -> None:
    await accounts.create_user(ORGANISER_EMAIL, role="organiser", password=ORGANISER_PASSWORD, display_name="Sam Organiser")
    response = await sign_in(client, ORGANISER_EMAIL, ORGANISER_PASSWORD)
    assert response.status_code == 303


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, Any], *, page: str = "/manage") -> httpx.Response:
    """Open the page, then submit one of its forms to ``path`` with the page's CSRF token, as a browser would."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    match = re.search(r'name="_csrf_token" value="([^"]+)"', opened.text)
    assert match, f"{page} carries a CSRF token"
    return await client.post(path, data={**data, "_csrf_token": match.group(1)})


def event_form(**changes: str) -> dict[str, str]:
    """The event form as an organiser fills it in for the August supper club (times at the venue, London)."""
    form = {
        "title": "August Supper Club",
        "slug": "",
        "description": "Three courses cooked by refugee chefs.",
        "venue": "Community Hall",
        "address": "1 High Street, London",
        "timezone": "Europe/London",
        "starts_at": "2031-08-15T19:00",
        "ends_at": "2031-08-15T22:30",
        "capacity": "60",
        "reserved_free_places": "10",
        "booking_fee": "0.50",
        "pay_it_forward_place": "25",
        "cost_per_attendee": "4",
        "booking_fees_to": "cause",
    }
    form.update(changes)
    return form
