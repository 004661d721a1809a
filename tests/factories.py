"""Test data built through the same services the app uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from events.catalogue import service
from events.catalogue.schemas import EventCreate, PartnerIn, ShareIn, TicketTypeIn
from events.organisations import service as organisations


async def _organisation_id(organisation: str | None) -> int:
    """The named organisation, or the only one (the default a clean test database has)."""
    return (await organisations.resolve(organisation)).id


async def make_partner(slug: str = "welcome-kitchen", name: str | None = None, *, organisation: str | None = None) -> None:
    await service.create_partner(
        PartnerIn(slug=slug, name=name or slug.replace("-", " ").title()), organisation_id=await _organisation_id(organisation)
    )


def event_payload(now: datetime, **changes: Any) -> dict[str, Any]:
    """A JSON body for POST /api/events: a supper club a month from now."""
    starts = (now + timedelta(days=30)).replace(microsecond=0)
    payload: dict[str, Any] = {
        "slug": "supper-club",
        "title": "Supper Club",
        "description": "Three courses cooked by refugee chefs.",
        "venue": "Community Hall",
        "address": "1 High Street, London",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": 40,
        "reserved_free_places": 20,
        "status": "on_sale",
        "ticket_types": [{"name": "Supper", "price_pence": 3000, "max_per_order": 6}],
        "beneficiaries": [{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}],
    }
    payload.update(changes)
    return payload


async def make_event(now: datetime, *, organisation: str | None = None, **changes: Any) -> str:
    """Create an on-sale event (and its partners) directly through the service, in ``organisation`` (default: the
    only one); return its slug."""
    payload = event_payload(now, **changes)
    for share in payload["beneficiaries"]:
        from events.catalogue.tables import Partner

        if not await Partner.exists().where(Partner.slug == share["partner"]):
            await make_partner(share["partner"], organisation=organisation)
    data = EventCreate(
        **{
            **payload,
            "starts_at": datetime.fromisoformat(payload["starts_at"]),
            "ends_at": datetime.fromisoformat(payload["ends_at"]),
            "ticket_types": [
                TicketTypeIn(
                    **{
                        **t,
                        **{k: datetime.fromisoformat(t[k]) for k in ("sales_start", "sales_end") if t.get(k)},
                    }
                )
                for t in payload["ticket_types"]
            ],
            "beneficiaries": [ShareIn(**b) for b in payload["beneficiaries"]],
        }
    )
    event = await service.create_event(data, now, organisation_id=await _organisation_id(organisation))
    return event.slug
