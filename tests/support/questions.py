"""Helpers for the questions' tests: an event's questions set up through the organiser's API."""

from __future__ import annotations

from typing import Any

import httpx


async def add_question(client: httpx.AsyncClient, slug: str, organiser: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/events/{slug}/questions", json=body, headers=organiser)
    assert response.status_code == 201, response.text
    return response.json()


async def add_dietary(client: httpx.AsyncClient, slug: str, organiser: dict[str, str], **body: Any) -> dict[str, Any]:
    return await add_question(client, slug, organiser, preset="dietary", **body)


async def add_course(client: httpx.AsyncClient, slug: str, organiser: dict[str, str], **body: Any) -> dict[str, Any]:
    """A required one-choice question asked of each guest: "Main course", lamb or aubergine."""
    return await add_question(
        client, slug, organiser, **{"kind": "one_choice", "label": "Main course", "options": ["Lamb", "Aubergine"], "required": True, **body}
    )
