"""Running the service (the platform admin's page, and the `events org` commands): every organisation with how
many people and events it has, creating one (with an invitation for its first owner), suspending one. Here, not in
organisations/: the counts read the accounts' and catalogue's tables, and the audit log is a layer above both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from piccolo.query.functions.aggregate import Count

from events import db
from events.accounts.roles import OWNER, CurrentUser
from events.accounts.tables import Membership
from events.audit import service as audit
from events.backoffice import invitations
from events.backoffice.invitations import InvitationRequest
from events.catalogue.tables import Event
from events.organisations import rules, service
from events.organisations.service import OrganisationRow


@dataclass(frozen=True, slots=True)
class OrganisationSummary:
    organisation: OrganisationRow
    members: int  # active memberships, paired door phones included
    events: int


async def overview() -> list[OrganisationSummary]:
    """Every organisation, by name, with its counts."""
    members = (
        await Membership.select(Membership.organisation, Count(Membership.id, alias="n"))
        .where(Membership.deactivated_at.is_null())
        .group_by(Membership.organisation)
    )
    events = await Event.select(Event.organisation, Count(Event.id, alias="n")).group_by(Event.organisation)
    member_counts = {row["organisation"]: row["n"] for row in members}
    event_counts = {row["organisation"]: row["n"] for row in events}
    return [
        OrganisationSummary(organisation, member_counts.get(organisation.id, 0), event_counts.get(organisation.id, 0))
        for organisation in await service.all_organisations()
    ]


async def create(
    slug: str,
    details: rules.OrganisationDetails,
    *,
    owner_email: str = "",
    admin: CurrentUser | None,
    client: str,
    locale: str,
    now: datetime,
) -> OrganisationRow:
    """A new organisation; with ``owner_email``, that person is invited as its first owner (in the same
    transaction: no organisation is made whose invitation failed)."""
    async with db.write_transaction():
        organisation = await service.create_organisation(slug, details)
        await audit.record(
            "organisation.created",
            now=now,
            organisation_id=organisation.id,
            actor=admin,
            after={"slug": organisation.slug, "name": organisation.name},
        )
        if owner_email.strip():
            await invitations.invite(organisation.id, InvitationRequest(owner_email, OWNER), invited_by=admin, client=client, locale=locale, now=now)
    return organisation


async def set_suspended(slug: str, *, suspended: bool, admin: CurrentUser | None, now: datetime) -> OrganisationRow:
    """Suspend an organisation (its pages and events 404, its people cannot act for it) or lift that."""
    async with db.write_transaction():
        before = await service.find(slug)
        organisation = await service.set_suspended(slug, suspended=suspended, now=now)
        if before.suspended != organisation.suspended:
            await audit.record(
                "organisation.suspended" if suspended else "organisation.unsuspended",
                now=now,
                organisation_id=organisation.id,
                actor=admin,
                before={"suspended": before.suspended},
                after={"suspended": organisation.suspended},
            )
    return organisation
