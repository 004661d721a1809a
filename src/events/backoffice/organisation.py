"""The organisation's settings in the back office: an owner changes its details or its logo, and each change is
recorded in the audit log (with the fields it changed) in the same transaction. Here, not in organisations/:
the audit log is a layer above organisations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from events import db
from events.audit import service as audit
from events.errors import InvalidInput
from events.organisations import rules
from events.organisations import service as organisations
from events.organisations.service import OrganisationRow

# The details the audit log compares, as the form names them.
AUDITED_FIELDS = ("name", "contact_email", "accent_colour", "charity_name", "charity_number", "gift_aid_reference", "whatsapp_enabled")


def _audited(organisation: OrganisationRow) -> dict[str, Any]:
    return {name: getattr(organisation, name) for name in AUDITED_FIELDS}


async def update_organisation(
    organisation_id: int, details: rules.OrganisationDetails, *, whatsapp_available: bool, now: datetime
) -> OrganisationRow:
    """Save the details (refused whole, with a message per field, when any rule is broken) and log what changed.
    While the service cannot send WhatsApp (``whatsapp_available``), WhatsApp cannot be turned on and the stored
    choice stands."""
    async with db.write_transaction():
        before = await organisations.by_id(organisation_id)
        whatsapp = rules.whatsapp_choice(details.whatsapp_enabled, before.whatsapp_enabled, available=whatsapp_available)
        if whatsapp is None:
            raise InvalidInput(rules.WHATSAPP_UNAVAILABLE, fields={"whatsapp_enabled": rules.WHATSAPP_UNAVAILABLE})
        after = await organisations.update_details(organisation_id, replace(details, whatsapp_enabled=whatsapp))
        old, new = audit.changed_fields(_audited(before), _audited(after))
        if new:
            await audit.record(
                "organisation.updated",
                now=now,
                subject_type="organisation",
                subject_id=organisation_id,
                before=old,
                after=new,
                organisation_id=organisation_id,
            )
    return after


async def change_logo(organisation_id: int, data: bytes | None, *, now: datetime) -> None:
    """Replace the logo with ``data`` (a PNG or JPEG of at most 256 KB, else refused with nothing changed), or
    remove it (None), and log it. The log keeps the logo's type and size, not the picture."""
    async with db.write_transaction():
        before = await organisations.by_id(organisation_id)
        if data is None and not before.has_logo:
            return
        await organisations.set_logo(organisation_id, data)
        after = f"{rules.logo_content_type(data)}, {len(data)} bytes" if data is not None else ""
        await audit.record(
            "organisation.updated",
            now=now,
            subject_type="organisation",
            subject_id=organisation_id,
            before={"logo": before.logo_content_type},
            after={"logo": after},
            organisation_id=organisation_id,
        )


async def change_widget_origins(organisation_id: int, value: str, *, now: datetime) -> OrganisationRow:
    """Replace the websites that may frame the organisation's ticket form (refused whole, with nothing changed, when
    one is not an origin) and log the change: who may frame the payment form is a security setting."""
    async with db.write_transaction():
        before = await organisations.by_id(organisation_id)
        after = await organisations.set_widget_origins(organisation_id, value)
        if after.widget_origins != before.widget_origins:
            await audit.record(
                "organisation.updated",
                now=now,
                subject_type="organisation",
                subject_id=organisation_id,
                before={"widget_origins": before.widget_origins},
                after={"widget_origins": after.widget_origins},
                organisation_id=organisation_id,
            )
    return after
